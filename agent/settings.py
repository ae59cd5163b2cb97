"""The agent's settings, read once from the environment (and ``.env``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NLP = "openai"
OFFLINE_NLP = "offline"
LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical")


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

    store = environ.get("PARLANT_STORE", "").strip() or "local"
    if store not in ("local", "transient") and not store.startswith(
        ("mongodb://", "mongodb+srv://")
    ):
        raise ConfigError(
            f"PARLANT_STORE must be 'local', 'transient' or a mongodb:// URI, got {store!r}"
        )

    log_level = (environ.get("PARLANT_LOG_LEVEL", "").strip() or "info").lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"PARLANT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")

    return AgentSettings(
        host=environ.get("PARLANT_HOST", "").strip() or "127.0.0.1",
        port=port,
        tool_port=tool_port,
        home=Path(environ.get("PARLANT_HOME", "").strip() or "./parlant-data"),
        nlp=(environ.get("PARLANT_NLP", "").strip() or DEFAULT_NLP).lower(),
        store=store,
        log_level=log_level,
        bridge_url=environ.get("BRIDGE_URL", "").strip().rstrip("/") or None,
    )
