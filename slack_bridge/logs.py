"""Logging for the bridge's processes: one line per record, secrets never included."""

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Their debug output would include request bodies and tokens, or every SQL statement.
    for noisy in ("slack_sdk", "slack_bolt", "aiohttp.access", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger().level))
