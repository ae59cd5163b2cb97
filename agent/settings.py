"""The agent's settings, read once from the environment (and ``.env``)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent.secret import Secret

DEFAULT_NLP = "openai"
OFFLINE_NLP = "offline"
LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical")
STORES = ("sqlite", "json", "transient")
DEVELOPMENT = "development"
PRODUCTION = "production"
MIN_TOKEN_LENGTH = 32
TOKEN_CHARACTERS = re.compile(r"^[\x21-\x7e]+$")
MAX_TRUSTED_PROXIES = 5


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line naming the variable."""


@dataclass(frozen=True)
class AgentSettings:
    host: str
    port: int
    tool_port: int
    home: Path
    nlp: str
    store: str
    log_level: str
    bridge_url: str | None
    api_token: Secret | None
    """Operator tools' bearer token; ``None`` only in development mode."""
    development: bool
    """``PARLANT_ENV=development``: the API is open to anyone and ``/chat`` is served."""
    trusted_proxies: int

    @property
    def offline(self) -> bool:
        return self.nlp == OFFLINE_NLP

    @property
    def parlant_home(self) -> Path:
        """Each model provider gets its own data folder.

        Parlant's evaluation cache is keyed by content only, so results a scripted
        model produced must never be reused by a real one (or the other way round).
        """
        return self.home / self.nlp


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 < value < 65536:
        raise ConfigError(f"{name} must be between 1 and 65535, got {value}")
    return value


def load_agent_settings(environ: Mapping[str, str]) -> AgentSettings:
    """Build the settings from an environment mapping.

    Raises:
        ConfigError: a value is invalid; the message names the variable.
    """
    port = _port(environ, "PARLANT_PORT", 8800)
    tool_port = _port(environ, "PARLANT_TOOL_PORT", 8818)
    if port == tool_port:
        raise ConfigError(f"PARLANT_PORT and PARLANT_TOOL_PORT must differ (both are {port})")

    store = environ.get("PARLANT_STORE", "").strip() or "sqlite"
    if store == "local":  # the JSON store's former name
        store = "json"
    if store not in STORES and not store.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError(
            f"PARLANT_STORE must be one of {', '.join(STORES)} or a mongodb:// URI, got {store!r}"
        )

    log_level = (environ.get("PARLANT_LOG_LEVEL", "").strip() or "info").lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"PARLANT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")

    environment = (environ.get("PARLANT_ENV", "").strip() or PRODUCTION).lower()
    if environment not in (PRODUCTION, DEVELOPMENT):
        raise ConfigError(f"PARLANT_ENV must be {PRODUCTION} or {DEVELOPMENT}, got {environment!r}")
    development = environment == DEVELOPMENT
    token = load_api_token(environ)
    if token is None and not development:
        raise ConfigError(
            "PARLANT_API_TOKEN is not set: operator tools (the Slack bridge) need it; for local"
            " development only, PARLANT_ENV=development runs the API open to anyone"
        )

    return AgentSettings(
        host=environ.get("PARLANT_HOST", "").strip() or "127.0.0.1",
        port=port,
        tool_port=tool_port,
        home=Path(environ.get("PARLANT_HOME", "").strip() or "./parlant-data"),
        nlp=(environ.get("PARLANT_NLP", "").strip() or DEFAULT_NLP).lower(),
        store=store,
        log_level=log_level,
        bridge_url=environ.get("BRIDGE_URL", "").strip().rstrip("/") or None,
        api_token=token,
        development=development,
        trusted_proxies=_count(environ, "PARLANT_TRUSTED_PROXIES", MAX_TRUSTED_PROXIES),
    )


def load_api_token(environ: Mapping[str, str]) -> Secret | None:
    """``PARLANT_API_TOKEN``, checked to be long and header-safe (shared with the bridge).

    Raises:
        ConfigError: the token is too short or has spaces or control characters.
    """
    raw = environ.get("PARLANT_API_TOKEN", "").strip()
    if not raw:
        return None
    if len(raw) < MIN_TOKEN_LENGTH or not TOKEN_CHARACTERS.match(raw):
        raise ConfigError(
            f"PARLANT_API_TOKEN must be at least {MIN_TOKEN_LENGTH} printable characters without"
            " spaces (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return Secret(raw)


def _count(environ: Mapping[str, str], name: str, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or int(raw) > high:
        raise ConfigError(f"{name} must be a whole number from 0 to {high}, got {raw!r}")
    return int(raw)
