"""``python -m agent``: the insurance agent on a Parlant server."""

import asyncio
import contextlib
import os
import sys

from dotenv import load_dotenv

from agent.settings import ConfigError, load_agent_settings


def main() -> int:
    load_dotenv(override=False)
    try:
        settings = load_agent_settings(os.environ)
        from agent.server import prepare_parlant_home, serve

        prepare_parlant_home(settings)
        from agent.nlp import choose_nlp_factory

        choose_nlp_factory(settings.nlp)
    except ConfigError as error:
        print(f"agent: {error}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
