"""pytest fixtures: ``pytest_plugins = ["tests.slack_emulator.fixtures"]`` in a conftest.

- ``slack_emulator``: a started ``SlackEmulator`` (default workspace, port 0), stopped after
  the test. At teardown the test fails if the app violated Slack's API spec, unless the test
  called ``slack_emulator.expect_violations()`` or is marked ``@pytest.mark.slack_spec_violations``.
- ``slack_client``: an ``AsyncWebClient`` with the bot token, pointed at the emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator.emulator import SlackEmulator

SPEC_VIOLATIONS_MARKER = "slack_spec_violations"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SPEC_VIOLATIONS_MARKER}: the test violates Slack's API spec on purpose",
    )


@pytest_asyncio.fixture
async def slack_emulator(request: pytest.FixtureRequest) -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    expected = emulator.violations_expected or request.node.get_closest_marker(
        SPEC_VIOLATIONS_MARKER
    )
    if not expected:
        emulator.assert_no_spec_violations()


@pytest.fixture
def slack_client(slack_emulator: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url)
