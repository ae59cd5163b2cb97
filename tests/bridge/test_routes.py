"""Routing rules: which channel, mention and priority a handoff gets, and bad rules files."""

from pathlib import Path

import pytest

from slack_bridge.errors import ConfigError
from slack_bridge.ids import ChannelId
from slack_bridge.routes import (
    HandoffFacts,
    Priority,
    Route,
    Routes,
    default_routes,
    load_routes,
)

HANDOFF_CHANNEL = ChannelId("C0HANDOFF")
REPO_ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Routes:
    return load_routes(write(tmp_path, text), HANDOFF_CHANNEL)


def rule(name: str, criteria: str, channel: str = "C0RULE") -> str:
    return f'[[rule]]\nname = "{name}"\nchannel = "{channel}"\n{criteria}\n'


def routed(routes: Routes, **facts: object) -> str:
    return routes.route(HandoffFacts(**facts)).name  # type: ignore[arg-type]


def test_the_first_matching_rule_wins(tmp_path: Path) -> None:
    routes = load(
        tmp_path,
        rule("fraud", 'reason_words = "fraud"', "C0FRAUD")
        + rule("vip", 'session_labels = "vip"', "C0VIP")
        + rule("also-fraud", 'reason_words = "fraud"', "C0OTHER"),
    )

    assert routed(routes, reason="fraud", session_labels=frozenset({"vip"})) == "fraud"
    assert routed(routes, reason="help", session_labels=frozenset({"vip"})) == "vip"
    assert routes.route(HandoffFacts(reason="Fraud!")).channel == "C0FRAUD"


def test_a_handoff_no_rule_matches_takes_the_default_route(tmp_path: Path) -> None:
    routes = load(tmp_path, rule("vip", 'session_labels = "vip"'))

    route = routes.route(HandoffFacts(reason="help", session_labels=frozenset({"new"})))

    assert route is routes.default
    assert (route.name, route.channel, route.mention) == ("default", HANDOFF_CHANNEL, None)
    assert (route.priority, route.alert_after_seconds) == (Priority.NORMAL, 300.0)


def test_without_a_file_every_handoff_goes_to_the_handoff_channel() -> None:
    routes = default_routes(HANDOFF_CHANNEL)

    assert routes.rules == ()
    assert routes.route(HandoffFacts(reason="fraud")) == Route(
        name="default", channel=HANDOFF_CHANNEL, priority=Priority.NORMAL
    )
    assert routes.channels == (HANDOFF_CHANNEL,)


def test_a_rule_carries_its_channel_mention_priority_and_alert(tmp_path: Path) -> None:
    routes = load(
        tmp_path,
        rule(
            "fraud",
            'mention = "S0FRAUD"\npriority = "HIGH"\nalert_after_minutes = 1.5\n'
            'reason_words = "fraud"',
            "G0FRAUD",
        ),
    )

    route = routes.route(HandoffFacts(reason="fraud"))

    assert (route.channel, route.mention, route.priority) == ("G0FRAUD", "S0FRAUD", Priority.HIGH)
    assert route.alert_after_seconds == 90.0


def test_a_rule_does_not_inherit_the_default_settings(tmp_path: Path) -> None:
    routes = load(
        tmp_path,
        '[default]\nmention = "S0SUPPORT"\npriority = "low"\nalert_after_minutes = 10\n'
        + rule("vip", 'session_labels = "vip"'),
    )

    vip = routes.rules[0]
    assert (vip.mention, vip.priority, vip.alert_after_seconds) == (None, Priority.NORMAL, 300.0)
    assert (routes.default.mention, routes.default.priority) == ("S0SUPPORT", Priority.LOW)
    assert routes.default.alert_after_seconds == 600.0
    assert routes.default.channel == HANDOFF_CHANNEL


def test_the_default_table_may_move_the_default_channel(tmp_path: Path) -> None:
    routes = load(tmp_path, '[default]\nchannel = "C0ELSEWHERE"\n')

    assert routes.route(HandoffFacts()).channel == "C0ELSEWHERE"


def test_an_empty_file_routes_everything_to_the_default(tmp_path: Path) -> None:
    routes = load(tmp_path, "# nothing yet\n")

    assert routes == default_routes(HANDOFF_CHANNEL)


@pytest.mark.parametrize(
    ("criteria", "matching", "not_matching"),
    [
        (
            'session_labels = ["vip", "press"]',
            {"session_labels": frozenset({"new", "press"})},
            {"session_labels": frozenset({"VIP"})},
        ),
        (
            'customer_tags = ["gold", "tag_123"]',
            {"customer_tags": frozenset({"tag_123", "silver"})},
            {"customer_tags": frozenset({"Gold"})},
        ),
        (
            'customer_metadata = { plan = "enterprise" }',
            {"customer_metadata": {"plan": "enterprise"}},
            {"customer_metadata": {"Plan": "enterprise"}},
        ),
        (
            'customer_metadata = { plan = ["pro", "enterprise"] }',
            {"customer_metadata": {"plan": "pro"}},
            {"customer_metadata": {"plan": "Pro"}},
        ),
        (
            "customer_metadata = { tier = 3 }",
            {"customer_metadata": {"tier": "3"}},
            {"customer_metadata": {}},
        ),
        (
            'reason_words = ["fraud", "stolen card"]',
            {"reason": "They said my Stolen  Card was used"},
            {"reason": "a fraudulent charge"},
        ),
        (
            'agent_ids = ["agent-a", "agent-b"]',
            {"agent_id": "agent-b"},
            {"agent_id": "agent-c"},
        ),
        (
            'journeys = "File a claim"',
            {"journeys": frozenset({"Explain coverage", "file a CLAIM"})},
            {"journeys": frozenset()},
        ),
    ],
)
def test_each_kind_of_criterion(
    tmp_path: Path,
    criteria: str,
    matching: dict[str, object],
    not_matching: dict[str, object],
) -> None:
    routes = load(tmp_path, rule("the-rule", criteria))

    assert routed(routes, **matching) == "the-rule"
    assert routed(routes, **not_matching) == "default"


def test_every_kind_set_must_hold_and_any_value_within_one_will_do(tmp_path: Path) -> None:
    routes = load(
        tmp_path,
        rule(
            "vip-gold",
            'session_labels = ["vip", "press"]\ncustomer_tags = ["gold", "platinum"]\n'
            'customer_metadata = { plan = "enterprise", region = ["eu", "uk"] }',
        ),
    )
    everything = {
        "session_labels": frozenset({"press"}),
        "customer_tags": frozenset({"platinum"}),
        "customer_metadata": {"plan": "enterprise", "region": "uk", "other": "x"},
    }

    assert routed(routes, **everything) == "vip-gold"
    assert routed(routes, **{**everything, "session_labels": frozenset()}) == "default"
    assert routed(routes, **{**everything, "customer_tags": frozenset({"silver"})}) == "default"
    assert routed(routes, **{**everything, "customer_metadata": {"plan": "enterprise"}}) == (
        "default"
    )


@pytest.mark.parametrize(
    ("words", "reason", "matches"),
    [
        ("fraud", "This looks like fraud.", True),
        ("fraud", "FRAUD on my account", True),
        ("fraud", "anti-fraud team please", True),
        ("fraud", "a fraudulent charge", False),
        ("fraud", "defraud", False),
        ("stolen card", "Stolen card!", True),
        ("stolen card", "my stolen\ncard", True),
        ("stolen card", "stolen cards", False),
        ("stolen card", "card stolen", False),
        ("stolen card", "stolen credit card", False),
        ("c++", "help with c++ please", True),
        ("a.b", "axb", False),
    ],
)
def test_reason_words_match_whole_words_in_any_case(
    tmp_path: Path, words: str, reason: str, matches: bool
) -> None:
    routes = load(tmp_path, rule("words", f'reason_words = ["{words}"]'))

    assert (routed(routes, reason=reason) == "words") is matches


def test_channels_lists_each_channel_once_the_default_first(tmp_path: Path) -> None:
    routes = load(
        tmp_path,
        rule("a", 'session_labels = "a"', "C0B")
        + rule("b", 'session_labels = "b"', "C0A")
        + rule("c", 'session_labels = "c"', "C0B")
        + rule("d", 'session_labels = "d"', str(HANDOFF_CHANNEL)),
    )

    assert routes.channels == (HANDOFF_CHANNEL, "C0B", "C0A")


def test_a_recorded_route_is_found_by_name_and_a_lost_one_falls_back(tmp_path: Path) -> None:
    routes = load(tmp_path, rule("vip", 'session_labels = "vip"'))

    assert routes.named("vip") is routes.rules[0]
    assert routes.named("default") is routes.default
    assert routes.named("removed-since") is routes.default
    assert routes.named(None) is routes.default
    assert [route.name for route in routes.all] == ["default", "vip"]


def test_priorities_sort_high_first() -> None:
    assert sorted([Priority.LOW, Priority.HIGH, Priority.NORMAL]) == [
        Priority.HIGH,
        Priority.NORMAL,
        Priority.LOW,
    ]


def test_the_documented_example_loads() -> None:
    routes = load_routes(REPO_ROOT / "docs" / "routes.example.toml", HANDOFF_CHANNEL)

    assert routes.route(HandoffFacts(reason="my card was stolen, is it fraud?")).name == "fraud"
    assert routes.route(HandoffFacts(journeys=frozenset({"File a claim"}))).name == "claims"


FIRST = rule("first", 'session_labels = "x"')

RULE_PROBLEMS = [
    (
        'name = "fraud"\nchanel = "C0FRAUD"\nreason_words = "fraud"',
        "fraud",
        "unknown key 'chanel' (did you mean 'channel'?)",
    ),
    (
        'name = "fraud"\nchannel = "#fraud"\nreason_words = "fraud"',
        "fraud",
        "channel must be a channel id like C0123ABCD, got '#fraud'",
    ),
    (
        'name = "fraud"\nchannel = 12\nreason_words = "fraud"',
        "fraud",
        "channel must be a channel id like C0123ABCD, got an integer",
    ),
    (
        'name = "fraud"\nchannel = "C0F"\nmention = "@fraud-team"\nreason_words = "fraud"',
        "fraud",
        "mention must be a user-group id (S…) or a user id (U…, W…), got '@fraud-team'",
    ),
    (
        'name = "fraud"\nchannel = "C0F"\npriority = "urgent"\nreason_words = "fraud"',
        "fraud",
        "priority must be high, normal or low, got 'urgent'",
    ),
    (
        'name = "fraud"\nchannel = "C0F"\npriority = 1\nreason_words = "fraud"',
        "fraud",
        "priority must be high, normal or low, got an integer",
    ),
    (
        'name = "fraud"\nchannel = "C0F"\nalert_after_minutes = 0\nreason_words = "fraud"',
        "fraud",
        "alert_after_minutes must be more than 0 and at most 1440 (24 hours), got 0",
    ),
    (
        'name = "fraud"\nchannel = "C0F"\nalert_after_minutes = 1441\nreason_words = "fraud"',
        "fraud",
        "alert_after_minutes must be more than 0 and at most 1440 (24 hours), got 1441",
    ),
    (
        'name = "fraud"\nchannel = "C0F"\nalert_after_minutes = "5"\nreason_words = "fraud"',
        "fraud",
        "alert_after_minutes must be a number, got '5'",
    ),
    (
        'name = "fraud"\nchannel = "C0F"\nalert_after_minutes = true\nreason_words = "fraud"',
        "fraud",
        "alert_after_minutes must be a number, got a boolean",
    ),
    (
        'name = "fraud"\nchannel = "C0F"\nalert_after_minutes = nan\nreason_words = "fraud"',
        "fraud",
        "alert_after_minutes must be a number, got a float",
    ),
    (
        'name = "catch-all"\nchannel = "C0F"\nmention = "S0ALL"',
        "catch-all",
        "no match criteria: set at least one of session_labels, customer_tags,"
        " customer_metadata, reason_words, agent_ids, journeys"
        " (for handoffs no rule matches, use [default])",
    ),
    (
        'name = "labels"\nchannel = "C0F"\nsession_labels = 3',
        "labels",
        "session_labels must be a string or a list of strings, got an integer",
    ),
    (
        'name = "words"\nchannel = "C0F"\nreason_words = ["fraud", 2]',
        "words",
        "reason_words must be a string or a list of strings, got an array",
    ),
    (
        'name = "journeys"\nchannel = "C0F"\njourneys = []',
        "journeys",
        "journeys is an empty list: it would never match (remove it instead)",
    ),
    (
        'name = "tags"\nchannel = "C0F"\ncustomer_tags = ["gold", " "]',
        "tags",
        "customer_tags has a blank entry",
    ),
    (
        'name = "agents"\nchannel = "C0F"\nagent_ids = { id = "a" }',
        "agents",
        "agent_ids must be a string or a list of strings, got a table",
    ),
    (
        'name = "meta"\nchannel = "C0F"\ncustomer_metadata = "plan"',
        "meta",
        "customer_metadata must be a table like { plan = 'pro' }, got a string",
    ),
    (
        'name = "meta"\nchannel = "C0F"\ncustomer_metadata = {}',
        "meta",
        "customer_metadata is an empty table: remove it instead",
    ),
    (
        'name = "meta"\nchannel = "C0F"\ncustomer_metadata = { vip = true }',
        "meta",
        "customer_metadata.vip must be a string, an integer or a non-empty list of them,"
        " got a boolean",
    ),
    (
        'name = "meta"\nchannel = "C0F"\ncustomer_metadata = { plan = [] }',
        "meta",
        "customer_metadata.plan must be a string, an integer or a non-empty list of them,"
        " got an array",
    ),
    (
        'name = "first"\nchannel = "C0F"\nreason_words = "fraud"',
        "first",
        "the name is already used by rule 1",
    ),
    ('channel = "C0F"\nreason_words = "fraud"', "unnamed", "missing name"),
    (
        'name = ""\nchannel = "C0F"\nreason_words = "fraud"',
        "unnamed",
        "name must be a non-blank single-line string of at most 80 characters",
    ),
    (
        'name = "two\\nlines"\nchannel = "C0F"\nreason_words = "fraud"',
        "unnamed",
        "name must be a non-blank single-line string of at most 80 characters",
    ),
    (
        'name = "default"\nchannel = "C0F"\nreason_words = "fraud"',
        "default",
        "the name 'default' is kept for handoffs no rule matches",
    ),
    ('name = "fraud"\nreason_words = "fraud"', "fraud", "missing channel"),
]


@pytest.mark.parametrize(("body", "name", "problem"), RULE_PROBLEMS)
def test_a_bad_rule_is_named_on_one_line(
    tmp_path: Path, body: str, name: str, problem: str
) -> None:
    path = write(tmp_path, f"{FIRST}\n[[rule]]\n{body}\n")

    with pytest.raises(ConfigError) as raised:
        load_routes(path, HANDOFF_CHANNEL)

    assert str(raised.value) == f"HANDOFF_ROUTES {path}: rule 2 ({name}): {problem}"


FILE_PROBLEMS = [
    (
        'rules = []\n[default]\nmention = "S0A"\n',
        "unknown top-level key 'rules' (did you mean 'rule'?)"
        " (the file holds one [default] table and [[rule]] tables)",
    ),
    (
        '[rule]\nname = "fraud"\nchannel = "C0F"\n',
        "rules must be an array of tables: write [[rule]], not [rule]",
    ),
    ("rule = [1]\n", "rule 1 (unnamed): must be a table, got an integer"),
    ('[default]\nmention = "S0A"\nreason_words = "x"\n', "[default]: unknown key 'reason_words'"),
    ('[default]\nchanel = "C0A"\n', "[default]: unknown key 'chanel' (did you mean 'channel'?)"),
    (
        '[default]\nchannel = "general"\n',
        "[default]: channel must be a channel id like C0123ABCD, got 'general'",
    ),
    ("default = 5\n", "[default]: must be a table"),
    (
        '[[rule]]\nname = "fraud"\nchannel = "C0F" x\n',
        "not valid TOML: Expected newline or end of document after a statement"
        " (at line 3, column 17)",
    ),
    (
        '[[rule]]\nname = "fraud"\nchannel = ',
        "not valid TOML: Invalid value (at the end, line 3)",
    ),
]


@pytest.mark.parametrize(("text", "problem"), FILE_PROBLEMS)
def test_a_bad_file_is_named_on_one_line(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConfigError) as raised:
        load_routes(path, HANDOFF_CHANNEL)

    assert str(raised.value) == f"HANDOFF_ROUTES {path}: {problem}"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    with pytest.raises(ConfigError) as raised:
        load_routes(path, HANDOFF_CHANNEL)

    assert str(raised.value) == f"HANDOFF_ROUTES {path}: no such file"


def test_a_directory_or_binary_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_routes(tmp_path, HANDOFF_CHANNEL)
    assert str(raised.value) == f"HANDOFF_ROUTES {tmp_path}: cannot read it (Is a directory)"

    binary = tmp_path / "routes.toml"
    binary.write_bytes(b"name = '\xff'\n")
    with pytest.raises(ConfigError) as raised:
        load_routes(binary, HANDOFF_CHANNEL)
    assert str(raised.value) == f"HANDOFF_ROUTES {binary}: not UTF-8 text (byte 8)"


def test_a_line_break_in_the_path_cannot_split_the_message(tmp_path: Path) -> None:
    folder = tmp_path / "two\nlines"
    folder.mkdir()

    with pytest.raises(ConfigError) as raised:
        load_routes(folder / "routes.toml", HANDOFF_CHANNEL)

    assert len(str(raised.value).splitlines()) == 1
