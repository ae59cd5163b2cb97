"""The App Home: app_home_opened, views.publish, clicks in the Home tab, chat.getPermalink."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import Kind, Outcome, SlackEmulator, ViewState, ids
from tests.slack_emulator.spec_requests import SPEC_DIR

C = ids.HANDOFF_CHANNEL
JsonDict = dict[str, Any]
PERMALINK_BASE = f"https://{ids.TEAM_DOMAIN}.slack.com/archives/"


def _case(session: str) -> list[JsonDict]:
    """A case of a queue: its section and its buttons (every case has a "claim")."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"Case {session}"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "open_thread",
                    "url": f"{PERMALINK_BASE}{C}/p1",
                    "text": {"type": "plain_text", "text": "Open thread"},
                },
                {
                    "type": "button",
                    "action_id": "claim",
                    "value": session,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Claim"},
                },
            ],
        },
    ]


HOME: JsonDict = {"type": "home", "blocks": [*_case("session-1"), *_case("session-2")]}

MODAL: JsonDict = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Claimed"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Yours now."}}],
}


@pytest.fixture(params=["http", "socket"])
def transport(request: pytest.FixtureRequest) -> str:
    """The app is reached over HTTP or Socket Mode (both fixtures connect it)."""
    request.getfixturevalue(f"bolt_{request.param}")
    return str(request.param)


def _publish_on_open(app: AsyncApp) -> list[JsonDict]:
    """The app publishes ``HOME`` whenever someone opens its Home tab; returns the events."""
    opened: list[JsonDict] = []

    @app.event("app_home_opened")
    async def on_open(event: JsonDict, client: AsyncWebClient) -> None:
        opened.append(event)
        if event["tab"] == "home":
            await client.views_publish(user_id=event["user"], view=HOME)

    return opened


async def test_opening_the_home_tab_lets_the_app_publish_it(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, transport: str
) -> None:
    slack_emulator.subscribed_events.add("app_home_opened")
    opened = _publish_on_open(bolt_app)

    await slack_emulator.open_app_home(ids.ALICE)
    await slack_emulator.wait_until(lambda: slack_emulator.home_view(ids.ALICE) is not None)
    home = slack_emulator.home_view(ids.ALICE)
    assert home is not None and home.state is ViewState.PUBLISHED and home.blocks == HOME["blocks"]
    [first] = opened
    assert {k: first[k] for k in ("type", "user", "channel", "tab")} == {
        "type": "app_home_opened",
        "user": ids.ALICE,
        "channel": ids.dm_id(ids.ALICE),
        "tab": "home",
    }
    assert first["event_ts"] and "view" not in first  # nothing was published before

    await slack_emulator.open_app_home(ids.ALICE)
    await slack_emulator.wait_until(lambda: len(opened) == 2)
    view = opened[1]["view"]
    assert (view["id"], view["type"], view["blocks"]) == (home.id, "home", HOME["blocks"])
    assert {"hash", "team_id", "app_id", "bot_id", "root_view_id"} <= set(view)
    await slack_emulator.drain()
    assert [v.id for v in slack_emulator.state.views.values()] == [home.id]  # one per person
    assert slack_emulator.home_view(ids.BOB) is None and not slack_emulator.views_opened(ids.ALICE)
    deliveries = [d for d in slack_emulator.deliveries if d.kind is Kind.EVENTS_API]
    assert [d.delivered for d in deliveries] == [True, True]
    assert {a.transport for d in deliveries for a in d.attempts} == {transport}


async def test_the_envelope_is_an_event_callback(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    slack_emulator.subscribed_events.add("app_home_opened")
    _publish_on_open(bolt_app)
    await slack_emulator.open_app_home(ids.CAROL)
    await slack_emulator.drain()
    [delivery] = slack_emulator.deliveries
    schema = json.loads((SPEC_DIR / "slack_common_event_wrapper_schema.json").read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(delivery.payload))
    # authed_users is deprecated: Slack sends `authorizations` to apps created since 2021.
    assert [e.message for e in errors] == ["'authed_users' is a required property"]
    assert delivery.payload["event"]["channel"] == ids.dm_id(ids.CAROL)


async def test_the_messages_tab_carries_no_view(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    slack_emulator.subscribed_events.add("app_home_opened")
    opened = _publish_on_open(bolt_app)
    await slack_emulator.open_app_home(ids.BOB)
    await slack_emulator.wait_until(lambda: slack_emulator.home_view(ids.BOB) is not None)
    await slack_emulator.open_app_home(ids.BOB, tab="messages")
    await slack_emulator.wait_until(lambda: len(opened) == 2)
    assert opened[1]["tab"] == "messages" and "view" not in opened[1]
    with pytest.raises(ValueError, match="tabs"):
        await slack_emulator.open_app_home(ids.BOB, tab="settings")


async def test_no_event_without_the_subscription_nor_for_outsiders(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    opened = _publish_on_open(bolt_app)
    await slack_emulator.open_app_home(ids.ALICE)
    await slack_emulator.drain()
    assert slack_emulator.deliveries == [] and opened == []
    with pytest.raises(ValueError, match="has not installed the app"):
        await slack_emulator.open_app_home(ids.EXTERNAL)
    with pytest.raises(KeyError):
        await slack_emulator.open_app_home("U0NOBODY")


async def test_views_publish_checks_the_person_the_type_and_the_blocks(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as unknown:
        await slack_client.views_publish(user_id="U0NOBODY", view=HOME)
    assert unknown.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as modal:
        await slack_client.views_publish(user_id=ids.ALICE, view=MODAL)
    assert "must be `home` [json-pointer:/view/type]" in str(modal.value.response)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    with pytest.raises(SlackApiError) as too_many:
        await slack_client.views_publish(
            user_id=ids.ALICE, view={"type": "home", "blocks": [section] * 101}
        )
    assert "no more than 100 items allowed" in str(too_many.value.response)
    assert slack_emulator.home_view(ids.ALICE) is None

    first = await slack_client.views_publish(
        user_id=ids.ALICE, view={"type": "home", "blocks": [section] * 100}
    )
    again = await slack_client.views_publish(
        user_id=ids.ALICE, view=HOME, hash=first["view"]["hash"]
    )
    assert again["view"]["id"] == first["view"]["id"]
    assert again["view"]["hash"] != first["view"]["hash"]
    with pytest.raises(SlackApiError) as stale:
        await slack_client.views_publish(user_id=ids.ALICE, view=HOME, hash=first["view"]["hash"])
    assert stale.value.response["error"] == "hash_conflict"
    home = slack_emulator.home_view(ids.ALICE)
    assert home is not None and home.blocks == HOME["blocks"]


async def test_a_click_in_the_home_tab_names_the_view_not_a_message(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, transport: str
) -> None:
    clicks: list[JsonDict] = []

    @bolt_app.action("claim")
    async def claim(ack: AsyncAck, body: JsonDict, client: AsyncWebClient) -> None:
        await ack()
        clicks.append(body)
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    published = await bolt_app.client.views_publish(user_id=ids.ALICE, view=HOME)
    result = await slack_emulator.click_home_button(ids.ALICE, "claim", "session-2")
    assert result.ok and result.response_url is None

    [click] = clicks
    assert click["type"] == "block_actions"
    assert click["container"] == {"type": "view", "view_id": published["view"]["id"]}
    assert {"channel", "message", "response_url"}.isdisjoint(click)
    assert (click["view"]["id"], click["view"]["type"]) == (published["view"]["id"], "home")
    assert click["view"]["blocks"] == HOME["blocks"]
    assert click["trigger_id"] == result.trigger_id
    assert (click["user"]["id"], click["team"]["id"]) == (ids.ALICE, ids.TEAM_ID)
    [action] = click["actions"]
    assert (action["action_id"], action["value"], action["type"]) == (
        "claim",
        "session-2",
        "button",
    )
    # The trigger opens a modal, as from any click.
    await slack_emulator.wait_until(lambda: len(slack_emulator.views_opened(ids.ALICE)) == 1)


async def test_a_link_button_in_the_home_tab_still_sends_an_action(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    clicked: list[JsonDict] = []

    @bolt_app.action("open_thread")
    async def open_thread(ack: AsyncAck, action: JsonDict) -> None:
        await ack()
        clicked.append(action)

    await bolt_app.client.views_publish(
        user_id=ids.BOB, view={"type": "home", "blocks": _case("s")}
    )
    assert (await slack_emulator.click_home_button(ids.BOB, "open_thread")).ok
    [action] = clicked
    assert (action["action_id"], action["url"]) == ("open_thread", f"{PERMALINK_BASE}{C}/p1")


async def test_a_click_must_name_one_button_of_a_published_home_tab(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    with pytest.raises(ValueError, match="no Home tab"):
        await slack_emulator.click_home_button(ids.ALICE, "claim", "session-1")
    await bolt_app.client.views_publish(user_id=ids.ALICE, view=HOME)
    with pytest.raises(ValueError, match=r"2 elements with action_id 'claim'"):
        await slack_emulator.click_home_button(ids.ALICE, "claim")
    with pytest.raises(ValueError, match="no element with action_id 'claim' and value 'x'"):
        await slack_emulator.click_home_button(ids.ALICE, "claim", "x")
    with pytest.raises(ValueError, match="no Home tab"):
        await slack_emulator.click_home_button(ids.BOB, "claim", "session-1")
    assert not [d for d in slack_emulator.deliveries if d.kind is Kind.INTERACTIVE]
    # Unhandled, Bolt answers 404: Slack shows the person an error, nothing is retried.
    unhandled = await slack_emulator.click_home_button(ids.ALICE, "claim", "session-1")
    assert (unhandled.outcome, unhandled.status) == (Outcome.HTTP_ERROR, 404)


async def test_permalinks_of_messages_and_thread_replies(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    root = await slack_client.chat_postMessage(channel=C, text="handoff")
    reply = await slack_emulator.post_message(ids.ALICE, C, "on it", root["ts"])
    top = await slack_client.chat_getPermalink(channel=C, message_ts=root["ts"])
    assert (top["channel"], top["permalink"]) == (
        C,
        f"{PERMALINK_BASE}{C}/p{root['ts'].replace('.', '')}",
    )
    threaded = await slack_client.chat_getPermalink(channel=C, message_ts=reply)
    assert threaded["permalink"] == (
        f"{PERMALINK_BASE}{C}/p{reply.replace('.', '')}?thread_ts={root['ts']}&cid={C}"
    )


@pytest.mark.parametrize(
    ("channel", "ts", "error"),
    [
        (C, "1700000000.000100", "message_not_found"),
        ("C0NOWHERE", "1700000000.000100", "channel_not_found"),
        ("C0SECRET", None, "channel_not_found"),  # private, without the app's bot
    ],
)
async def test_permalink_errors(
    slack_emulator: SlackEmulator,
    slack_client: AsyncWebClient,
    channel: str,
    ts: str | None,
    error: str,
) -> None:
    slack_emulator.workspace.add_channel(
        "C0SECRET", "secret", private=True, members={ids.ALICE}, bot_member=False
    )
    secret = await slack_emulator.post_message(ids.ALICE, "C0SECRET", "psst")
    with pytest.raises(SlackApiError) as refused:
        await slack_client.chat_getPermalink(channel=channel, message_ts=ts or secret)
    assert refused.value.response["error"] == error
