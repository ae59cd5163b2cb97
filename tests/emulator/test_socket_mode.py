"""Socket Mode with Bolt's AsyncSocketModeHandler: envelopes, acks, retries, reconnects."""

from __future__ import annotations

from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import EphemeralSource, Kind, Outcome, SlackEmulator, ViewState, ids

C = ids.HANDOFF_CHANNEL
JsonDict = dict[str, Any]

MODAL: JsonDict = {
    "type": "modal",
    "callback_id": "reason_modal",
    "title": {"type": "plain_text", "text": "Reason"},
    "submit": {"type": "plain_text", "text": "Send"},
    "private_metadata": "session-9",
    "blocks": [
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Why"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
    ],
}


def record_messages(app: AsyncApp) -> list[JsonDict]:
    received: list[JsonDict] = []

    @app.event("message")
    async def on_message(body: JsonDict) -> None:
        received.append(body)

    return received


async def test_connects_and_receives_events(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_socket: AsyncSocketModeHandler
) -> None:
    received = record_messages(bolt_app)
    [opened] = slack_emulator.calls_to("apps.connections.open")
    assert opened.ok and opened.token_kind == "app"
    assert opened.response["url"].startswith("ws://127.0.0.1:")
    ts = await slack_emulator.post_message(ids.CAROL, C, "over the socket")
    await slack_emulator.wait_until(lambda: len(received) == 1)
    assert received[0]["event"]["ts"] == ts
    await slack_emulator.drain()
    [attempt] = slack_emulator.delivery_log
    assert (attempt.transport, attempt.outcome) == ("socket", Outcome.ACKED)


async def test_slash_command_ack_payload_and_response_url(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_socket: AsyncSocketModeHandler
) -> None:
    @bolt_app.command("/as-ai")
    async def as_ai(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack(text="Handing back…")
        await respond(text="Done: the AI agent has the conversation again")

    result = await slack_emulator.run_slash_command(ids.ALICE, C, "/as-ai", "s-1")
    assert result.ok and result.outcome is Outcome.ACKED
    assert result.response == {"text": "Handing back…"}
    assert [e.text for e in result.shown] == ["Handing back…"]
    await slack_emulator.wait_until(
        lambda: any(
            e.source is EphemeralSource.RESPONSE_URL for e in slack_emulator.ephemerals(ids.ALICE)
        )
    )
    record_messages(bolt_app)
    root = await slack_emulator.post_message(ids.ALICE, C, "a thread")
    refused = await slack_emulator.run_slash_command(ids.ALICE, C, "/as-ai", "", root)
    assert refused.error == "not_supported_in_threads"


async def test_block_actions_and_view_submission(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_socket: AsyncSocketModeHandler
) -> None:
    reasons: list[str] = []

    @bolt_app.action("hand_back")
    async def hand_back(ack: AsyncAck, body: JsonDict, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @bolt_app.view("reason_modal")
    async def reason(ack: AsyncAck, view: JsonDict) -> None:
        text = view["state"]["values"]["reason"]["text"]["value"]
        if len(text) < 3:
            await ack(response_action="errors", errors={"reason": "Too short"})
            return
        reasons.append(f"{view['private_metadata']}: {text}")
        await ack()

    blocks = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "hand_back",
                    "value": "s-9",
                    "text": {"type": "plain_text", "text": "Hand back"},
                }
            ],
        }
    ]
    posted = await bolt_app.client.chat_postMessage(channel=C, text="handoff", blocks=blocks)
    clicked = await slack_emulator.click_button(ids.BOB, C, posted["ts"], "hand_back")
    assert clicked.ok
    await slack_emulator.wait_until(lambda: len(slack_emulator.views_opened(ids.BOB)) == 1)
    [view] = slack_emulator.views_opened(ids.BOB)
    short = await slack_emulator.submit_view(ids.BOB, view.id, {"reason": {"text": "no"}})
    assert short.errors == {"reason": "Too short"} and view.state is ViewState.OPEN
    done = await slack_emulator.submit_view(ids.BOB, view.id, {"reason": {"text": "resolved"}})
    assert done.ok and slack_emulator.state.views[view.id].state is ViewState.CLOSED
    assert reasons == ["session-9: resolved"]
    kinds = [d.kind for d in slack_emulator.deliveries]
    assert kinds.count(Kind.INTERACTIVE) == 3


async def test_unacked_envelopes_are_retried(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_socket: AsyncSocketModeHandler
) -> None:
    # Without a listener Bolt never acks the envelope, so Slack retries it.
    slack_emulator.ack_timeout = 0.2
    slack_emulator.retry_delays = (0.01, 0.01)
    await slack_emulator.post_message(ids.ALICE, C, "nobody listens")
    await slack_emulator.drain()
    [delivery] = slack_emulator.deliveries
    assert [(a.retry_num, a.outcome, a.retry_reason) for a in delivery.attempts] == [
        (0, Outcome.TIMEOUT, None),
        (1, Outcome.TIMEOUT, "timeout"),
        (2, Outcome.TIMEOUT, "timeout"),
    ]
    assert not delivery.delivered


async def test_dropped_connection_reconnects(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_socket: AsyncSocketModeHandler
) -> None:
    received = record_messages(bolt_app)

    async def drop(graceful: bool) -> None:
        before = slack_emulator.socket.connections_total
        await slack_emulator.disconnect_socket_clients(graceful=graceful)
        await slack_emulator.wait_until(
            lambda: (
                slack_emulator.socket.connections_total > before
                and slack_emulator.socket_connections >= 1
            )
        )

    await drop(graceful=False)
    await drop(graceful=True)
    await slack_emulator.post_message(ids.ALICE, C, "after reconnecting")
    await slack_emulator.wait_until(lambda: len(received) == 1)


async def test_deliveries_fail_while_disconnected(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_socket: AsyncSocketModeHandler
) -> None:
    received = record_messages(bolt_app)
    slack_emulator.retry_delays = (0.01,)
    slack_emulator.refuse_socket_connections()
    await slack_emulator.disconnect_socket_clients()
    await slack_emulator.post_message(ids.ALICE, C, "lost")
    command = await slack_emulator.run_slash_command(ids.ALICE, C, "/as-ai")
    await slack_emulator.drain()
    lost = slack_emulator.deliveries[0]
    assert [a.outcome for a in lost.attempts] == [Outcome.NO_CONNECTION] * 2
    assert command.error == "dispatch_failed"

    slack_emulator.refuse_socket_connections(False)
    await slack_emulator.wait_for_socket_connection(timeout=10)
    await slack_emulator.post_message(ids.ALICE, C, "found")
    await slack_emulator.wait_until(lambda: len(received) == 1)
    assert received[0]["event"]["text"] == "found"
