"""Who is who: full members, guests, Slack Connect users, channel members, user groups, DMs."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import EphemeralSource, Outcome, SlackEmulator, ids
from tests.slack_emulator.spec_responses import response_errors

C = ids.HANDOFF_CHANNEL
JsonDict = dict[str, Any]

BUTTON_BLOCKS: list[JsonDict] = [
    {
        "type": "actions",
        "block_id": "b",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "value": "s1",
                "text": {"type": "plain_text", "text": "Claim"},
            }
        ],
    }
]


async def _error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


def _spec_problems(emulator: SlackEmulator) -> list[str]:
    return [
        f"{call.method}: {error}"
        for call in emulator.calls
        if call.ok
        for error in response_errors(call.method, call.response)
    ]


async def test_users_info_tells_members_guests_and_outsiders_apart(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    seen: dict[str, JsonDict] = {}
    for user in (ids.ALICE, ids.DAVE, ids.GUEST, ids.SINGLE_GUEST, ids.EXTERNAL):
        seen[user] = (await slack_client.users_info(user=user))["user"]
    flags = {
        user: (
            info["team_id"],
            info["profile"]["team"],
            info["is_restricted"],
            info["is_ultra_restricted"],
        )
        for user, info in seen.items()
    }
    assert flags == {
        ids.ALICE: (ids.TEAM_ID, ids.TEAM_ID, False, False),
        ids.DAVE: (ids.TEAM_ID, ids.TEAM_ID, False, False),
        ids.GUEST: (ids.TEAM_ID, ids.TEAM_ID, True, False),
        ids.SINGLE_GUEST: (ids.TEAM_ID, ids.TEAM_ID, True, True),
        ids.EXTERNAL: (ids.OTHER_TEAM_ID, ids.OTHER_TEAM_ID, False, False),
    }
    assert all(info["is_bot"] is False for info in seen.values())
    assert _spec_problems(slack_emulator) == []


def test_default_workspace_membership() -> None:
    ws = SlackEmulator().workspace
    handoff = ws.channel(C).members
    assert {ids.ALICE, ids.BOB, ids.CAROL, ids.GUEST, ids.SINGLE_GUEST, ids.EXTERNAL} <= handoff
    assert ids.DAVE not in handoff
    general = ws.channel(ids.GENERAL_CHANNEL).members
    assert general == {ids.ALICE, ids.BOB, ids.CAROL, ids.DAVE}
    assert ws.channel(ids.PRIVATE_CHANNEL).members == {ids.ALICE, ids.BOB, ids.BOT_USER_ID}
    assert ws.full_members() == [ids.ALICE, ids.BOB, ids.CAROL, ids.DAVE]
    assert ws.is_ext_shared(C) and not ws.is_ext_shared(ids.GENERAL_CHANNEL)
    assert ws.usergroup(ids.SUPPORT_GROUP).users == [ids.ALICE, ids.BOB]

    # New channels get the full members by default, never guests or outsiders.
    fresh = ws.add_channel("C0FRESH000", "fresh")
    assert fresh.members == {ids.ALICE, ids.BOB, ids.CAROL, ids.DAVE, ids.BOT_USER_ID}
    ws.join("C0FRESH000", ids.GUEST)  # a multi-channel guest may be invited anywhere
    with pytest.raises(ValueError, match="single-channel guest"):
        ws.join("C0FRESH000", ids.SINGLE_GUEST)


async def test_conversations_members_pages_with_cursors(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await slack_client.conversations_members(channel=C, limit=3, cursor=cursor)
        pages.append(page["members"])
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    members = [member for page in pages for member in page]
    assert [len(page) for page in pages] == [3, 3, 2]
    assert set(members) == {
        ids.ALICE,
        ids.BOB,
        ids.CAROL,
        ids.GUEST,
        ids.SINGLE_GUEST,
        ids.EXTERNAL,
        ids.OTHER_BOT_USER_ID,
        ids.BOT_USER_ID,
    }
    assert len(members) == len(set(members))

    everyone = await slack_client.conversations_members(channel=C)
    assert everyone["members"] == members
    assert everyone["response_metadata"] == {"next_cursor": ""}
    # A public channel the bot is not in can still be listed (channels:read).
    general = await slack_client.conversations_members(channel=ids.GENERAL_CHANNEL)
    assert ids.DAVE in general["members"] and ids.BOT_USER_ID not in general["members"]
    assert _spec_problems(slack_emulator) == []

    slack_emulator.workspace.add_channel(
        "C0SECRET00", "secret", private=True, members={ids.ALICE}, bot_member=False
    )
    for channel in ("C0SECRET00", "C0NOPE0000"):
        error = await _error_of(slack_client.conversations_members(channel=channel))
        assert error == "channel_not_found"
    bad_cursor = slack_client.conversations_members(channel=C, cursor="bogus")
    assert await _error_of(bad_cursor) == "invalid_cursor"


async def test_cursor_survives_membership_changes(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    first = await slack_client.conversations_members(channel=C, limit=2)
    resumed_at = sorted(slack_emulator.workspace.channel(C).members)[2]
    slack_emulator.workspace.leave(C, resumed_at)
    rest = await slack_client.conversations_members(
        channel=C, cursor=first["response_metadata"]["next_cursor"]
    )
    assert resumed_at not in rest["members"]
    assert set(first["members"]) | set(rest["members"]) == (
        slack_emulator.workspace.channel(C).members
    )


async def test_user_groups(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    support = await slack_client.usergroups_users_list(usergroup=ids.SUPPORT_GROUP)
    assert support["users"] == [ids.ALICE, ids.BOB]
    unknown = slack_client.usergroups_users_list(usergroup="S0NOSUCHGROUP")
    assert await _error_of(unknown) == "no_such_subteam"

    listed = await slack_client.usergroups_list(include_users=True, include_count=True)
    [group] = listed["usergroups"]
    assert (group["id"], group["handle"], group["users"], group["user_count"]) == (
        ids.SUPPORT_GROUP,
        ids.SUPPORT_HANDLE,
        [ids.ALICE, ids.BOB],
        2,
    )
    plain = await slack_client.usergroups_list()
    assert "users" not in plain["usergroups"][0] and "user_count" not in plain["usergroups"][0]

    ws = slack_emulator.workspace
    ws.add_usergroup("S0OLDTEAM", "old-team", [ids.CAROL]).enabled = False
    disabled = slack_client.usergroups_users_list(usergroup="S0OLDTEAM")
    assert await _error_of(disabled) == "no_such_subteam"
    included = await slack_client.usergroups_users_list(
        usergroup="S0OLDTEAM", include_disabled=True
    )
    assert included["users"] == [ids.CAROL]
    assert [g["id"] for g in (await slack_client.usergroups_list())["usergroups"]] == [
        ids.SUPPORT_GROUP
    ]
    with_disabled = await slack_client.usergroups_list(include_disabled=True)
    assert [g["date_delete"] > 0 for g in with_disabled["usergroups"]] == [False, True]

    ws.usergroup(ids.SUPPORT_GROUP).users.append(ids.CAROL)
    again = await slack_client.usergroups_users_list(usergroup=ids.SUPPORT_GROUP)
    assert again["users"] == [ids.ALICE, ids.BOB, ids.CAROL]
    assert _spec_problems(slack_emulator) == []


async def test_people_methods_have_their_rate_limit_tiers(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    # usergroups.users.list is Tier 2 (20+ per minute).
    for _ in range(20):
        await slack_client.usergroups_users_list(usergroup=ids.SUPPORT_GROUP)
    with pytest.raises(SlackApiError) as raised:
        await slack_client.usergroups_users_list(usergroup=ids.SUPPORT_GROUP)
    assert raised.value.response.status_code == 429
    assert int(raised.value.response.headers["Retry-After"]) >= 1
    # conversations.members is Tier 4 (100+ per minute): 21 calls are fine.
    for _ in range(21):
        await slack_client.conversations_members(channel=C)


async def test_message_events_carry_the_posters_team(slack_emulator: SlackEmulator) -> None:
    outsider = await slack_emulator.post_message(ids.EXTERNAL, C, "from another org")
    member = await slack_emulator.post_message(ids.ALICE, C, "from here")
    guest = await slack_emulator.post_message(ids.SINGLE_GUEST, C, "guest here")
    await slack_emulator.post_bot_message(ids.OTHER_BOT_USER_ID, C, "a bot")
    await slack_emulator.edit_message(ids.EXTERNAL, C, outsider, "edited")
    await slack_emulator.post_message(ids.ALICE, ids.PRIVATE_CHANNEL, "not shared")
    await slack_emulator.drain()
    payloads = [d.payload for d in slack_emulator.deliveries]
    events = {p["event"].get("ts"): p["event"] for p in payloads}
    assert {k: events[outsider][k] for k in ("team", "user_team", "source_team")} == {
        "team": ids.OTHER_TEAM_ID,
        "user_team": ids.OTHER_TEAM_ID,
        "source_team": ids.OTHER_TEAM_ID,
    }
    for ts in (member, guest):
        assert (events[ts]["user_team"], events[ts]["source_team"]) == (ids.TEAM_ID, ids.TEAM_ID)
    bot_event = next(p["event"] for p in payloads if p["event"].get("text") == "a bot")
    assert "user_team" not in bot_event and "source_team" not in bot_event
    changed = next(p["event"] for p in payloads if p["event"].get("subtype") == "message_changed")
    assert changed["message"]["user_team"] == ids.OTHER_TEAM_ID
    # Events from the Slack Connect channel say so; the private channel is not shared.
    assert [p["is_ext_shared_channel"] for p in payloads] == [True] * 5 + [False]
    assert all(p["team_id"] == ids.TEAM_ID for p in payloads)


async def test_conversations_info_shows_the_shared_channel(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    shared = (await slack_client.conversations_info(channel=C))["channel"]
    assert (shared["is_shared"], shared["is_ext_shared"]) == (True, True)
    private = (await slack_client.conversations_info(channel=ids.PRIVATE_CHANNEL))["channel"]
    assert (private["is_shared"], private["is_ext_shared"]) == (False, False)
    assert _spec_problems(slack_emulator) == []


async def test_slash_command_from_a_direct_message(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    seen: list[JsonDict] = []

    @bolt_app.command("/as-ai")
    async def as_ai(ack: AsyncAck, command: JsonDict, respond: AsyncRespond) -> None:
        seen.append(command)
        await ack("Got it")
        await respond(text="visible in the DM", response_type="in_channel")

    @bolt_app.event("message")
    async def on_message() -> None:
        pass

    dm = ids.dm_id(ids.ALICE)
    assert dm == "D0ALICE00"
    result = await slack_emulator.run_slash_command(ids.ALICE, dm, "/as-ai", "ref-1 hello")
    assert result.ok, result
    [command] = seen
    assert (command["channel_id"], command["channel_name"]) == (dm, "directmessage")
    assert (command["team_id"], command["team_domain"]) == (ids.TEAM_ID, ids.TEAM_DOMAIN)
    assert [(e.text, e.channel) for e in result.shown] == [("Got it", dm)]
    posted = await slack_emulator.wait_for_message(dm, lambda m: m.text == "visible in the DM")
    assert posted.user == ids.BOT_USER_ID

    # The app can use the DM like any conversation it is in.
    client = bolt_app.client
    info = (await client.conversations_info(channel=dm))["channel"]
    assert (info["is_im"], info["user"]) == (True, ids.ALICE)
    assert (await client.conversations_members(channel=dm))["members"] == sorted(
        [ids.ALICE, ids.BOT_USER_ID]
    )
    await client.chat_postMessage(channel=dm, text="hello Alice")
    human = await slack_emulator.post_message(ids.ALICE, dm, "thanks")
    await slack_emulator.drain()
    event = next(d.event for d in slack_emulator.deliveries if d.event.get("ts") == human)
    assert (event["channel"], event["channel_type"]) == (dm, "im")
    assert [m.text for m in slack_emulator.messages(dm)] == [
        "visible in the DM",
        "hello Alice",
        "thanks",
    ]
    assert slack_emulator.open_dm(ids.ALICE) == dm


async def test_slash_commands_of_guests_and_slack_connect_users(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    seen: list[JsonDict] = []

    @bolt_app.command("/as-ai")
    async def as_ai(ack: AsyncAck, command: JsonDict) -> None:
        seen.append(command)
        await ack()

    guest = await slack_emulator.run_slash_command(ids.SINGLE_GUEST, C, "/as-ai", "hi")
    assert guest.ok and seen[-1]["team_id"] == ids.TEAM_ID

    # The app is installed in this workspace only: the other org's user has no such command.
    delivered = len(slack_emulator.deliveries)
    outsider = await slack_emulator.run_slash_command(ids.EXTERNAL, C, "/as-ai", "hi")
    assert (outsider.error, outsider.outcome) == ("not_a_valid_command", Outcome.NOT_SENT)
    assert [(e.source, e.text.split(" ")[0]) for e in outsider.shown] == [
        (EphemeralSource.SLACKBOT, "/as-ai")
    ]
    assert len(slack_emulator.deliveries) == delivered and len(seen) == 1

    # Installed in their workspace too, the command comes from their team.
    slack_emulator.workspace.app_installed_teams.add(ids.OTHER_TEAM_ID)
    again = await slack_emulator.run_slash_command(ids.EXTERNAL, C, "/as-ai", "hi")
    assert again.ok
    assert (seen[-1]["team_id"], seen[-1]["team_domain"], seen[-1]["user_id"]) == (
        ids.OTHER_TEAM_ID,
        ids.OTHER_TEAM_DOMAIN,
        ids.EXTERNAL,
    )


async def test_button_clicks_carry_the_clickers_team(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    bodies: list[JsonDict] = []

    @bolt_app.action("claim")
    async def claim(ack: AsyncAck, body: JsonDict) -> None:
        bodies.append(body)
        await ack()

    @bolt_app.event("message")
    async def on_message() -> None:
        pass

    posted = await bolt_app.client.chat_postMessage(channel=C, text="claim?", blocks=BUTTON_BLOCKS)
    for user in (ids.ALICE, ids.GUEST, ids.EXTERNAL):
        result = await slack_emulator.click_button(user, C, posted["ts"], "claim")
        assert result.ok
    teams = [(b["user"]["id"], b["user"]["team_id"], b["team"]["id"]) for b in bodies]
    assert teams == [
        (ids.ALICE, ids.TEAM_ID, ids.TEAM_ID),
        (ids.GUEST, ids.TEAM_ID, ids.TEAM_ID),
        (ids.EXTERNAL, ids.OTHER_TEAM_ID, ids.OTHER_TEAM_ID),
    ]
    assert bodies[2]["team"]["domain"] == ids.OTHER_TEAM_DOMAIN
