"""The root message of a handoff thread: posted once, found again, kept showing the case.

Its blocks and fallback text tell the case's state at a glance and carry the buttons
that state allows; a reaction on it mirrors the state. Updating it is a courtesy: a
failure is logged and the next change shows the state again.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.case_card import STATE_REACTIONS, root_message
from slack_bridge.formatting import HandoffSummary
from slack_bridge.ids import ChannelId, SessionId, Ts
from slack_bridge.posts import Post, PostPriority
from slack_bridge.slack_poster import SlackPoster
from slack_bridge.slack_reads import messages
from slack_bridge.store import Conversation, HandoffStore

logger = logging.getLogger(__name__)

ROOT_EVENT_TYPE = "parlant_handoff"
"""Slack message metadata type of root messages, so a thread can be found again."""
ROOT_SEARCH_SLACK_SECONDS = 60.0


def summary(conversation: Conversation) -> HandoffSummary:
    return HandoffSummary(
        session_id=conversation.session_id,
        ref=conversation.ref,
        customer_name=conversation.customer_name,
        reason=conversation.reason,
        requested_at=conversation.requested_at,
    )


class RootCard:
    def __init__(
        self,
        store: HandoffStore,
        poster: SlackPoster,
        client: AsyncWebClient,
        channel: ChannelId,
        changed: Callable[[], None],
        spawn: Callable[[Coroutine[Any, Any, Any], str], Any],
    ) -> None:
        self._spawn = spawn
        self._stale: set[SessionId] = set()
        """Sessions whose root is to be shown again (a refresh for each is under way)."""
        self._locks: dict[SessionId, asyncio.Lock] = {}
        """One edit at a time per root."""
        self._changed = changed
        """Told after every change shown (the live queue follows the root messages)."""
        self._store = store
        self._poster = poster
        self._client = client
        self._channel = channel

    async def post(self, conversation: Conversation, urgency: int = 1) -> Ts | None:
        """Open the thread: post the root message and remember where it is (``urgency``:
        the case's route priority, 0 first)."""
        text, blocks = root_message(summary(conversation), conversation.case)
        metadata = {
            "event_type": ROOT_EVENT_TYPE,
            "event_payload": {"session_id": conversation.session_id},
        }
        channel = conversation.channel or self._channel
        thread_ts = await self._poster.post(
            channel,
            None,
            Post(
                text=text,
                blocks=blocks,
                metadata=metadata,
                priority=PostPriority.ROOT,
                urgency=urgency,
            ),
        )
        if thread_ts is None:
            logger.error("Slack refused the root message of %s", conversation.session_id)
            return None
        await self._store.set_thread(conversation.session_id, channel, thread_ts)
        self._changed()
        opened = await self._store.conversation(conversation.session_id)
        if opened is not None:  # paced by Slack (Tier 3): never holds up the thread
            self._spawn(self._react(opened), "root-reaction")
        return thread_ts

    async def find_or_post(self, conversation: Conversation) -> Ts | None:
        """A root message whose ts was never stored (the bridge stopped right after posting
        it) is found by its metadata instead of being posted twice."""
        found = await self._find(conversation)
        if found is None:
            return await self.post(conversation)
        channel = conversation.channel or self._channel
        await self._store.set_thread(conversation.session_id, channel, found)
        logger.info("found the root message of %s: %s", conversation.ref, found)
        return found

    def show(self, session_id: SessionId) -> None:
        """Edit the root message, soon, to show the case as it is then. Never waits: edits
        are paced by Slack (Tier 3), and several changes meanwhile make one edit."""
        self._changed()
        if session_id in self._stale:
            return
        self._stale.add(session_id)
        self._spawn(self._refresh(session_id), "root-update")

    async def _refresh(self, session_id: SessionId) -> None:
        lock = self._locks.setdefault(session_id, asyncio.Lock())
        try:
            async with lock:  # one edit at a time per root, each showing the newest state
                self._stale.discard(session_id)
                conversation = await self._store.conversation(session_id)
                if conversation is not None:
                    await self._update(conversation)
        finally:
            if not lock.locked() and session_id not in self._stale:
                self._locks.pop(session_id, None)

    async def _update(self, conversation: Conversation) -> None:
        if conversation.channel is None or conversation.thread_ts is None:
            return
        text, blocks = root_message(summary(conversation), conversation.case, now=time.time())
        try:
            await self._client.chat_update(
                channel=conversation.channel, ts=conversation.thread_ts, text=text, blocks=blocks
            )
        except Exception as error:  # SlackApiError, or Slack unreachable
            logger.warning("could not update the root of %s: %s", conversation.ref, _why(error))
        await self._react(conversation)

    async def _react(self, conversation: Conversation) -> None:
        """Swap the state reaction: the new one first, so the root is never without one."""
        if conversation.channel is None or conversation.thread_ts is None:
            return
        wanted = STATE_REACTIONS[conversation.case.state]
        previous = conversation.root_reaction
        if previous == wanted:
            return
        channel, ts = conversation.channel, conversation.thread_ts
        try:
            await self._client.reactions_add(channel=channel, timestamp=ts, name=wanted)
        except SlackApiError as error:
            if error.response.get("error") != "already_reacted":
                logger.warning("could not react on %s: %s", conversation.ref, _why(error))
                return
        except Exception as error:
            logger.warning("could not react on %s: %s", conversation.ref, _why(error))
            return
        await self._store.set_root_reaction(conversation.session_id, wanted)
        if previous is not None:
            try:
                await self._client.reactions_remove(channel=channel, timestamp=ts, name=previous)
            except Exception as error:  # no_reaction after a restart, Slack unreachable
                logger.debug("could not remove %s on %s: %s", previous, conversation.ref, error)

    async def _find(self, conversation: Conversation) -> Ts | None:
        try:
            async for message in messages(
                self._client.conversations_history,
                channel=conversation.channel or self._channel,
                oldest=f"{conversation.opened_at - ROOT_SEARCH_SLACK_SECONDS:.6f}",
                include_all_metadata=True,
            ):
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == ROOT_EVENT_TYPE
                    and payload.get("session_id") == conversation.session_id
                ):
                    return Ts(str(message["ts"]))
            return None
        except SlackApiError as error:
            logger.warning("could not search for the root of %s: %s", conversation.ref, error)
            return None


def _why(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__
