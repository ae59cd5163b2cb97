"""The bridge's settings, read once from the environment (and ``.env``)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent.secret import Secret
from agent.settings import load_api_token
from slack_bridge.errors import ConfigError
from slack_bridge.ids import ChannelId
from slack_bridge.operators import OperatorRule
from slack_bridge.routes import Routes, default_routes, load_routes

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USER_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


@dataclass(frozen=True)
class BridgeSettings:
    bot_token: Secret
    parlant_token: Secret
    """``PARLANT_API_TOKEN``: sent to Parlant, and required of the agent's handoff notice."""
    signing_secret: Secret
    """Empty in Socket Mode."""
    app_token: Secret | None
    handoff_channel: ChannelId
    slack_api_url: str | None
    parlant_url: str
    host: str
    port: int
    db_path: Path
    poll_seconds: float
    posts_per_second: float
    edit_window_seconds: float
    """An operator's edit of a delivered reply within this time reaches the customer."""
    routes: Routes
    """``HANDOFF_ROUTES``: which channel each handoff goes to (default: the handoff channel)."""
    auto_resolve_seconds: float
    """``HANDOFF_AUTO_RESOLVE_HOURS``: a case back with the AI, quiet this long, is resolved."""
    heartbeat_seconds: float
    """``SLACK_HEARTBEAT_SECONDS``: how often the bridge records until when it was listening."""
    retention_seconds: float
    """``HANDOFF_RETENTION_DAYS``: how long relayed messages' text and closed cases' records
    are kept."""
    resolved_to_ai: bool
    """``RESOLVED_SESSIONS=ai``: a resolved case's session returns to the AI; ``operators``:
    it stays closed to the AI and is handed off again when the customer writes."""
    log_level: str
    operators: OperatorRule

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


def _get(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def _number(
    environ: Mapping[str, str], name: str, default: float, low: float, high: float
) -> float:
    raw = _get(environ, name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw}")
    return value


def load_bridge_settings(environ: Mapping[str, str]) -> BridgeSettings:
    """Build the settings from an environment mapping.

    Raises:
        ConfigError: settings are missing or invalid; one line names every missing one.
    """
    # Socket Mode needs no signing secret: nothing reaches the bridge over HTTP from Slack.
    socket_mode = bool(_get(environ, "SLACK_APP_TOKEN"))
    required = ["SLACK_BOT_TOKEN", "SLACK_HANDOFF_CHANNEL", "PARLANT_API_TOKEN"]
    if not socket_mode:
        required.insert(1, "SLACK_SIGNING_SECRET")
    missing = [name for name in required if not _get(environ, name)]
    if missing:
        raise ConfigError(f"missing setting{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")

    bot_token = _get(environ, "SLACK_BOT_TOKEN")
    if not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token (xoxb-...)")
    app_token = _get(environ, "SLACK_APP_TOKEN") or None
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token (xapp-...) or unset")
    channel = _get(environ, "SLACK_HANDOFF_CHANNEL")
    if not CHANNEL_ID.match(channel):
        raise ConfigError(
            f"SLACK_HANDOFF_CHANNEL must be a channel id like C0123ABCD, got {channel!r}"
        )
    api_url = _get(environ, "SLACK_API_URL") or None
    if api_url is not None and not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
    parlant_url = _get(environ, "PARLANT_URL") or "http://127.0.0.1:8800"
    if not parlant_url.startswith(("http://", "https://")):
        raise ConfigError(f"PARLANT_URL must be an http(s) URL, got {parlant_url!r}")
    log_level = (_get(environ, "BRIDGE_LOG_LEVEL") or "info").lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"BRIDGE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")

    parlant_token = load_api_token(environ)
    assert parlant_token is not None  # required above

    operators = _operator_rule(_get(environ, "SLACK_OPERATORS"))
    routes_file = _get(environ, "HANDOFF_ROUTES")
    routes = (
        load_routes(Path(routes_file), ChannelId(channel))
        if routes_file
        else default_routes(ChannelId(channel))
    )
    resolved = (_get(environ, "RESOLVED_SESSIONS") or "ai").lower()
    if resolved not in ("ai", "operators"):
        raise ConfigError(f"RESOLVED_SESSIONS must be ai or operators, got {resolved!r}")

    return BridgeSettings(
        bot_token=Secret(bot_token),
        parlant_token=parlant_token,
        signing_secret=Secret(_get(environ, "SLACK_SIGNING_SECRET")),
        app_token=Secret(app_token) if app_token else None,
        handoff_channel=ChannelId(channel),
        slack_api_url=(api_url.rstrip("/") + "/") if api_url else None,
        parlant_url=parlant_url.rstrip("/"),
        host=_get(environ, "BRIDGE_HOST") or "127.0.0.1",
        port=int(_number(environ, "BRIDGE_PORT", 3000, 1, 65535)),
        db_path=Path(_get(environ, "HANDOFF_DB") or "./handoff.db"),
        poll_seconds=_number(environ, "BRIDGE_POLL_SECONDS", 2.0, 0.1, 300),
        posts_per_second=_number(environ, "SLACK_POSTS_PER_SECOND", 1.0, 0.1, 100),
        edit_window_seconds=60 * _number(environ, "SLACK_EDIT_WINDOW_MINUTES", 10.0, 0, 24 * 60),
        log_level=log_level,
        operators=operators,
        resolved_to_ai=resolved == "ai",
        retention_seconds=86_400 * _number(environ, "HANDOFF_RETENTION_DAYS", 30.0, 1, 3650),
        heartbeat_seconds=_number(environ, "SLACK_HEARTBEAT_SECONDS", 15.0, 0.1, 300),
        auto_resolve_seconds=3600
        * _number(environ, "HANDOFF_AUTO_RESOLVE_HOURS", 24.0, 0.001, 24 * 365),
        routes=routes,
    )


def _operator_rule(raw: str) -> OperatorRule:
    """``U…``/``W…`` user ids and ``S…`` user-group ids, separated by commas or spaces."""
    items = [item for item in re.split(r"[\s,]+", raw) if item]
    wrong = [item for item in items if not USER_ID.match(item) and not USER_GROUP_ID.match(item)]
    if wrong:
        raise ConfigError(
            "SLACK_OPERATORS must list user ids (U…) and user-group ids (S…), got"
            f" {', '.join(repr(item) for item in wrong[:3])}"
        )
    return OperatorRule(
        users=frozenset(item for item in items if USER_ID.match(item)),
        groups=frozenset(item for item in items if USER_GROUP_ID.match(item)),
    )
