"""Until when the bridge was receiving Slack's events, and catching up on what it missed.

A heartbeat records in the store until when the bridge was listening: at each beat
(``HEARTBEAT_SECONDS``), the moment of the beat, if Slack's events reached the bridge since
the previous beat without a gap (HTTP mode: it ran; Socket Mode: connected at both beats and
no reconnection between them) and no catch-up is still to finish — so the moment never
passes a gap whose replies were not read yet, even if the bridge dies mid-catch-up. After
a start that moment comes from the store (the previous run's last beat); after a Socket
Mode reconnection, from memory. The catch-up then reads only threads with replies newer
than it. One catch-up runs at a time: one asked for meanwhile runs right after, from the
earlier of the two moments.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.catch_up import relay_missed_replies
from slack_bridge.delivery import OperatorRelay
from slack_bridge.store import HandoffStore
from slack_bridge.threads import ThreadMirror

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0


async def _always() -> bool:
    return True


class SlackListening:
    def __init__(
        self,
        client: AsyncWebClient,
        store: HandoffStore,
        relay: OperatorRelay,
        mirror: ThreadMirror,
        spawn: Callable[[Coroutine[Any, Any, Any], str], Any],
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._heartbeat = heartbeat
        self._client = client
        self._store = store
        self._relay = relay
        self._mirror = mirror
        self._spawn = spawn
        self.connected: Callable[[], Awaitable[bool]] = _always
        """Whether Slack's events reach the bridge now (Socket Mode sets its own check)."""
        self._listened_until: float | None = None
        self._running = False
        self._requests = 0
        self._pending = False
        self._pending_since: float | None = None

    async def start(self) -> None:
        """Catch up from the previous run's last heartbeat, then keep the heartbeat."""
        self._listened_until = await self._store.listening_until()
        self.catch_up(self._listened_until)
        self._spawn(self._heartbeat_forever(), "slack-heartbeat")

    def reconnected(self) -> None:
        """Socket Mode delivers nothing while disconnected: look for replies missed meanwhile."""
        self.catch_up(self._listened_until)

    def catch_up(self, since: float | None) -> None:
        """Relay the replies posted after ``since`` (``None``: every reply of every open
        thread) that the bridge never received."""
        # Held at once, before any newer reply can be taken: missed replies go first.
        self._relay.hold(self._mirror.handed_off_sessions)
        self._requests += 1
        if self._pending:
            self._pending_since = _earlier(self._pending_since, since)
        else:
            self._pending, self._pending_since = True, since
        if not self._running:
            self._running = True
            self._spawn(self._run(), "slack-catch-up")

    async def _run(self) -> None:
        try:
            while self._pending:
                since, self._pending = self._pending_since, False
                try:
                    await relay_missed_replies(self._client, self._store, self._relay, since)
                except Exception:
                    logger.exception("could not read open threads for missed replies")
                finally:
                    if not self._pending:  # a catch-up asked for meanwhile keeps its holds
                        self._relay.release_all()
        finally:
            self._running = False

    async def _heartbeat_forever(self) -> None:
        listening_before = False
        requests_before = self._requests
        while True:
            try:
                listening = await self.connected()
                steady = listening_before and listening and self._requests == requests_before
                if steady and not self._running:
                    now = time.time()
                    await self._store.set_listening_until(now)
                    self._listened_until = now
                listening_before, requests_before = listening, self._requests
            except Exception as error:  # the next beat tries again; catch-ups read more
                logger.warning("could not record the heartbeat: %s", type(error).__name__)
                listening_before = False
            await asyncio.sleep(self._heartbeat)


def _earlier(first: float | None, second: float | None) -> float | None:
    if first is None or second is None:
        return None
    return min(first, second)
