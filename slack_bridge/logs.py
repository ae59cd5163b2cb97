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
    # Parlant prints its own lines; in the combined run they would show a second time.
    logging.getLogger("parlant").propagate = False
    # Each of Parlant's internal calls to its tool service would be a line.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
