"""Where a handoff is announced: the rules of the ``HANDOFF_ROUTES`` file (TOML).

Each ``[[rule]]`` names a channel, and optionally a mention, a priority and an alert
interval, for the handoffs it matches; the first rule that matches wins, and a handoff no
rule matches goes to the default route (``SLACK_HANDOFF_CHANNEL``, tuned by ``[default]``).
The schema is documented in ``docs/routes.example.toml``.
"""

import difflib
import enum
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Final

from slack_bridge.errors import ConfigError
from slack_bridge.ids import ChannelId

CHANNEL_ID: Final = re.compile(r"^[CG][A-Z0-9]{2,}$")
MENTION_ID: Final = re.compile(r"^[SUW][A-Z0-9]{2,}$")
"""A user group (``S…``, rendered ``<!subteam^S…>``) or a user (``U…``/``W…``, ``<@U…>``)."""
DEFAULT_NAME: Final = "default"
DEFAULT_ALERT_SECONDS: Final = 5 * 60.0
MAX_ALERT_MINUTES: Final = 24 * 60

CRITERIA: Final = (
    "session_labels",
    "customer_tags",
    "customer_metadata",
    "reason_words",
    "agent_ids",
    "journeys",
)
_SETTINGS: Final = ("channel", "mention", "priority", "alert_after_minutes")
_RULE_KEYS: Final = ("name", *_SETTINGS, *CRITERIA)


class Priority(enum.IntEnum):
    """Lower sorts first."""

    HIGH = 0
    NORMAL = 1
    LOW = 2


@dataclass(frozen=True, kw_only=True)
class HandoffFacts:
    """What the bridge knows of a handoff when it picks a route."""

    session_labels: frozenset[str] = frozenset()
    customer_tags: frozenset[str] = frozenset()
    """Tag names and tag ids both, so a rule may name either."""
    customer_metadata: Mapping[str, str] = field(default_factory=dict, hash=False)
    reason: str = ""
    agent_id: str = ""
    journeys: frozenset[str] = frozenset()
    """Titles of the journeys the session was in (the caller may add their ids too)."""


@dataclass(frozen=True, kw_only=True)
class Route:
    """A channel and how to announce there; a rule also carries what it matches.

    A handoff matches when every criterion the rule sets holds (AND across kinds, and
    across the keys of ``customer_metadata``) and, within one criterion, any listed value
    does (OR). A route that sets no criterion, such as the default, matches everything.
    """

    name: str
    channel: ChannelId
    mention: str | None = None
    priority: Priority = Priority.NORMAL
    alert_after_seconds: float = DEFAULT_ALERT_SECONDS
    """Announce again, with the mention, a handoff unclaimed for longer than this."""
    session_labels: frozenset[str] = frozenset()
    customer_tags: frozenset[str] = frozenset()
    customer_metadata: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)
    reason_words: tuple[str, ...] = ()
    """Whole words or phrases of the handoff reason, matched case-insensitively."""
    agent_ids: frozenset[str] = frozenset()
    journeys: frozenset[str] = frozenset()
    """Journey titles (or ids), compared case-insensitively."""
    _reason: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_reason", _phrases_pattern(self.reason_words))

    def matches(self, facts: HandoffFacts) -> bool:
        return (
            _any_of(self.session_labels, facts.session_labels)
            and _any_of(self.customer_tags, facts.customer_tags)
            and all(
                facts.customer_metadata.get(key) in values
                for key, values in self.customer_metadata.items()
            )
            and (self._reason is None or self._reason.search(facts.reason) is not None)
            and (not self.agent_ids or facts.agent_id in self.agent_ids)
            and _any_of(
                {title.casefold() for title in self.journeys},
                {title.casefold() for title in facts.journeys},
            )
        )


@dataclass(frozen=True)
class Routes:
    rules: tuple[Route, ...]
    default: Route

    def route(self, facts: HandoffFacts) -> Route:
        """The first rule that matches ``facts``, else the default route."""
        return next((rule for rule in self.rules if rule.matches(facts)), self.default)

    def named(self, name: str | None) -> Route:
        """The route recorded with a handoff; the default if none was or the file lost it."""
        return next((route for route in self.all if route.name == name), self.default)

    @property
    def all(self) -> tuple[Route, ...]:
        """The default route, then the rules."""
        return (self.default, *self.rules)

    @property
    def channels(self) -> tuple[ChannelId, ...]:
        """Every channel a handoff may go to, the default's first, each once."""
        return tuple(dict.fromkeys([self.default.channel, *(rule.channel for rule in self.rules)]))


def default_routes(channel: ChannelId) -> Routes:
    """Every handoff to ``channel``: the routes when ``HANDOFF_ROUTES`` is not set."""
    return Routes(rules=(), default=Route(name=DEFAULT_NAME, channel=channel))


def load_routes(path: Path, default_channel: ChannelId) -> Routes:
    """Read and check the rules file; ``default_channel`` is ``SLACK_HANDOFF_CHANNEL``.

    Raises:
        ConfigError: one line naming the file, the rule (number and name) and the problem.
    """
    try:
        return _load(path, default_channel)
    except ConfigError as error:
        # A path or a value could carry a line break; the message must stay one line.
        raise ConfigError(" ".join(str(error).splitlines())) from None


class _Problem(Exception):
    """What is wrong inside one table; ``_load`` says which table."""


def _load(path: Path, default_channel: ChannelId) -> Routes:
    where = f"HANDOFF_ROUTES {path}"
    document = _read(path, where)
    for key in document:
        if key not in ("default", "rule"):
            raise ConfigError(
                f"{where}: unknown top-level key {key!r}{_hint(key, ('default', 'rule'))}"
                " (the file holds one [default] table and [[rule]] tables)"
            )
    try:
        default = _default_route(document.get("default", {}), default_channel)
    except _Problem as problem:
        raise ConfigError(f"{where}: [default]: {problem}") from None

    tables = document.get("rule", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{where}: rules must be an array of tables: write [[rule]], not [rule]")
    rules: list[Route] = []
    numbers: dict[str, int] = {}
    for number, table in enumerate(tables, start=1):
        try:
            rule = _rule(table)
            if rule.name in numbers:
                raise _Problem(f"the name is already used by rule {numbers[rule.name]}")
        except _Problem as problem:
            raise ConfigError(f"{where}: rule {number} ({_label(table)}): {problem}") from None
        numbers[rule.name] = number
        rules.append(rule)
    return Routes(rules=tuple(rules), default=default)


def _read(path: Path, where: str) -> dict[str, object]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file") from None
    except OSError as error:
        raise ConfigError(f"{where}: cannot read it ({error.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{where}: not UTF-8 text (byte {error.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib ends its message with "(at line L, column C)" or "(at end of document)".
        message = str(error).replace("at end of document", f"at the end, line {_lines(text)}")
        raise ConfigError(f"{where}: not valid TOML: {message}") from None


def _lines(text: str) -> int:
    return len(text.splitlines()) or 1


def _label(table: object) -> str:
    name = table.get("name") if isinstance(table, dict) else None
    return name if isinstance(name, str) and _is_name(name) else "unnamed"


def _is_name(name: str) -> bool:
    return bool(name.strip()) and name.isprintable() and len(name) <= 80


def _default_route(table: object, channel: ChannelId) -> Route:
    if not isinstance(table, dict):
        raise _Problem("must be a table")
    _check_keys(table, _SETTINGS)
    return Route(
        name=DEFAULT_NAME,
        channel=_channel(table["channel"]) if "channel" in table else channel,
        mention=_mention(table.get("mention")),
        priority=_priority(table.get("priority")),
        alert_after_seconds=_alert_seconds(table.get("alert_after_minutes")),
    )


def _rule(table: object) -> Route:
    if not isinstance(table, dict):
        raise _Problem(f"must be a table, got {_kind(table)}")
    _check_keys(table, _RULE_KEYS)
    name = table.get("name")
    if name is None:
        raise _Problem("missing name")
    if not isinstance(name, str) or not _is_name(name):
        raise _Problem("name must be a non-blank single-line string of at most 80 characters")
    if name == DEFAULT_NAME:
        raise _Problem(f"the name {DEFAULT_NAME!r} is kept for handoffs no rule matches")
    if "channel" not in table:
        raise _Problem("missing channel")
    if not any(kind in table for kind in CRITERIA):
        # A rule without criteria would take every handoff and hide the rules after it.
        raise _Problem(
            f"no match criteria: set at least one of {', '.join(CRITERIA)}"
            " (for handoffs no rule matches, use [default])"
        )
    return Route(
        name=name,
        channel=_channel(table["channel"]),
        mention=_mention(table.get("mention")),
        priority=_priority(table.get("priority")),
        alert_after_seconds=_alert_seconds(table.get("alert_after_minutes")),
        session_labels=frozenset(_strings("session_labels", table.get("session_labels"))),
        customer_tags=frozenset(_strings("customer_tags", table.get("customer_tags"))),
        customer_metadata=_metadata(table.get("customer_metadata")),
        reason_words=_strings("reason_words", table.get("reason_words")),
        agent_ids=frozenset(_strings("agent_ids", table.get("agent_ids"))),
        journeys=frozenset(_strings("journeys", table.get("journeys"))),
    )


def _check_keys(table: Mapping[str, object], known: tuple[str, ...]) -> None:
    for key in table:
        if key not in known:
            raise _Problem(f"unknown key {key!r}{_hint(key, known)}")


def _hint(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _channel(value: object) -> ChannelId:
    if not isinstance(value, str) or not CHANNEL_ID.match(value):
        raise _Problem(f"channel must be a channel id like C0123ABCD, got {_shown(value)}")
    return ChannelId(value)


def _mention(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not MENTION_ID.match(value):
        raise _Problem(
            f"mention must be a user-group id (S…) or a user id (U…, W…), got {_shown(value)}"
        )
    return value


def _priority(value: object) -> Priority:
    if value is None:
        return Priority.NORMAL
    if isinstance(value, str) and value.upper() in Priority.__members__:
        return Priority[value.upper()]
    raise _Problem(f"priority must be high, normal or low, got {_shown(value)}")


def _alert_seconds(value: object) -> float:
    if value is None:
        return DEFAULT_ALERT_SECONDS
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Problem(f"alert_after_minutes must be a number, got {_shown(value)}")
    if not 0 < value <= MAX_ALERT_MINUTES:
        raise _Problem(
            f"alert_after_minutes must be more than 0 and at most {MAX_ALERT_MINUTES}"
            f" (24 hours), got {value:g}"
        )
    return 60.0 * value


def _strings(key: str, value: object) -> tuple[str, ...]:
    """A string or a non-empty list of non-blank strings (``None``: the key is absent)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise _Problem(f"{key} must be a string or a list of strings, got {_shown(value)}")
    if not items:
        raise _Problem(f"{key} is an empty list: it would never match (remove it instead)")
    for item in items:
        if not item.strip():
            raise _Problem(f"{key} has a blank entry")
    return tuple(items)


def _metadata(value: object) -> Mapping[str, frozenset[str]]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        raise _Problem(
            f"customer_metadata must be a table like {{ plan = 'pro' }}, got {_kind(value)}"
        )
    if not value:
        raise _Problem("customer_metadata is an empty table: remove it instead")
    wanted: dict[str, frozenset[str]] = {}
    for key, allowed in value.items():
        items = allowed if isinstance(allowed, list) else [allowed]
        # Parlant keeps customer metadata as strings: 3 in the file means "3".
        if not items or not all(
            isinstance(item, str | int) and not isinstance(item, bool) for item in items
        ):
            raise _Problem(
                f"customer_metadata.{key} must be a string, an integer or a non-empty list"
                f" of them, got {_shown(allowed)}"
            )
        wanted[key] = frozenset(str(item) for item in items)
    return MappingProxyType(wanted)


def _kind(value: object) -> str:
    """The TOML name of a parsed value's type."""
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (list, "an array"),
        (dict, "a table"),
        ((datetime, date, time), "a date or time"),
    )
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else _kind(value)


def _any_of(wanted: AbstractSet[str], present: AbstractSet[str]) -> bool:
    return not wanted or not wanted.isdisjoint(present)


def _phrases_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """Any of ``phrases`` as whole words: "fraud" is not found in "fraudulent"."""
    if not phrases:
        return None
    # Lookarounds rather than \b, so that words ending in a symbol ("c++") still match.
    alternatives = (r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases)
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)
