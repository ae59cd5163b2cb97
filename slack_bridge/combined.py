"""``python -m slack_bridge.combined``: the Parlant agent and the bridge in one process.

For a single machine. The bridge talks to the agent over loopback REST like any other
deployment (it waits and retries while Parlant starts), so nothing is shared but the loop.
Without ``PARLANT_API_TOKEN``, both parts share one generated at start-up (kept in this
process only); ``PARLANT_ENV=development`` still opens the API to anyone.
"""

import asyncio
import os
import secrets
import sys

from dotenv import load_dotenv

from agent.lifecycle import run_until_signalled
from agent.settings import AgentSettings, load_agent_settings
from agent.startup import ensure_port_free, prepare_agent
from slack_bridge.config import BridgeSettings, load_bridge_settings
from slack_bridge.errors import ConfigError
from slack_bridge.logs import configure_logging


def main() -> int:
    load_dotenv(override=False)
    if not os.environ.get("PARLANT_API_TOKEN", "").strip():
        # The handoff tool reads it from the environment to sign its notice to the bridge.
        os.environ["PARLANT_API_TOKEN"] = secrets.token_urlsafe(32)
    environ = dict(os.environ)
    try:
        agent_settings = load_agent_settings(environ)
        host = "127.0.0.1" if agent_settings.host in ("0.0.0.0", "::") else agent_settings.host
        if not environ.get("PARLANT_URL", "").strip():
            environ["PARLANT_URL"] = f"http://{host}:{agent_settings.port}"
        bridge_settings = load_bridge_settings(environ)
        # The handoff tool reads BRIDGE_URL from the environment when it runs.
        if not os.environ.get("BRIDGE_URL", "").strip():
            os.environ["BRIDGE_URL"] = f"http://{bridge_settings.host}:{bridge_settings.port}"
        prepare_agent(agent_settings)
        ensure_port_free("BRIDGE_PORT", bridge_settings.host, bridge_settings.port)
    except ConfigError as error:
        print(f"combined: {error}", file=sys.stderr)
        return 2
    configure_logging(bridge_settings.log_level)
    try:
        return run_until_signalled(lambda: _serve_both(agent_settings, bridge_settings), "combined")
    except BaseExceptionGroup as group:  # a ConfigError found while opening the store
        found = group.subgroup(ConfigError)
        if found is None:
            raise
        print(f"combined: {found.exceptions[0]}", file=sys.stderr)
        return 2


async def _serve_both(agent_settings: AgentSettings, bridge_settings: BridgeSettings) -> None:
    from agent.server import serve
    from slack_bridge.server import run_bridge

    async with asyncio.TaskGroup() as group:
        group.create_task(run_bridge(bridge_settings))
        group.create_task(serve(agent_settings))


if __name__ == "__main__":
    sys.exit(main())
