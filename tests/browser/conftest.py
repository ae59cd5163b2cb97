"""Fixtures of the browser tests: the real agent and bridge, the Slack emulator, Chromium.

Chromium comes from Debian's packages (``scripts/install-browser``), driven by Playwright
for Python; ``playwright install`` is never run. Without ``/usr/bin/chromium`` the tests
skip (see ``CHROMIUM``).
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Final

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Playwright, ViewportSize, async_playwright

from tests.support.stack import bridge, bridge_agent, customers

__all__ = ["bridge", "bridge_agent", "customers"]

CHROMIUM: Final = Path("/usr/bin/chromium")
NO_CHROMIUM: Final = (
    f"{CHROMIUM} is missing: install Debian's chromium package (bash scripts/install-browser,"
    " as root) to run the browser tests"
)
LAUNCH_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: Final[ViewportSize] = {"width": 760, "height": 860}

OpenProfile = Callable[[str], Awaitable[BrowserContext]]


requires_chromium: Final = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)


@pytest_asyncio.fixture
async def playwright_driver() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest_asyncio.fixture
async def open_profile(playwright_driver: Playwright, tmp_path: Path) -> AsyncIterator[OpenProfile]:
    """Starts Chromium with a fresh profile (its own ``--user-data-dir``) per call."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    contexts: list[BrowserContext] = []

    async def open_one(name: str) -> BrowserContext:
        context = await playwright_driver.chromium.launch_persistent_context(
            tmp_path / f"profile-{name}",
            executable_path=CHROMIUM,
            headless=True,
            args=LAUNCH_ARGS,
            viewport=VIEWPORT,
            locale="en-US",
            timezone_id="UTC",
        )
        contexts.append(context)
        return context

    try:
        yield open_one
    finally:
        for context in contexts:
            await context.close()
