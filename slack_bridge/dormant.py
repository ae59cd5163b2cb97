"""Resolved cases kept closed to the AI (``RESOLVED_SESSIONS=operators``) until their
customer writes again: then the session is handed off again and its thread reopens.

Only the session ids are kept in memory; whether the customer wrote is read from Parlant
(the thread's cursor stopped at the resolution), so a message written while the bridge was
down, or while the push stream was away, is found at the next start or reconnection.
"""

import functools
import logging

from agent.handoff_protocol import hand_off_requests
from slack_bridge.errors import ParlantError
from slack_bridge.ids import EventSource, SessionId
from slack_bridge.parlant_client import ParlantClient, ParlantEvent
from slack_bridge.store import HandoffStore
from slack_bridge.threads import ThreadMirror

logger = logging.getLogger(__name__)

WROTE_AGAIN = "The customer wrote again after the case was resolved."
CUSTOMER_SOURCES = frozenset({EventSource.CUSTOMER, EventSource.CUSTOMER_UI})


class DormantCases:
    def __init__(self, store: HandoffStore, parlant: ParlantClient, mirror: ThreadMirror) -> None:
        self._store = store
        self._parlant = parlant
        self._mirror = mirror
        self._sessions: set[SessionId] = set()

    async def load(self) -> None:
        self._sessions = set(await self._store.dormant_sessions())

    def add(self, session_id: SessionId) -> None:
        self._sessions.add(session_id)

    def on_event(self, event: ParlantEvent) -> None:
        """An event from the push stream: a customer message wakes its dormant case."""
        if event.session_id in self._sessions and event.source in CUSTOMER_SOURCES:
            self._wake_in_order(event.session_id)

    def check_all(self) -> None:
        """After a start or a reconnection: wake the cases whose customers wrote meanwhile."""
        for session_id in list(self._sessions):
            self._mirror.run_in_order(session_id, functools.partial(self._check, session_id))

    async def _check(self, session_id: SessionId) -> None:
        conversation = await self._store.conversation(session_id)
        if conversation is None or session_id not in self._sessions:
            return
        try:
            events = await self._parlant.events(session_id, conversation.cursor)
        except ParlantError as error:
            logger.warning("could not read dormant session %s: %s", session_id, error)
            return
        if any(event.source in CUSTOMER_SOURCES for event in events):
            await self._wake(session_id)

    def _wake_in_order(self, session_id: SessionId) -> None:
        self._mirror.run_in_order(session_id, functools.partial(self._wake, session_id))

    async def _wake(self, session_id: SessionId) -> None:
        if session_id not in self._sessions:
            return
        try:
            for request in hand_off_requests(session_id, WROTE_AGAIN):
                await self._parlant.perform(request)
        except ParlantError as error:
            # Stays dormant: the next message, start or reconnection tries again.
            logger.warning("could not hand %s off again: %s", session_id, error)
            return
        self._sessions.discard(session_id)
        await self._store.wake(session_id)
        logger.info("session %s: the customer wrote again; handed off again", session_id)
        self._mirror.request_check(session_id)
