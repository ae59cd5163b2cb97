"""The operator rules, with a small stand-in for Slack's answers (no network)."""

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.ids import ChannelId, UserId
from slack_bridge.operators import OperatorGate, OperatorRule, Verdict

TEAM = "T0HOME"
CHANNEL = ChannelId("C0HANDOFF")
PEOPLE: dict[str, dict[str, Any]] = {
    "U0ALICE": {"team_id": TEAM},
    "U0BOB": {"team_id": TEAM},
    "U0OUTSIDE": {"team_id": TEAM},
    "U0GUEST": {"team_id": TEAM, "is_restricted": True},
    "U0SINGLE": {"team_id": TEAM, "is_ultra_restricted": True},
    "U0CONNECT": {"team_id": "T0OTHER"},
    "U0BOT": {"team_id": TEAM, "is_bot": True},
    "U0GONE": {"team_id": TEAM, "deleted": True},
}
CHANNEL_MEMBERS = ["U0ALICE", "U0BOB", "U0GUEST", "U0SINGLE", "U0CONNECT", "U0BOT", "U0GONE"]


class FakeSlack:
    """Answers the four calls the gate makes, counting them."""

    def __init__(self, broken: bool = False) -> None:
        self.calls: list[str] = []
        self.broken = broken

    async def auth_test(self) -> dict[str, Any]:
        self.calls.append("auth.test")
        return {"team_id": TEAM}

    async def users_info(self, *, user: str) -> dict[str, Any]:
        self.calls.append(f"users.info {user}")
        if self.broken:
            raise SlackApiError("boom", {"ok": False, "error": "fatal_error"})
        return {"user": {"id": user, **PEOPLE[user]}}

    async def conversations_members(
        self, *, channel: str, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        self.calls.append(f"conversations.members {cursor}")
        if channel != CHANNEL:  # the other handoff channel, a DM, #general: only Outside
            return {"members": ["U0OUTSIDE"], "response_metadata": {"next_cursor": ""}}
        page = 0 if cursor is None else int(cursor)
        members = CHANNEL_MEMBERS[page * 3 : page * 3 + 3]
        more = (page + 1) * 3 < len(CHANNEL_MEMBERS)
        return {
            "members": members,
            "response_metadata": {"next_cursor": str(page + 1) if more else ""},
        }

    async def usergroups_users_list(self, *, usergroup: str) -> dict[str, Any]:
        self.calls.append(f"usergroups.users.list {usergroup}")
        return {"users": ["U0BOB"] if usergroup == "S0SUPPORT" else []}


def gate(slack: FakeSlack, rule: OperatorRule | None = None) -> OperatorGate:
    client: AsyncWebClient = slack  # type: ignore[assignment]
    return OperatorGate(client, CHANNEL, rule or OperatorRule())


@pytest.mark.parametrize(
    ("user", "user_team", "verdict"),
    [
        ("U0ALICE", None, Verdict.OPERATOR),
        ("U0ALICE", TEAM, Verdict.OPERATOR),
        ("U0ALICE", "T0OTHER", Verdict.EXTERNAL),  # the event says another team
        ("U0OUTSIDE", None, Verdict.NOT_OPERATOR),  # not in the channel
        ("U0GUEST", None, Verdict.GUEST),
        ("U0SINGLE", None, Verdict.GUEST),
        ("U0CONNECT", None, Verdict.EXTERNAL),
        ("U0BOT", None, Verdict.NOT_OPERATOR),
        ("U0GONE", None, Verdict.NOT_OPERATOR),
    ],
)
async def test_by_default_full_members_of_the_channel_are_operators(
    user: str, user_team: str | None, verdict: Verdict
) -> None:
    assert await gate(FakeSlack()).check(UserId(user), user_team) is verdict


@pytest.mark.parametrize(
    ("user", "verdict"),
    [
        ("U0ALICE", Verdict.OPERATOR),  # listed by id
        ("U0BOB", Verdict.OPERATOR),  # through the group
        ("U0OUTSIDE", Verdict.NOT_OPERATOR),
        ("U0GUEST", Verdict.GUEST),  # listing never makes a guest an operator
    ],
)
async def test_a_list_of_users_and_groups_replaces_channel_membership(
    user: str, verdict: Verdict
) -> None:
    rule = OperatorRule(users=frozenset({"U0ALICE", "U0GUEST"}), groups=frozenset({"S0SUPPORT"}))
    slack = FakeSlack()
    assert await gate(slack, rule).check(UserId(user)) is verdict
    assert not any(call.startswith("conversations.members") for call in slack.calls)


async def test_answers_are_cached_and_pages_are_followed() -> None:
    slack = FakeSlack()
    checks = gate(slack)
    for _ in range(5):
        assert await checks.check(UserId("U0GONE")) is Verdict.NOT_OPERATOR
        assert await checks.check(UserId("U0BOB")) is Verdict.OPERATOR
    assert slack.calls == [
        "auth.test",
        "users.info U0GONE",
        "users.info U0BOB",
        "conversations.members None",
        "conversations.members 1",
        "conversations.members 2",
    ]


async def test_when_slack_cannot_say_nobody_is_let_through() -> None:
    assert await gate(FakeSlack(broken=True)).check(UserId("U0ALICE")) is Verdict.UNKNOWN


def test_the_rule_is_read_from_slack_operators() -> None:
    from slack_bridge.config import load_bridge_settings
    from slack_bridge.errors import ConfigError
    from tests.support.processes import OPERATOR_TOKEN

    base = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_HANDOFF_CHANNEL": "C0HANDOFF",
        "PARLANT_API_TOKEN": OPERATOR_TOKEN,
    }
    settings = load_bridge_settings({**base, "SLACK_OPERATORS": "U0A1, S0B2 W0C3"})
    assert settings.operators == OperatorRule(
        users=frozenset({"U0A1", "W0C3"}), groups=frozenset({"S0B2"})
    )
    assert load_bridge_settings(base).operators.channel_members
    with pytest.raises(ConfigError, match=r"^SLACK_OPERATORS must list"):
        load_bridge_settings({**base, "SLACK_OPERATORS": "alice"})


async def test_each_handoff_channel_has_its_members_and_no_other_channel_counts() -> None:
    fraud = ChannelId("C0FRAUD")
    client: AsyncWebClient = FakeSlack()  # type: ignore[assignment]
    gate = OperatorGate(client, CHANNEL, OperatorRule(), channels=frozenset({CHANNEL, fraud}))
    outsider, alice = UserId("U0OUTSIDE"), UserId("U0ALICE")
    assert await gate.check(outsider, channel=fraud) is Verdict.OPERATOR
    assert await gate.check(alice, channel=fraud) is Verdict.NOT_OPERATOR
    assert await gate.check(alice, channel=CHANNEL) is Verdict.OPERATOR
    # A channel handoffs never go to (a DM with the app, #general) makes nobody an operator:
    # the handoff channel decides.
    for elsewhere in (ChannelId("D0OUTSIDE"), ChannelId("C0GENERAL")):
        assert await gate.check(outsider, channel=elsewhere) is Verdict.NOT_OPERATOR
