"""``python -m slack_bridge``: the Slack bridge alone (Parlant runs elsewhere)."""

import os
import sys

from dotenv import load_dotenv

from agent.lifecycle import run_until_signalled
from agent.startup import ensure_port_free
from slack_bridge.config import load_bridge_settings
from slack_bridge.errors import ConfigError
from slack_bridge.logs import configure_logging


def main() -> int:
    load_dotenv(override=False)
    try:
        settings = load_bridge_settings(os.environ)
        ensure_port_free("BRIDGE_PORT", settings.host, settings.port)
    except ConfigError as error:
        print(f"slack_bridge: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    from slack_bridge.server import run_bridge

    return run_until_signalled(lambda: run_bridge(settings), "slack_bridge")


if __name__ == "__main__":
    sys.exit(main())
