"""Slack requests about a case as a whole: the root message's buttons, the hand-back
modal, and the buttons of the private notice about a held reply."""

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.case_card import (
    CLAIM_ACTION,
    HAND_BACK_ACTION,
    RELEASE_ACTION,
    RESOLVE_ACTION,
    TAKE_OVER_ACTION,
)
from slack_bridge.case_desk import CaseDesk
from slack_bridge.held_notices import KEEP_HELD_ACTION, SEND_HELD_ACTION, TAKE_OVER_HELD_ACTION
from slack_bridge.ids import ChannelId, SessionId, Ts, UserId
from slack_bridge.modals import INSTRUCTION_BLOCK, hand_back_view, instruction_from
from slack_bridge.notices import OperatorNotices
from slack_bridge.store import HandoffStore

CASE_ACTIONS = (CLAIM_ACTION, TAKE_OVER_ACTION, RELEASE_ACTION, HAND_BACK_ACTION, RESOLVE_ACTION)
HELD_ACTIONS = (TAKE_OVER_HELD_ACTION, SEND_HELD_ACTION, KEEP_HELD_ACTION)


class CaseListeners:
    def __init__(
        self, desk: CaseDesk, store: HandoffStore, notices: OperatorNotices, channel: ChannelId
    ) -> None:
        self._desk = desk
        self._store = store
        self._notices = notices
        self._channel = channel

    async def on_case_button(self, body: Mapping[str, Any], client: AsyncWebClient) -> None:
        """A button of the root message: claim, take over, release, hand back, resolve."""
        action = body["actions"][0]
        user = UserId(str(body["user"]["id"]))
        session_id = SessionId(str(action["value"]))
        conversation = await self._store.conversation(session_id)
        # The case's own channel decides who may act (a click may come from the Home tab).
        channel = (
            conversation.channel
            if conversation is not None and conversation.channel is not None
            else ChannelId(str((body.get("channel") or {}).get("id") or self._channel))
        )
        if (refusal := await self._desk.refusal(user, channel)) is not None:
            await self._notices.tell(user, channel, refusal)
            return
        answer: str | None = None
        action_id = action["action_id"]
        if action_id in (CLAIM_ACTION, TAKE_OVER_ACTION):
            take_over = action_id == TAKE_OVER_ACTION
            answer = await self._desk.claim(session_id, user, take_over=take_over)
        elif action_id == RELEASE_ACTION:
            answer = await self._desk.release(session_id, user)
        elif action_id == RESOLVE_ACTION:
            self._desk.resolve(session_id, user, channel)
        elif action_id == HAND_BACK_ACTION:
            if conversation is None or not conversation.active:
                answer = "That session is already back with the AI."
            else:
                view = hand_back_view(session_id, conversation.ref, conversation.customer_name)
                await client.views_open(trigger_id=str(body["trigger_id"]), view=view)
        if answer is not None:
            await self._notices.tell(user, channel, answer, _thread_of(body))

    async def on_hand_back_view(self, body: Mapping[str, Any], ack: AsyncAck) -> None:
        view = body["view"]
        user = UserId(str(body["user"]["id"]))
        conversation = await self._store.conversation(SessionId(str(view["private_metadata"])))
        channel = conversation.channel if conversation is not None else None
        if (refusal := await self._desk.refusal(user, channel)) is not None:
            await ack(response_action="errors", errors={INSTRUCTION_BLOCK: refusal})
            return
        if conversation is None or not conversation.active:
            await ack(
                response_action="errors",
                errors={INSTRUCTION_BLOCK: "This session is already back with the AI."},
            )
            return
        await ack()
        self._desk.hand_back(
            conversation.session_id,
            user,
            conversation.channel or self._channel,
            instruction_from(view["state"]["values"]),
        )

    async def on_held_button(self, body: Mapping[str, Any]) -> None:
        """A button of the private notice about a held reply."""
        action = body["actions"][0]
        await self._desk.settle_held(
            str(action.get("value") or ""),
            UserId(str(body["user"]["id"])),
            body.get("response_url"),
            send=action["action_id"] != KEEP_HELD_ACTION,
        )


def _thread_of(body: Mapping[str, Any]) -> Ts | None:
    message = body.get("message") or {}
    ts = message.get("thread_ts") or message.get("ts")
    return Ts(str(ts)) if ts else None
