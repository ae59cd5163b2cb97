"""The Bolt app: what operators do in Slack, turned into work for the relays.

Listeners store what they take, then answer Slack (acks within Slack's 3 seconds), and
hand the slow part to the relays. Catch-all listeners at the end make sure no subscribed
event, action, shortcut or view ever gets a 404 from Bolt.
"""

import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.case_card import REPLY_AS_AI_ACTION
from slack_bridge.case_listeners import CASE_ACTIONS, HELD_ACTIONS, CaseListeners
from slack_bridge.config import BridgeSettings
from slack_bridge.delivery import OperatorRelay
from slack_bridge.edits import EditOutcome, correction, judge_edit, parse_edit
from slack_bridge.formatting import escape, inert_line
from slack_bridge.ids import ChannelId, SessionId, Ts, UserId
from slack_bridge.inbound_messages import Intent, parse_thread_message
from slack_bridge.modals import AS_AI_BLOCK, AS_AI_VIEW, HAND_BACK_VIEW, as_ai_text_from, as_ai_view
from slack_bridge.notices import NOTE_KEPT, OperatorNotices
from slack_bridge.operators import REFUSALS, OperatorGate
from slack_bridge.queue_board import QueueBoard
from slack_bridge.store import COMMAND_ORIGIN, Conversation, HandoffStore, OperatorMessage
from slack_bridge.targets import Refusal, resolve_as_ai

logger = logging.getLogger(__name__)

AS_AI_COMMAND = "/as-ai"
QUEUE_COMMAND = "/handoffs"
AS_AI_SHORTCUT = "reply_as_ai"
EVERYTHING = re.compile(".*")


class BridgeListeners:
    """What the bridge does for each kind of Slack request."""

    def __init__(
        self,
        settings: BridgeSettings,
        store: HandoffStore,
        relay: OperatorRelay,
        notices: OperatorNotices,
        gate: OperatorGate,
        channels: frozenset[ChannelId],
        spawn: Callable[[Coroutine[Any, Any, Any], str], Any],
    ) -> None:
        self._channel = settings.handoff_channel
        self._channels = channels
        """Every channel the bridge opens threads in (the handoff channel and routes')."""
        self._edit_window = settings.edit_window_seconds
        self._gate = gate
        self._spawn = spawn
        self._store = store
        self._relay = relay
        self._notices = notices

    async def _thread_conversation(self, channel: str, thread_ts: str) -> Conversation | None:
        if channel not in self._channels:
            return None
        return await self._store.conversation_by_thread(ChannelId(channel), Ts(thread_ts))

    def _later(self, notice: Coroutine[Any, Any, None]) -> None:
        """A courtesy to an operator, sent after Slack's event is acknowledged."""
        self._spawn(notice, "operator-notice")

    async def _refusal(self, user: UserId, channel: ChannelId | None) -> str | None:
        """Why ``user`` may not act for the customers of ``channel``, or ``None``."""
        verdict = await self._gate.check(user, channel=channel)
        return None if verdict.allowed else f"Nothing was sent. {REFUSALS[verdict]}"

    async def on_message(self, event: Mapping[str, Any]) -> None:
        if event.get("subtype") == "message_changed":
            await self._on_edit(event)
            return
        if event.get("subtype") == "message_deleted":
            await self._on_delete(event)
            return
        reply = parse_thread_message(event)
        if reply is None:
            return
        conversation = await self._thread_conversation(reply.channel, reply.thread_ts)
        if conversation is None:
            return
        if reply.intent is Intent.NOTE:
            self._later(self._notices.react(reply.channel, reply.ts, NOTE_KEPT))
            return
        if not reply.text:
            if reply.file_names:
                self._later(
                    self._notices.tell(
                        reply.user,
                        reply.channel,
                        "Files are not forwarded to the customer; describe the file in text.",
                        reply.thread_ts,
                    )
                )
            return
        taken = await self._relay.submit(reply.for_session(conversation.session_id))
        if taken and reply.file_names:
            self._later(
                self._notices.tell(
                    reply.user,
                    reply.channel,
                    "Your text was sent; attached files are not forwarded to the customer.",
                    reply.thread_ts,
                )
            )

    async def _on_edit(self, event: Mapping[str, Any]) -> None:
        edit = parse_edit(event)
        if edit is None:
            return
        reply = edit.reply
        if await self._thread_conversation(reply.channel, reply.thread_ts) is None:
            return
        stored = await self._store.operator_message(reply.channel, reply.ts)
        match judge_edit(stored, edit, self._edit_window):
            case EditOutcome.EDIT_HELD:
                assert stored is not None
                await self._store.edit_held(stored.message, reply.text)
            case EditOutcome.CORRECT:
                assert stored is not None
                await self._relay.submit(correction(stored.message, edit))
            case EditOutcome.TOO_LATE:
                minutes = round(self._edit_window / 60)
                self._later(
                    self._notices.tell(
                        reply.user,
                        reply.channel,
                        f"Edits more than {minutes} minutes after a reply are not passed on: the"
                        " customer keeps what was sent. Post a new reply to correct it.",
                        reply.thread_ts,
                    )
                )
            case EditOutcome.IGNORE:
                pass

    async def _on_delete(self, event: Mapping[str, Any]) -> None:
        gone = event.get("previous_message") or {}
        thread_ts, user = gone.get("thread_ts"), gone.get("user")
        if not thread_ts or not user or gone.get("bot_id") or thread_ts == gone.get("ts"):
            return
        channel = ChannelId(str(event.get("channel")))
        if await self._thread_conversation(channel, thread_ts) is None:
            return
        stored = await self._store.operator_message(channel, Ts(str(gone.get("ts"))))
        if stored is None:
            return
        if stored.held:
            await self._store.mark_dropped(stored.message, "deleted in Slack")
            return
        if stored.state in ("pending", "delivered"):
            self._later(
                self._notices.tell(
                    UserId(user),
                    channel,
                    "The customer already has that reply: deleting it in Slack does not take it"
                    " back. Post a correction if it was wrong.",
                    Ts(thread_ts),
                )
            )

    async def on_as_ai_command(self, command: Mapping[str, Any]) -> str:
        """``/as-ai [ref] text``: the answer is private to the operator."""
        user = UserId(str(command["user_id"]))
        channel = ChannelId(str(command.get("channel_id") or ""))
        if (refusal := await self._refusal(user, channel)) is not None:
            return refusal
        if channel not in self._channels:
            return f"`{AS_AI_COMMAND}` works only in a handoff channel, such as <#{self._channel}>."
        target = await resolve_as_ai(self._store, user, str(command.get("text") or ""))
        if isinstance(target, Refusal):
            return target.text
        conversation = target.conversation
        if conversation.channel != channel and (
            refusal := await self._refusal(user, conversation.channel)
        ):
            return refusal
        taken = await self._relay.submit(
            OperatorMessage(
                channel=ChannelId(str(command.get("channel_id") or self._channel)),
                ts=Ts(f"command-{command.get('trigger_id')}"),
                session_id=conversation.session_id,
                user_id=user,
                as_ai=True,
                text=target.text,
                origin=COMMAND_ORIGIN,
            )
        )
        if not taken:
            return "That command was already received."
        return (
            f"Sending as the AI to `{conversation.ref}` ({inert_line(conversation.customer_name)})."
            " It shows in the thread once delivered."
        )

    async def open_as_ai_modal(
        self, client: AsyncWebClient, trigger_id: str, session_id: str, user: str, channel: str
    ) -> None:
        conversation = await self._store.conversation(SessionId(session_id))
        case_channel = conversation.channel if conversation is not None else ChannelId(channel)
        if (refusal := await self._refusal(UserId(user), case_channel)) is not None:
            await self._notices.tell(UserId(user), ChannelId(channel), refusal)
            return
        if conversation is None or not conversation.active:
            await self._notices.tell(
                UserId(user),
                ChannelId(channel),
                "That session is no longer handed off; there is nobody to answer as the AI.",
            )
            return
        view = as_ai_view(conversation.session_id, conversation.ref, conversation.customer_name)
        await client.views_open(trigger_id=trigger_id, view=view)

    async def on_as_ai_view(self, body: Mapping[str, Any], ack: AsyncAck) -> None:
        view = body["view"]
        text = as_ai_text_from(view["state"]["values"])
        conversation = await self._store.conversation(SessionId(str(view["private_metadata"])))
        user = UserId(str(body["user"]["id"]))
        channel = conversation.channel if conversation is not None else None
        if (refusal := await self._refusal(user, channel)) is not None:
            await ack(response_action="errors", errors={AS_AI_BLOCK: refusal})
            return
        if not text:
            await ack(response_action="errors", errors={AS_AI_BLOCK: "Write a message to send."})
            return
        if conversation is None or not conversation.active:
            await ack(
                response_action="errors",
                errors={AS_AI_BLOCK: "This session is no longer handed off; nothing was sent."},
            )
            return
        # Stored before the ack, so a submission Slack saw accepted is never lost. Modal
        # text is plain: escape it so decoding gives back exactly what was typed.
        await self._relay.submit(
            OperatorMessage(
                channel=conversation.channel or self._channel,
                ts=Ts(f"view-{view['id']}"),
                session_id=conversation.session_id,
                user_id=UserId(str(body["user"]["id"])),
                as_ai=True,
                text=escape(text),
                origin=COMMAND_ORIGIN,
            )
        )
        await ack()

    async def on_shortcut(self, client: AsyncWebClient, body: Mapping[str, Any]) -> None:
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or "")
        user = str(body["user"]["id"])
        thread_ts = str(message.get("thread_ts") or message.get("ts") or "")
        conversation = await self._thread_conversation(channel, thread_ts)
        if conversation is None:
            await self._notices.tell(
                UserId(user),
                ChannelId(channel),
                "“Reply as AI” works on messages in a handoff thread.",
            )
            return
        await self.open_as_ai_modal(
            client, str(body["trigger_id"]), conversation.session_id, user, channel
        )


def build_app(
    client: AsyncWebClient,
    settings: BridgeSettings,
    listeners: BridgeListeners,
    case_listeners: CaseListeners,
    board: QueueBoard,
) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=settings.signing_secret.reveal(),
        request_verification_enabled=not settings.socket_mode,
        # Listeners store what they take before Slack gets its acknowledgement; the slow
        # work (Parlant, notices) happens afterwards in the relays' own tasks.
        process_before_response=True,
    )

    @app.event("message")
    async def message(event: dict[str, Any]) -> None:
        await listeners.on_message(event)

    @app.command(AS_AI_COMMAND)
    async def as_ai(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(text=await listeners.on_as_ai_command(command), response_type="ephemeral")

    @app.action(REPLY_AS_AI_ACTION)
    async def reply_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await listeners.open_as_ai_modal(
            client,
            body["trigger_id"],
            body["actions"][0]["value"],
            body["user"]["id"],
            (body.get("channel") or {}).get("id", settings.handoff_channel),
        )

    @app.action(re.compile(f"^({'|'.join(CASE_ACTIONS)})$"))
    async def case_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await case_listeners.on_case_button(body, client)

    @app.action(re.compile(f"^({'|'.join(HELD_ACTIONS)})$"))
    async def held_button(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await case_listeners.on_held_button(body)

    @app.view(HAND_BACK_VIEW)
    async def hand_back_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        await case_listeners.on_hand_back_view(body, ack)

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") == "home" and event.get("user"):
            await board.opened(UserId(str(event["user"])))

    @app.command(QUEUE_COMMAND)
    async def handoffs(ack: AsyncAck, command: dict[str, Any]) -> None:
        text, blocks = await board.answer(UserId(str(command["user_id"])))
        await ack(text=text, blocks=list(blocks), response_type="ephemeral")

    @app.shortcut(AS_AI_SHORTCUT)
    async def shortcut(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await listeners.on_shortcut(client, body)

    @app.view(AS_AI_VIEW)
    async def as_ai_view(ack: AsyncAck, body: dict[str, Any]) -> None:
        await listeners.on_as_ai_view(body, ack)

    # Catch-alls: anything else Slack sends is acknowledged, never a 404.
    @app.event(EVERYTHING)
    async def other_event() -> None:
        return None

    @app.action(EVERYTHING)
    async def other_action(ack: AsyncAck) -> None:
        await ack()

    @app.shortcut(EVERYTHING)
    async def other_shortcut(ack: AsyncAck) -> None:
        await ack()

    @app.view(EVERYTHING)
    async def other_view(ack: AsyncAck) -> None:
        await ack()

    @app.command(EVERYTHING)
    async def other_command(ack: AsyncAck) -> None:
        await ack(text="This app knows /as-ai and /handoffs.", response_type="ephemeral")

    return app
