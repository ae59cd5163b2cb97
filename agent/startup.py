"""Before the agent starts: Parlant's home fixed, the provider checked, the ports free.

``parlant.sdk`` reads ``PARLANT_HOME`` — and creates that folder and a log file in it —
the moment it is first imported, so the home is set before anything imports it, and a
folder made for a provider that then fails its check is removed again.
"""

import errno
import os
import shutil
import socket
from pathlib import Path

from agent.settings import AgentSettings, ConfigError

TOOL_HOST = "127.0.0.1"


def prepare_agent(settings: AgentSettings) -> None:
    """Fix Parlant's home, check the model provider and the ports.

    Raises:
        ConfigError: one line naming the variable that is wrong.
    """
    home = settings.parlant_home
    created = [path for path in (home.parent, home) if not path.exists()]
    os.environ["PARLANT_HOME"] = str(home.resolve())
    try:
        from agent.nlp import choose_nlp_factory  # imports parlant.sdk: the home is set now

        choose_nlp_factory(settings.nlp)
        ensure_port_free("PARLANT_PORT", settings.host, settings.port)
        ensure_port_free("PARLANT_TOOL_PORT", TOOL_HOST, settings.tool_port)
    except ConfigError:
        for path in reversed(created):
            _remove_if_ours(path)
        raise
    home.mkdir(parents=True, exist_ok=True)


def _remove_if_ours(path: Path) -> None:
    """A folder this start created: only Parlant's empty log may be in it."""
    if not path.is_dir():
        return
    leftovers = [entry for entry in path.iterdir() if entry.name != "parlant.log"]
    if not leftovers:
        shutil.rmtree(path, ignore_errors=True)


def ensure_port_free(variable: str, host: str, port: int) -> None:
    """Raises ConfigError naming ``variable`` if ``host:port`` cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            why = "is already in use" if error.errno == errno.EADDRINUSE else "cannot be used"
            raise ConfigError(
                f"{variable}: port {port} on {host} {why} ({error.strerror})"
            ) from None
