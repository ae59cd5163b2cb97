"""``python -m slack_bridge``: the Slack bridge alone (Parlant runs elsewhere)."""

import asyncio
import contextlib
import os
import sys

from dotenv import load_dotenv

from slack_bridge.config import load_bridge_settings
from slack_bridge.errors import ConfigError
from slack_bridge.logs import configure_logging


def main() -> int:
    load_dotenv(override=False)
    try:
        settings = load_bridge_settings(os.environ)
    except ConfigError as error:
        print(f"slack_bridge: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    from slack_bridge.server import run_bridge

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_bridge(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
