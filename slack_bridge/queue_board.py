"""The live queue: the app's Home tab for each operator who opened it, and ``/handoffs``.

Everyone sees only the cases of channels they are an operator of (customer names and
reasons are not for guests). Changes are debounced into one refresh, and a refresh
publishes to every viewer no faster than Slack's ``views.publish`` limit allows (Tier 4,
about 100 a minute): the more viewers, the further apart the refreshes.
"""

import asyncio
import logging
import time
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.ids import ChannelId, Ts, UserId
from slack_bridge.operators import OperatorGate
from slack_bridge.queue_view import LISTED_CASES, QueueEntry, home_view, queue_order, queue_text
from slack_bridge.store import Conversation, HandoffStore

logger = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 2.0
PUBLISHES_PER_SECOND = 1.5
"""Kept under Slack's Tier 4 (100+ a minute) for ``views.publish``."""
NOT_AN_OPERATOR = "The handoff queue is for the support team's operators."


class QueueBoard:
    def __init__(self, client: AsyncWebClient, store: HandoffStore, gate: OperatorGate) -> None:
        self._client = client
        self._store = store
        self._gate = gate
        self._viewers: set[UserId] = set()
        self._permalinks: dict[tuple[ChannelId, Ts], str] = {}
        self._changed = asyncio.Event()

    def changed(self) -> None:
        """Something the queue shows changed: refresh every viewer's Home tab soon."""
        self._changed.set()

    async def opened(self, user: UserId) -> None:
        """``user`` opened the app's Home tab: show them the queue now, and keep it fresh."""
        self._viewers.add(user)
        await self._publish(user, await self._store.conversations(mirrored=True))

    async def answer(self, user: UserId) -> tuple[str, Sequence[Block]]:
        """The queue as a private answer (``/handoffs``)."""
        conversations = await self._store.conversations(mirrored=True)
        # Answered within Slack's 3 seconds: links only as far as they are already known.
        entries = await self._entries_for(user, conversations, fetch_links=False)
        if entries is None:
            return NOT_AN_OPERATOR, []
        shown, more = entries[:LISTED_CASES], max(0, len(entries) - LISTED_CASES)
        return queue_text(shown, time.time(), truncated=more)

    async def run_forever(self) -> None:
        while True:
            await self._changed.wait()
            await asyncio.sleep(DEBOUNCE_SECONDS)
            self._changed.clear()
            if not self._viewers:  # nobody has the Home tab open: nothing to read
                continue
            started = time.monotonic()
            conversations = await self._store.conversations(mirrored=True)
            for user in list(self._viewers):
                await self._publish(user, conversations)
            spacing = len(self._viewers) / PUBLISHES_PER_SECOND
            await asyncio.sleep(max(0.0, spacing - (time.monotonic() - started)))

    async def _publish(self, user: UserId, conversations: list[Conversation]) -> None:
        try:
            entries = await self._entries_for(user, conversations)
            if entries is None:
                view = home_view([], time.time())
                self._viewers.discard(user)
            else:
                shown, more = entries[:LISTED_CASES], max(0, len(entries) - LISTED_CASES)
                view = home_view(shown, time.time(), truncated=more)
            await self._client.views_publish(user_id=user, view=view)
        except SlackApiError as error:
            logger.warning(
                "could not publish the queue to %s: %s", user, error.response.get("error")
            )
        except Exception as error:  # Slack unreachable: the next change publishes again
            logger.warning("could not publish the queue to %s: %s", user, type(error).__name__)

    async def _entries_for(
        self, user: UserId, conversations: list[Conversation], *, fetch_links: bool = True
    ) -> list[QueueEntry] | None:
        """The open cases ``user`` may see, in queue order; ``None`` if none of their
        channels makes them an operator."""
        channels = {c.channel for c in conversations if c.channel is not None}
        allowed = {
            channel
            for channel in channels
            if (await self._gate.check(user, channel=channel)).allowed
        }
        if not allowed and not (await self._gate.check(user)).allowed:
            return None
        visible = [c for c in queue_order(conversations) if c.channel in allowed]
        return [QueueEntry(c, await self._permalink(c, fetch_links)) for c in visible]

    async def _permalink(self, conversation: Conversation, fetch: bool) -> str | None:
        if conversation.channel is None or conversation.thread_ts is None:
            return None
        key = (conversation.channel, conversation.thread_ts)
        if key not in self._permalinks:
            if not fetch:
                return None
            try:
                response = await self._client.chat_getPermalink(
                    channel=conversation.channel, message_ts=conversation.thread_ts
                )
            except Exception as error:  # a courtesy: the list works without links
                logger.debug("no permalink for %s: %s", conversation.ref, error)
                return None
            self._permalinks[key] = str(response["permalink"])
        return self._permalinks[key]
