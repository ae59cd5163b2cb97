"""Slash commands, buttons, modals and shortcuts over HTTP with a Bolt app."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import EphemeralSource, Outcome, SlackEmulator, ViewState, ids

C = ids.HANDOFF_CHANNEL
JsonDict = dict[str, Any]

CLAIM_BLOCKS: list[JsonDict] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*New handoff* from Dana"}},
    {
        "type": "actions",
        "block_id": "handoff_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "value": "session-1",
                "text": {"type": "plain_text", "text": "Claim"},
            },
            {
                "type": "button",
                "action_id": "close",
                "value": "session-1",
                "text": {"type": "plain_text", "text": "Close"},
            },
        ],
    },
]

NOTE_MODAL: JsonDict = {
    "type": "modal",
    "callback_id": "note_modal",
    "title": {"type": "plain_text", "text": "Private note"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "note",
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
        {
            "type": "input",
            "block_id": "priority",
            "optional": True,
            "label": {"type": "plain_text", "text": "Priority"},
            "element": {
                "type": "static_select",
                "action_id": "level",
                "options": [
                    {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
                    {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
                ],
            },
        },
    ],
}


async def ignore() -> None:
    """A listener for events a test does not look at (Bolt answers 404 without one)."""


async def test_slash_command_immediate_and_response_url(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    seen: list[JsonDict] = []

    @bolt_app.command("/as-ai")
    async def as_ai(ack: AsyncAck, command: JsonDict, respond: AsyncRespond) -> None:
        seen.append(command)
        await ack("Working on it")
        await respond(text="Handed back to the AI agent")
        await respond(text="Everyone: the AI agent is back", response_type="in_channel")

    result = await slack_emulator.run_slash_command(ids.ALICE, C, "/as-ai", "session-1")
    assert result.ok and result.status == 200
    assert [(e.text, e.source) for e in result.shown] == [
        ("Working on it", EphemeralSource.COMMAND_RESPONSE)
    ]
    [command] = seen
    assert (command["command"], command["text"], command["user_id"]) == (
        "/as-ai",
        "session-1",
        ids.ALICE,
    )
    assert command["channel_id"] == C and command["team_id"] == ids.TEAM_ID
    assert command["response_url"] == result.response_url and command["trigger_id"]
    await slack_emulator.wait_until(lambda: len(slack_emulator.ephemerals(ids.ALICE)) == 2)
    assert {(e.text, e.source) for e in slack_emulator.ephemerals(ids.ALICE)} == {
        ("Working on it", EphemeralSource.COMMAND_RESPONSE),
        ("Handed back to the AI agent", EphemeralSource.RESPONSE_URL),
    }
    in_channel = await slack_emulator.wait_for_message(
        C, lambda m: m.text == "Everyone: the AI agent is back"
    )
    assert in_channel.user == ids.BOT_USER_ID
    assert [p.status for p in slack_emulator.response_url_posts] == [200, 200]


async def test_slash_command_refused_in_threads(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    bolt_app.event("message")(ignore)
    root = await slack_emulator.post_message(ids.ALICE, C, "a thread")
    await slack_emulator.drain()
    delivered_before = len(slack_emulator.deliveries)
    result = await slack_emulator.run_slash_command(ids.ALICE, C, "/as-ai", "", thread_ts=root)
    assert result.error == "not_supported_in_threads" and result.outcome is Outcome.NOT_SENT
    assert [e.text for e in slack_emulator.ephemerals(ids.ALICE)] == [
        "/as-ai is not supported in threads. Sorry!"
    ]
    assert len(slack_emulator.deliveries) == delivered_before


async def test_slow_or_missing_command_handlers_show_slack_errors(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    slack_emulator.ack_timeout = 0.3

    @bolt_app.command("/slow")
    async def slow(ack: AsyncAck) -> None:
        await asyncio.sleep(0.5)
        await ack()

    slow_result = await slack_emulator.run_slash_command(ids.BOB, C, "/slow")
    assert slow_result.error == "operation_timeout"
    missing = await slack_emulator.run_slash_command(ids.BOB, C, "/unhandled")
    assert (missing.error, missing.status) == ("http_client_error", 404)
    assert [e.text for e in slack_emulator.ephemerals(ids.BOB)] == [
        '/slow failed with the error "operation_timeout"',
        '/unhandled failed with the error "http_client_error"',
    ]
    assert all(
        d.attempts[0].retry_num == 0 and len(d.attempts) == 1 for d in slack_emulator.deliveries
    )  # never retried


async def test_button_opens_modal_and_submission(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    clicks: list[JsonDict] = []
    submissions: list[JsonDict] = []

    @bolt_app.action("claim")
    async def claim(
        ack: AsyncAck, body: JsonDict, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        clicks.append(body)
        modal = dict(NOTE_MODAL, private_metadata=body["actions"][0]["value"])
        await client.views_open(trigger_id=body["trigger_id"], view=modal)
        await respond(replace_original=True, text="Claimed by Alice")

    @bolt_app.view("note_modal")
    async def note(ack: AsyncAck, view: JsonDict) -> None:
        submissions.append(view)
        if view["state"]["values"]["note"]["text"]["value"] == "bad":
            await ack(response_action="errors", errors={"note": "Say more"})
        else:
            await ack()

    posted = await bolt_app.client.chat_postMessage(
        channel=C, text="New handoff", blocks=CLAIM_BLOCKS
    )
    result = await slack_emulator.click_button(ids.ALICE, C, posted["ts"], "claim")
    assert result.ok
    [click] = clicks
    assert click["actions"][0]["value"] == "session-1"
    assert click["actions"][0]["block_id"] == "handoff_actions"
    assert click["container"]["message_ts"] == posted["ts"]
    assert click["user"]["id"] == ids.ALICE and click["channel"]["id"] == C
    await slack_emulator.wait_until(lambda: len(slack_emulator.views_opened(ids.ALICE)) == 1)
    await slack_emulator.wait_until(
        lambda: slack_emulator.messages(C)[0].text == "Claimed by Alice"
    )
    [view] = slack_emulator.views_opened(ids.ALICE)
    assert view.private_metadata == "session-1"

    refused = await slack_emulator.submit_view(ids.ALICE, view.id, {"priority": {"level": "low"}})
    assert refused.outcome is Outcome.NOT_SENT and refused.errors == {
        "note": "This field is required."
    }
    rejected = await slack_emulator.submit_view(ids.ALICE, view.id, {"note": {"text": "bad"}})
    assert (rejected.response_action, rejected.errors) == ("errors", {"note": "Say more"})
    assert view.state is ViewState.OPEN
    accepted = await slack_emulator.submit_view(
        ids.ALICE, view.id, {"note": {"text": "VIP"}, "priority": {"level": "high"}}
    )
    assert accepted.ok and slack_emulator.state.views[view.id].state is ViewState.CLOSED
    values = submissions[-1]["state"]["values"]
    assert values["priority"]["level"]["selected_option"]["value"] == "high"
    assert submissions[-1]["private_metadata"] == "session-1"
    assert submissions[-1]["callback_id"] == "note_modal"


async def test_message_shortcut(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    shortcuts: list[JsonDict] = []
    bolt_app.event("message")(ignore)

    @bolt_app.shortcut("add_note")
    async def add_note(ack: AsyncAck, shortcut: JsonDict, client: AsyncWebClient) -> None:
        await ack()
        shortcuts.append(shortcut)
        await client.views_open(trigger_id=shortcut["trigger_id"], view=NOTE_MODAL)

    root = await slack_emulator.post_message(ids.ALICE, C, "customer thread")
    reply = await slack_emulator.post_message(ids.BOB, C, "agent reply", root)
    result = await slack_emulator.open_message_shortcut(ids.BOB, C, reply, "add_note")
    assert result.ok
    [shortcut] = shortcuts
    assert shortcut["type"] == "message_action" and shortcut["callback_id"] == "add_note"
    assert shortcut["message"]["thread_ts"] == root and shortcut["channel"]["id"] == C
    await slack_emulator.wait_until(lambda: len(slack_emulator.views_opened(ids.BOB)) == 1)


async def test_trigger_ids_expire_and_are_single_use(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    trigger = slack_emulator.state.new_trigger(ids.ALICE)
    assert (await slack_client.views_open(trigger_id=trigger, view=NOTE_MODAL))["ok"]
    slack_emulator.state.trigger_ttl = 0.0
    expired = slack_emulator.state.new_trigger(ids.ALICE)
    for stale, complaint in (
        (trigger, "already exchanged"),
        (expired, "expired"),
        ("1.2.nope", "invalid `trigger_id`"),
    ):
        with pytest.raises(SlackApiError) as raised:
            await slack_client.views_open(trigger_id=stale, view=NOTE_MODAL)
        assert raised.value.response["error"] == "invalid_arguments"
        assert complaint in raised.value.response["response_metadata"]["messages"][0]
