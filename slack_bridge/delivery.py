"""Slack → Parlant: operators' messages delivered to the customer, in order, exactly once.

Every message is stored (``pending``) before anything else happens, keyed by its Slack id,
and checked against the operator rules (``operators``) and the case's owner before it is
delivered, so Slack's retries and duplicate deliveries are dropped and a restart resumes
the queue. A reply that looks meant for colleagues, or one written while another operator
owns the case, is held (``held: …``) until its author chooses (``send_held``).
Each session has one worker delivering its messages in order; while Parlant is down it
keeps retrying (the operator is told once) and nothing is lost. A message that was pending
at start-up is first looked for in Parlant (the bridge may have stopped between
delivering and recording it), so it is never delivered twice.
"""

import asyncio
import collections
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from slack_bridge.errors import ParlantRejected, ParlantUnavailable
from slack_bridge.formatting import decode_slack_text, inert, mentioned_users
from slack_bridge.held_notices import held_as_internal, held_for_owner
from slack_bridge.ids import ChannelId, EventId, EventSource, SessionId, Ts, UserId, ts_key
from slack_bridge.inbound_messages import internal_reason
from slack_bridge.notices import (
    CORRECTED,
    DELIVERED,
    DELIVERED_AS_AI,
    HELD_AS_INTERNAL_MARK,
    HELD_BACK,
    HELD_FOR_OWNER_MARK,
    OperatorNotices,
)
from slack_bridge.operators import REFUSALS, OperatorGate, Verdict
from slack_bridge.parlant_client import ParlantClient
from slack_bridge.posts import Post
from slack_bridge.retry import Backoff
from slack_bridge.slack_poster import SlackPoster
from slack_bridge.store import (
    HELD_AS_INTERNAL,
    HELD_FOR_OWNER,
    THREAD_ORIGIN,
    Conversation,
    HandoffStore,
    OperatorMessage,
)
from slack_bridge.thread_lines import BRIDGE_METADATA_KEY
from slack_bridge.users import UserDirectory

logger = logging.getLogger(__name__)

UNEXPECTED_FAILURE_SECONDS = 5.0


def held_key(message: OperatorMessage) -> str:
    """What the buttons of a held message carry to find it again."""
    return f"{message.channel}|{message.ts}"


def parse_held_key(key: str) -> tuple[ChannelId, Ts] | None:
    channel, separator, ts = key.partition("|")
    return (ChannelId(channel), Ts(ts)) if separator and channel and ts else None


def _later_in_thread(queued: OperatorMessage, message: OperatorMessage) -> bool:
    """Whether ``queued`` was posted in the thread after ``message`` (Slack ts order)."""
    if queued.origin != THREAD_ORIGIN:
        return False
    return ts_key(queued.ts) > ts_key(message.ts)


class OperatorRelay:
    def __init__(
        self,
        store: HandoffStore,
        parlant: ParlantClient,
        users: UserDirectory,
        notices: OperatorNotices,
        poster: SlackPoster,
        gate: OperatorGate,
        spawn: Callable[[Coroutine[Any, Any, Any], str], Any],
        claimed: Callable[[SessionId], None],
    ) -> None:
        self._claimed = claimed
        """Told when a reply claimed its case (the root message shows the new owner)."""
        self._store = store
        self._gate = gate
        self._parlant = parlant
        self._users = users
        self._notices = notices
        self._poster = poster
        self._spawn = spawn
        self._queues: dict[SessionId, collections.deque[tuple[OperatorMessage, bool]]] = {}
        self._held: dict[SessionId, asyncio.Event] = {}
        """Sessions whose threads are being read for missed replies: deliveries wait, so a
        reply missed while the bridge was away goes out before newer ones."""

    @property
    def busy(self) -> bool:
        """Messages are waiting for (or on their way to) Parlant."""
        return any(self._queues.values())

    def hold(self, sessions: Iterable[SessionId]) -> None:
        """Deliver nothing to these sessions until ``release``: their threads are re-read."""
        for session_id in sessions:
            self._held.setdefault(session_id, asyncio.Event())

    def release(self, session_id: SessionId) -> None:
        held = self._held.pop(session_id, None)
        if held is not None:
            held.set()

    def release_all(self) -> None:
        for session_id in list(self._held):
            self.release(session_id)

    async def submit(self, message: OperatorMessage) -> bool:
        """Queue a message for its customer (or hold it, if it looks internal); ``False`` if
        it was seen before (not queued)."""
        internal = None
        if message.origin == THREAD_ORIGIN and not message.as_ai:
            internal = internal_reason(message.text)
        state = HELD_AS_INTERNAL if internal else "pending"
        if not await self._store.take_operator_message(message, state):
            logger.debug("message %s already taken", message.ts)
            return False
        if internal is not None:
            self._spawn(self._offer_choice(message, internal), "held-internal")
        else:
            self._enqueue(message, resumed=False)
        return True

    async def send_held(self, message: OperatorMessage) -> bool:
        """Its author chose to send a held message after all; ``False`` if it was not held."""
        if not await self._store.unhold(message):
            return False
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
        position = len(queue)
        if message.origin == THREAD_ORIGIN:
            # A reply found late (catch-up, a Slack retry) goes before newer replies still
            # waiting; the head keeps its place only if it may be on its way to Parlant.
            first = 0 if message.session_id in self._held else 1
            while position > first and _later_in_thread(queue[position - 1][0], message):
                position -= 1
        queue.insert(position, (message, resumed))

    async def _work(
        self, session_id: SessionId, queue: collections.deque[tuple[OperatorMessage, bool]]
    ) -> None:
        backoff = Backoff(first=UNEXPECTED_FAILURE_SECONDS, cap=60.0)
        try:
            while queue:
                if (held := self._held.get(session_id)) is not None:
                    await held.wait()
                message, resumed = queue[0]
                try:
                    await self._deliver(message, resumed)
                except Exception:
                    # Unforeseen: keep the message (it is still pending in the store) and retry.
                    logger.exception("delivering %s failed; retrying", message.ts)
                    await backoff.wait()
                    queue[0] = (message, True)  # it may have reached Parlant: look first
                    continue
                backoff.reset()
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
        verdict = await self._gate.check(message.user_id, message.user_team, conversation.channel)
        if not verdict.allowed:
            await self._hold_back(message, verdict)
            return
        # A correction goes to the customer who has the original; the owner's own replies
        # need no claim (read again: the gate may have waited on Slack meanwhile).
        newly_claimed = False
        if message.reply_to is None and not await self._owns(message):
            case = await self._store.claim(message.session_id, message.user_id)
            if case is not None and case.owner != message.user_id:
                await self._hold_for_owner(message, conversation, case.owner)
                return
            newly_claimed = conversation.case.owner is None
        try:
            await self._send(message, conversation, resumed)
        finally:
            # The root shows the new owner once the reply is on its way, not while it is:
            # its edit costs this process CPU that would delay the delivery.
            if newly_claimed:
                self._claimed(message.session_id)

    async def _send(
        self, message: OperatorMessage, conversation: Conversation, resumed: bool
    ) -> None:
        names = await self._users.names(mentioned_users(message.text) | {message.user_id})
        text = decode_slack_text(message.text, names)
        backoff = Backoff()
        # Resumed after a restart, or after a failure whose outcome is unknown (a timeout,
        # a 5xx, a dropped connection after Parlant stored the event): look before posting.
        outcome_unknown = resumed
        while True:
            try:
                if outcome_unknown and (found := await self._find_in_parlant(message)):
                    await self._store.mark_delivered(message, found)
                    if message.origin == THREAD_ORIGIN:
                        await self._confirm(message, conversation, text)
                    return
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
                outcome_unknown = True
                if backoff.failures == 1:  # not a lost answer found at once: say it
                    logger.warning("Parlant unavailable for %s: %s", message.session_id, error)
                    await self._tell(
                        message,
                        conversation,
                        "Parlant is unreachable right now. Your message is queued and will"
                        " reach the customer, in order, as soon as it is back.",
                    )
                await backoff.wait()
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

    async def _owns(self, message: OperatorMessage) -> bool:
        now = await self._store.conversation(message.session_id)
        return now is not None and now.active and now.case.owner == message.user_id

    async def _hold_back(self, message: OperatorMessage, verdict: Verdict) -> None:
        """Not an operator: nothing reaches the customer; the author is told privately."""
        await self._store.mark_dropped(message, f"not an operator ({verdict.value})")
        logger.info("held back %s from %s: %s", message.ts, message.user_id, verdict.value)
        if message.origin == THREAD_ORIGIN:
            await self._notices.react(message.channel, message.ts, HELD_BACK)
        await self._notices.tell(
            message.user_id, message.channel, f"Not sent to the customer. {REFUSALS[verdict]}"
        )

    async def _hold_for_owner(
        self, message: OperatorMessage, conversation: Conversation, owner: UserId | None
    ) -> None:
        """Another operator owns the case: nothing is sent until the author takes over."""
        await self._store.hold(message, HELD_FOR_OWNER)
        logger.info(
            "held %s from %s: %s owns %s", message.ts, message.user_id, owner, conversation.ref
        )
        if message.origin == THREAD_ORIGIN:
            await self._notices.react(message.channel, message.ts, HELD_FOR_OWNER_MARK)
        text, blocks = held_for_owner(conversation.ref, owner or "", held_key(message))
        await self._tell(message, conversation, text, blocks)

    async def _offer_choice(self, message: OperatorMessage, why: str) -> None:
        """A reply that looks meant for colleagues: its author decides where it goes."""
        conversation = await self._store.conversation(message.session_id)
        ref = conversation.ref if conversation is not None else message.session_id
        await self._notices.react(message.channel, message.ts, HELD_AS_INTERNAL_MARK)
        text, blocks = held_as_internal(ref, why, held_key(message))
        await self._tell(message, conversation, text, blocks)

    async def _find_in_parlant(self, message: OperatorMessage) -> EventId | None:
        """The event an earlier attempt created for ``message``, if Parlant has it.

        Raises:
            ParlantUnavailable: Parlant could not be asked.
        """
        for event in await self._parlant.events(message.session_id, 0):
            if event.metadata.get(BRIDGE_METADATA_KEY) == message.ts:
                return EventId(event.id)
        return None

    async def _confirm(
        self, message: OperatorMessage, conversation: Conversation, text: str
    ) -> None:
        if message.reply_to is not None:
            self._spawn(
                self._notices.react(message.channel, message.reply_to, CORRECTED), "receipt"
            )
            return
        if message.origin == THREAD_ORIGIN:
            receipt = DELIVERED_AS_AI if message.as_ai else DELIVERED
            # A courtesy, paced by Slack (Tier 3): never holds up the next delivery.
            self._spawn(self._notices.react(message.channel, message.ts, receipt), "receipt")
            return
        if conversation.channel is not None and conversation.thread_ts is not None:
            note = f":robot_face: *Sent as the AI* by <@{message.user_id}>:\n{inert(text)}"
            self._poster.submit(conversation.channel, conversation.thread_ts, Post(text=note))

    async def _tell(
        self,
        message: OperatorMessage,
        conversation: Conversation | None,
        text: str,
        blocks: Sequence[Block] | None = None,
    ) -> None:
        in_thread = message.origin == THREAD_ORIGIN
        thread_ts = conversation.thread_ts if in_thread and conversation is not None else None
        channel = (
            conversation.channel
            if conversation is not None and conversation.channel is not None
            else ChannelId(message.channel)
        )
        await self._notices.tell(message.user_id, channel, text, thread_ts, blocks)
