"""Fixtures for the emulator's own tests: a minimal Bolt app over HTTP or Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import SlackEmulator, serve

EVENTS_PATH = "/slack/events"


@pytest.fixture(autouse=True)
def _quiet_bolt_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="slack_bolt")


@pytest.fixture
def bolt_app(slack_emulator: SlackEmulator) -> AsyncApp:
    """A Bolt app wired to the emulator; tests add their listeners."""
    client = AsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url)
    # The token comes from the client; passing it twice makes Bolt warn.
    return AsyncApp(signing_secret=slack_emulator.signing_secret, client=client)


@pytest_asyncio.fixture
async def bolt_http(slack_emulator: SlackEmulator, bolt_app: AsyncApp) -> AsyncIterator[str]:
    """Serves the Bolt app over HTTP on port 0; the emulator delivers to it. Yields its URL."""
    async with serve(bolt_app.web_app(path=EVENTS_PATH)) as base_url:
        request_url = base_url + EVENTS_PATH
        slack_emulator.use_http(request_url)
        yield request_url
        await slack_emulator.drain()


@pytest_asyncio.fixture
async def bolt_socket(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp
) -> AsyncIterator[AsyncSocketModeHandler]:
    """Connects the Bolt app over Socket Mode with the app-level token."""
    slack_emulator.use_socket_mode()
    handler = AsyncSocketModeHandler(bolt_app, slack_emulator.app_token, ping_interval=1)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        await slack_emulator.wait_for_socket_connection()
        yield handler
        await slack_emulator.drain()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
