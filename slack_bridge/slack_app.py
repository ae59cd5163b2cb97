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
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.config import BridgeSettings
from slack_bridge.delivery import OperatorRelay
from slack_bridge.errors import ParlantError
from slack_bridge.formatting import HAND_BACK_ACTION, REPLY_AS_AI_ACTION, escape, inert_line
from slack_bridge.ids import ChannelId, SessionId, Ts, UserId
from slack_bridge.inbound_messages import Intent, parse_thread_message
from slack_bridge.notices import NOTE_KEPT, OperatorNotices
from slack_bridge.operators import REFUSALS, OperatorGate
from slack_bridge.parlant_client import ParlantClient
from slack_bridge.store import COMMAND_ORIGIN, Conversation, HandoffStore, OperatorMessage
from slack_bridge.targets import Refusal, resolve_as_ai
from slack_bridge.threads import ThreadMirror

logger = logging.getLogger(__name__)

AS_AI_COMMAND = "/as-ai"
AS_AI_VIEW = "as_ai_reply"
AS_AI_SHORTCUT = "reply_as_ai"
AS_AI_BLOCK = "message"
AS_AI_INPUT = "text"
MAX_MODAL_TEXT = 3000
EVERYTHING = re.compile(".*")


class BridgeListeners:
    """What the bridge does for each kind of Slack request."""

    def __init__(
        self,
        settings: BridgeSettings,
        store: HandoffStore,
        parlant: ParlantClient,
        relay: OperatorRelay,
        mirror: ThreadMirror,
        notices: OperatorNotices,
        gate: OperatorGate,
        spawn: Callable[[Coroutine[Any, Any, Any], str], Any],
    ) -> None:
        self._channel = settings.handoff_channel
        self._gate = gate
        self._spawn = spawn
        self._store = store
        self._parlant = parlant
        self._relay = relay
        self._mirror = mirror
        self._notices = notices

    async def _thread_conversation(self, channel: str, thread_ts: str) -> Conversation | None:
        if channel != self._channel:
            return None
        return await self._store.conversation_by_thread(ChannelId(channel), Ts(thread_ts))

    def _later(self, notice: Coroutine[Any, Any, None]) -> None:
        """A courtesy to an operator, sent after Slack's event is acknowledged."""
        self._spawn(notice, "operator-notice")

    async def _refusal(self, user: UserId) -> str | None:
        """Why ``user`` may not act for customers, or ``None`` for an operator."""
        verdict = await self._gate.check(user)
        return None if verdict.allowed else f"Nothing was sent. {REFUSALS[verdict]}"

    async def on_message(self, event: Mapping[str, Any]) -> None:
        if event.get("subtype") in ("message_changed", "message_deleted"):
            await self._on_change(event)
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

    async def _on_change(self, event: Mapping[str, Any]) -> None:
        message = event.get("message") or event.get("previous_message") or {}
        thread_ts, user = message.get("thread_ts"), message.get("user")
        if event.get("subtype") == "message_changed" and message.get("edited") is None:
            return  # unfurls and other changes Slack makes itself
        if not thread_ts or not user or message.get("bot_id") or thread_ts == message.get("ts"):
            return
        channel = str(event.get("channel"))
        if await self._thread_conversation(channel, thread_ts) is None:
            return
        what = "Edits" if event.get("subtype") == "message_changed" else "Deletions"
        self._later(
            self._notices.tell(
                UserId(user),
                ChannelId(channel),
                f"{what} are not passed on: the customer keeps what was sent. Post a new reply to"
                " correct it.",
                Ts(thread_ts),
            )
        )

    async def on_as_ai_command(self, command: Mapping[str, Any]) -> str:
        """``/as-ai [ref] text``: the answer is private to the operator."""
        user = UserId(str(command["user_id"]))
        if (refusal := await self._refusal(user)) is not None:
            return refusal
        if command.get("channel_id") != self._channel:
            return f"`{AS_AI_COMMAND}` works only in the handoff channel, <#{self._channel}>."
        target = await resolve_as_ai(self._store, user, str(command.get("text") or ""))
        if isinstance(target, Refusal):
            return target.text
        conversation = target.conversation
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
        if (refusal := await self._refusal(UserId(user))) is not None:
            await self._notices.tell(UserId(user), ChannelId(channel), refusal)
            return
        conversation = await self._store.conversation(SessionId(session_id))
        if conversation is None or not conversation.active:
            await self._notices.tell(
                UserId(user),
                ChannelId(channel),
                "That session is no longer handed off; there is nobody to answer as the AI.",
            )
            return
        view = View(
            type="modal",
            callback_id=AS_AI_VIEW,
            private_metadata=conversation.session_id,
            title=PlainTextObject(text="Reply as the AI"),
            submit=PlainTextObject(text="Send"),
            close=PlainTextObject(text="Cancel"),
            blocks=[
                InputBlock(
                    block_id=AS_AI_BLOCK,
                    label=f"Message to {conversation.customer_name[:100]} ({conversation.ref})",
                    element=PlainTextInputElement(
                        action_id=AS_AI_INPUT, multiline=True, max_length=MAX_MODAL_TEXT
                    ),
                )
            ],
        )
        await client.views_open(trigger_id=trigger_id, view=view)

    async def on_as_ai_view(self, body: Mapping[str, Any], ack: AsyncAck) -> None:
        view = body["view"]
        values = view["state"]["values"]
        text = str(values.get(AS_AI_BLOCK, {}).get(AS_AI_INPUT, {}).get("value") or "").strip()
        conversation = await self._store.conversation(SessionId(str(view["private_metadata"])))
        if (refusal := await self._refusal(UserId(str(body["user"]["id"])))) is not None:
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

    async def on_hand_back(self, body: Mapping[str, Any]) -> None:
        action = body["actions"][0]
        user = UserId(str(body["user"]["id"]))
        channel = ChannelId(str((body.get("channel") or {}).get("id") or self._channel))
        if (refusal := await self._refusal(user)) is not None:
            await self._notices.tell(user, channel, refusal)
            return
        conversation = await self._store.conversation(SessionId(str(action["value"])))
        if conversation is None or not conversation.active:
            await self._notices.tell(user, channel, "That session is already back with the AI.")
            return
        try:
            await self._parlant.hand_back(conversation.session_id)
        except ParlantError as error:
            logger.warning("hand back of %s failed: %s", conversation.session_id, error)
            await self._notices.tell(
                user, channel, "Parlant is unreachable; the session was not handed back. Try again."
            )
            return
        self._mirror.request_check(conversation.session_id)


def build_app(
    client: AsyncWebClient, settings: BridgeSettings, listeners: BridgeListeners
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

    @app.action(HAND_BACK_ACTION)
    async def hand_back_button(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await listeners.on_hand_back(body)

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
        await ack(text="This app only knows /as-ai.", response_type="ephemeral")

    return app
