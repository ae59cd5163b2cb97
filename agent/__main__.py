"""``python -m agent``: the insurance agent on a Parlant server."""

import os
import sys

from dotenv import load_dotenv

from agent.lifecycle import run_until_signalled
from agent.settings import ConfigError, load_agent_settings
from agent.startup import prepare_agent


def main() -> int:
    load_dotenv(override=False)
    try:
        settings = load_agent_settings(os.environ)
        prepare_agent(settings)
    except ConfigError as error:
        print(f"agent: {error}", file=sys.stderr)
        return 2
    from agent.server import serve

    try:
        return run_until_signalled(lambda: serve(settings), "agent")
    except ConfigError as error:  # found while opening the store
        print(f"agent: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
