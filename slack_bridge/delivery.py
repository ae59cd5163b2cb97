"""Slack → Parlant: operators' messages delivered to the customer, in order, exactly once.

Every message is stored (``pending``) before anything else happens, keyed by its Slack id,
so Slack's retries and duplicate deliveries are dropped and a restart resumes the queue.
Each session has one worker delivering its messages in order; while Parlant is down it
keeps retrying (the operator is told once) and nothing is lost. A message that was pending
at start-up is first looked for in Parlant (the bridge may have stopped between
delivering and recording it), so it is never delivered twice.
"""

import asyncio
import collections
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from slack_bridge.errors import ParlantRejected, ParlantUnavailable
from slack_bridge.formatting import decode_slack_text, escape, mentioned_users
from slack_bridge.ids import ChannelId, EventId, EventSource, SessionId
from slack_bridge.notices import DELIVERED, DELIVERED_AS_AI, OperatorNotices
from slack_bridge.parlant_client import ParlantClient, ParlantEvent
from slack_bridge.slack_poster import Post, SlackPoster
from slack_bridge.store import THREAD_ORIGIN, Conversation, HandoffStore, OperatorMessage
from slack_bridge.threads import BRIDGE_METADATA_KEY
from slack_bridge.users import UserDirectory

logger = logging.getLogger(__name__)

RETRY_SECONDS = (0.5, 1, 2, 4, 8, 10)
UNEXPECTED_FAILURE_SECONDS = 5.0


class OperatorRelay:
    def __init__(
        self,
        store: HandoffStore,
        parlant: ParlantClient,
        users: UserDirectory,
        notices: OperatorNotices,
        poster: SlackPoster,
        spawn: Callable[[Coroutine[Any, Any, Any], str], Any],
    ) -> None:
        self._store = store
        self._parlant = parlant
        self._users = users
        self._notices = notices
        self._poster = poster
        self._spawn = spawn
        self._queues: dict[SessionId, collections.deque[tuple[OperatorMessage, bool]]] = {}

    async def submit(self, message: OperatorMessage) -> bool:
        """Queue a message for its customer; ``False`` if it was seen before (not queued)."""
        if not await self._store.take_operator_message(message):
            logger.debug("message %s already taken", message.ts)
            return False
        if message.origin == THREAD_ORIGIN:
            await self._store.note_operator_activity(message.user_id, message.session_id)
        self._enqueue(message, resumed=False)
        return True

    async def resume(self) -> int:
        """Queue the messages a previous run took but did not deliver."""
        pending = await self._store.pending_operator_messages()
        for message in pending:
            self._enqueue(message, resumed=True)
        return len(pending)

    def _enqueue(self, message: OperatorMessage, *, resumed: bool) -> None:
        queue = self._queues.get(message.session_id)
        if queue is None:
            queue = self._queues[message.session_id] = collections.deque()
            self._spawn(self._work(message.session_id, queue), f"deliver-{message.session_id}")
        queue.append((message, resumed))

    async def _work(
        self, session_id: SessionId, queue: collections.deque[tuple[OperatorMessage, bool]]
    ) -> None:
        try:
            while queue:
                message, resumed = queue[0]
                try:
                    await self._deliver(message, resumed)
                except Exception:
                    # Unforeseen: keep the message (it is still pending in the store) and retry.
                    logger.exception("delivering %s failed; retrying", message.ts)
                    await asyncio.sleep(UNEXPECTED_FAILURE_SECONDS)
                    queue[0] = (message, True)  # it may have reached Parlant: look first
                    continue
                queue.popleft()
        finally:
            del self._queues[session_id]
            if queue:  # cancelled mid-way: the store still has them as pending
                logger.info("%d message(s) for %s left pending", len(queue), session_id)

    async def _deliver(self, message: OperatorMessage, resumed: bool) -> None:
        conversation = await self._store.conversation(message.session_id)
        if conversation is None or not conversation.active:
            await self._store.mark_dropped(message, "not handed off")
            await self._tell(
                message,
                conversation,
                "This session is no longer handed off (it was returned to the AI), so your"
                " message was not sent to the customer.",
            )
            return
        if resumed and (event_id := await self._find_in_parlant(message)) is not None:
            await self._store.mark_delivered(message, event_id)
            return
        names = await self._users.names(mentioned_users(message.text) | {message.user_id})
        text = decode_slack_text(message.text, names)
        failures = 0
        while True:
            try:
                event = await self._parlant.post_message(
                    message.session_id,
                    EventSource.AS_AI if message.as_ai else EventSource.HUMAN_AGENT,
                    text,
                    {"id": message.user_id, "display_name": names[message.user_id]},
                    {
                        BRIDGE_METADATA_KEY: message.ts,
                        "slack_channel": message.channel,
                        "slack_user": message.user_id,
                    },
                )
                break
            except ParlantUnavailable as error:
                if failures == 0:
                    logger.warning("Parlant unavailable for %s: %s", message.session_id, error)
                    await self._tell(
                        message,
                        conversation,
                        "Parlant is unreachable right now. Your message is queued and will"
                        " reach the customer, in order, as soon as it is back.",
                    )
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
            except ParlantRejected as error:
                logger.error("Parlant refused a message for %s: %s", message.session_id, error)
                await self._store.mark_dropped(message, f"rejected {error.status}")
                await self._tell(
                    message,
                    conversation,
                    f"Parlant refused your message ({error.status}); it was not sent.",
                )
                return
        await self._store.mark_delivered(message, event.id)
        await self._confirm(message, conversation, text)

    async def _find_in_parlant(self, message: OperatorMessage) -> EventId | None:
        events: list[ParlantEvent] = await self._retrying(
            lambda: self._parlant.events(message.session_id, 0)
        )
        for event in events:
            if event.metadata.get(BRIDGE_METADATA_KEY) == message.ts:
                return EventId(event.id)
        return None

    async def _retrying(self, call: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        failures = 0
        while True:
            try:
                return await call()
            except ParlantUnavailable:
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1

    async def _confirm(
        self, message: OperatorMessage, conversation: Conversation, text: str
    ) -> None:
        if message.origin == THREAD_ORIGIN:
            receipt = DELIVERED_AS_AI if message.as_ai else DELIVERED
            await self._notices.react(message.channel, message.ts, receipt)
            return
        if conversation.channel is not None and conversation.thread_ts is not None:
            note = f":robot_face: *Sent as the AI* by <@{message.user_id}>:\n{escape(text)}"
            self._poster.submit(conversation.channel, conversation.thread_ts, Post(text=note))

    async def _tell(
        self, message: OperatorMessage, conversation: Conversation | None, text: str
    ) -> None:
        in_thread = message.origin == THREAD_ORIGIN
        thread_ts = conversation.thread_ts if in_thread and conversation is not None else None
        channel = (
            conversation.channel
            if conversation is not None and conversation.channel is not None
            else ChannelId(message.channel)
        )
        await self._notices.tell(message.user_id, channel, text, thread_ts)
