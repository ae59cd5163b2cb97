"""What operators do to a case from Slack: claim, take over, release, hand back, resolve,
and choose what happens to a reply that was held.

Ownership changes are decided by the store (``HandoffStore.claim``), whatever the timing.
Hand-backs and resolutions touch Parlant and the thread, so they run in the session's
thread worker (``ThreadMirror.run_in_order``): their notices land in the thread in order
with the messages around them, and the AI's first reply after a hand-back follows them.
"""

import logging

from agent.handoff_protocol import ApiRequest, close_requests, hand_back_requests
from slack_bridge.case_card import mention
from slack_bridge.cases import CaseState
from slack_bridge.delivery import OperatorRelay, parse_held_key
from slack_bridge.dormant import DormantCases
from slack_bridge.errors import ParlantError
from slack_bridge.formatting import quote
from slack_bridge.held_notices import settled
from slack_bridge.ids import ChannelId, SessionId, UserId
from slack_bridge.notices import (
    HELD_AS_INTERNAL_MARK,
    HELD_FOR_OWNER_MARK,
    NOTE_KEPT,
    OperatorNotices,
)
from slack_bridge.operators import REFUSALS, OperatorGate
from slack_bridge.parlant_client import ParlantClient
from slack_bridge.store import (
    HELD_FOR_OWNER,
    THREAD_ORIGIN,
    Conversation,
    HandoffStore,
    StoredMessage,
)
from slack_bridge.threads import ThreadMirror

logger = logging.getLogger(__name__)

NOT_HANDED_OFF = "That case is no longer handed off: it is back with the AI or resolved."


class CaseDesk:
    def __init__(
        self,
        store: HandoffStore,
        parlant: ParlantClient,
        mirror: ThreadMirror,
        relay: OperatorRelay,
        notices: OperatorNotices,
        gate: OperatorGate,
        dormant: DormantCases,
        *,
        resolved_to_ai: bool,
    ) -> None:
        self._dormant = dormant
        self._resolved_to_ai = resolved_to_ai
        self._store = store
        self._parlant = parlant
        self._mirror = mirror
        self._relay = relay
        self._notices = notices
        self._gate = gate

    async def refusal(self, user: UserId, channel: ChannelId | None) -> str | None:
        """Why ``user`` may not act for the customers of ``channel``, or ``None``."""
        verdict = await self._gate.check(user, channel=channel)
        return None if verdict.allowed else f"Nothing was done. {REFUSALS[verdict]}"

    # ---- ownership -------------------------------------------------------------------

    async def claim(self, session_id: SessionId, user: UserId, *, take_over: bool) -> str | None:
        """Claim (or take over) the case; a private answer for ``user``, ``None`` if done."""
        before = await self._store.conversation(session_id)
        if before is None or not before.active:
            return NOT_HANDED_OFF
        if before.case.owner == user:
            return f"You already own `{before.ref}`."
        case = await self._store.claim(session_id, user, take_over=take_over)
        if case is None or case.owner != user:
            owner = case.owner if case is not None else None
            if owner is None:
                return NOT_HANDED_OFF
            return f"{mention(owner)} already owns `{before.ref}`. Use *Take over* to own it."
        self._mirror.show_case(session_id)
        previous = before.case.owner
        if previous is not None and before.channel is not None:
            await self._notices.tell(
                previous,
                before.channel,
                f"{mention(user)} took over `{before.ref}`; your replies there are held from now.",
                before.thread_ts,
            )
        return None

    async def release(self, session_id: SessionId, user: UserId) -> str | None:
        conversation = await self._store.conversation(session_id)
        if conversation is None or not conversation.active:
            return NOT_HANDED_OFF
        if not await self._store.release(session_id, user):
            return f"Only the operator who owns `{conversation.ref}` can release it."
        self._mirror.show_case(session_id)
        return None

    # ---- ending the handoff ----------------------------------------------------------

    def hand_back(
        self, session_id: SessionId, user: UserId, channel: ChannelId, instruction: str | None
    ) -> None:
        """Return the session to the AI, which answers at once following ``instruction``."""

        async def job() -> None:
            conversation = await self._store.conversation(session_id)
            if conversation is None or not conversation.active:
                await self._notices.tell(user, channel, NOT_HANDED_OFF)
                return
            if not await self._return_to_ai(conversation, user, channel):
                return
            notice = f":leftwards_arrow_with_hook: *Returned to the AI* by {mention(user)}"
            if instruction:
                notice += ", with this instruction:\n" + "\n".join(quote(instruction))
            notice += (
                "\nReplies here no longer reach the customer; this thread follows the"
                " conversation until the case is resolved."
            )
            await self._mirror.change_case(conversation, CaseState.WITH_AI, user, notice)
            await self._let_ai_speak(conversation, user, channel, instruction)

        self._mirror.run_in_order(session_id, job)

    def resolve(self, session_id: SessionId, user: UserId, channel: ChannelId) -> None:
        """End the case: the thread stops following; the session returns to the AI, or
        (``RESOLVED_SESSIONS=operators``) stays closed to it until the customer writes."""

        async def job() -> None:
            conversation = await self._store.conversation(session_id)
            if conversation is None or not conversation.mirrored:
                await self._notices.tell(user, channel, "That case is already resolved.")
                return
            if self._resolved_to_ai:
                if conversation.active and not await self._return_to_ai(
                    conversation, user, channel
                ):
                    return
                after = "The customer is with the AI"
            else:
                if not await self._close_to_ai(conversation, user, channel):
                    return
                after = "The AI stays silent; if the customer writes again, the case reopens here"
            await self._mirror.change_case(
                conversation,
                CaseState.RESOLVED,
                user,
                f":white_check_mark: *Resolved* by {mention(user)}. {after};"
                " this thread no longer follows the conversation. A new handoff reopens it.",
                dormant=not self._resolved_to_ai,
            )
            if not self._resolved_to_ai:
                self._dormant.add(session_id)

        self._mirror.run_in_order(session_id, job)

    async def _return_to_ai(
        self, conversation: Conversation, user: UserId, channel: ChannelId
    ) -> bool:
        requests = hand_back_requests(conversation.session_id, instruction=None, speak=False)
        return await self._perform(requests, conversation, user, channel)

    async def _close_to_ai(
        self, conversation: Conversation, user: UserId, channel: ChannelId
    ) -> bool:
        requests = close_requests(conversation.session_id)
        return await self._perform(requests, conversation, user, channel)

    async def _perform(
        self,
        requests: list[ApiRequest],
        conversation: Conversation,
        user: UserId,
        channel: ChannelId,
    ) -> bool:
        try:
            for request in requests:
                await self._parlant.perform(request)
        except ParlantError as error:
            logger.warning("%s failed: %s", requests[0].what, error)
            await self._notices.tell(
                user,
                channel,
                f"Parlant is unreachable; nothing was changed in `{conversation.ref}`. Try again.",
            )
            return False
        return True

    async def _let_ai_speak(
        self, conversation: Conversation, user: UserId, channel: ChannelId, instruction: str | None
    ) -> None:
        """The AI's first reply, at once (Parlant answers once it is written)."""
        *_, speak = hand_back_requests(conversation.session_id, instruction=instruction, speak=True)
        try:
            await self._parlant.perform(speak)
        except ParlantError as error:
            # Not retried: a lost answer may hide a reply already given, and a second one
            # would confuse the customer. The AI still answers their next message.
            logger.warning("the AI could not speak in %s: %s", conversation.session_id, error)
            await self._notices.tell(
                user,
                channel,
                f"`{conversation.ref}` is back with the AI, but it could not answer right now"
                f" ({error.status or 'no answer'}); it answers the customer's next message.",
            )

    # ---- held replies ----------------------------------------------------------------

    async def settle_held(
        self, key: str, user: UserId, response_url: str | None, *, send: bool
    ) -> None:
        """The author of a held reply chose: send it (taking the case over if someone else
        owns it) or keep it in Slack as an internal note."""
        held = await self._held(key, user)
        if isinstance(held, str):
            await self._answer(response_url, held)
            return
        message = held.message
        if not send:
            if await self._store.keep_internal(message):
                await self._unmark(held)
                await self._notices.react(message.channel, message.ts, NOTE_KEPT)
            await self._answer(
                response_url, "Kept as an internal note; the customer never sees it."
            )
            return
        if (refusal := await self.refusal(user, message.channel)) is not None:
            await self._answer(response_url, refusal)
            return
        answer = "Sent to the customer."
        if held.state == HELD_FOR_OWNER:
            taken = await self.claim(message.session_id, user, take_over=True)
            conversation = await self._store.conversation(message.session_id)
            if conversation is None or conversation.case.owner != user:
                await self._answer(response_url, taken or NOT_HANDED_OFF)
                return
            answer = f"You now own `{conversation.ref}`; your reply is on its way."
        await self._unmark(held)
        if not await self._relay.send_held(message):
            answer = "That reply was already sent or kept."
        await self._answer(response_url, answer)

    async def _held(self, key: str, user: UserId) -> StoredMessage | str:
        where = parse_held_key(key)
        held = await self._store.operator_message(*where) if where else None
        if held is None or held.message.user_id != user:
            return "That reply cannot be found."
        if not held.held:
            return "That reply was already sent or kept."
        return held

    async def _unmark(self, held: StoredMessage) -> None:
        mark = HELD_FOR_OWNER_MARK if held.state == HELD_FOR_OWNER else HELD_AS_INTERNAL_MARK
        if held.message.origin == THREAD_ORIGIN:
            await self._notices.unreact(held.message.channel, held.message.ts, mark)

    async def _answer(self, response_url: str | None, text: str) -> None:
        if response_url:
            await self._notices.replace(response_url, *settled(text))
