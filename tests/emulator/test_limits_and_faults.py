"""Rate limits (429 + Retry-After), injected failures and outages."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import SlackEmulator, ids

C = ids.HANDOFF_CHANNEL


async def test_post_message_is_limited_per_channel(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    burst = slack_emulator.limiter.post_message_burst
    for i in range(burst):
        await slack_client.chat_postMessage(channel=C, text=f"burst {i}")
    with pytest.raises(SlackApiError) as raised:
        await slack_client.chat_postMessage(channel=C, text="one too many")
    response = raised.value.response
    assert response.status_code == 429
    assert response["error"] == "ratelimited"
    assert int(response.headers["Retry-After"]) >= 1
    # Another channel has its own budget.
    assert (await slack_client.chat_postMessage(channel=ids.PRIVATE_CHANNEL, text="x"))["ok"]
    assert [c.http_status for c in slack_emulator.calls_to("chat.postMessage")][-2:] == [429, 200]


async def test_retry_handler_waits_retry_after_then_succeeds(
    slack_emulator: SlackEmulator,
) -> None:
    client = AsyncWebClient(
        token=slack_emulator.bot_token,
        base_url=slack_emulator.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    slack_emulator.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    posted = await client.chat_postMessage(channel=C, text="after the wait")
    assert posted["ok"]
    assert time.monotonic() - started >= 1.0
    assert [c.http_status for c in slack_emulator.calls_to("chat.postMessage")] == [429, 200]
    assert [m.text for m in slack_emulator.messages(C)] == ["after the wait"]


async def test_rate_limits_can_be_switched_off(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack_emulator.rate_limits = False
    for i in range(20):
        await slack_client.chat_postMessage(channel=C, text=f"fast {i}")
    assert len(slack_emulator.messages(C)) == 20


async def test_fail_next_and_delay_next(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack_emulator.fail_next("chat.postMessage", 2, status=503)
    slack_emulator.fail_next("chat.update", error="internal_error")
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await slack_client.chat_postMessage(channel=C, text="x")
        assert raised.value.response.status_code == 503
        assert raised.value.response["error"] == "service_unavailable"
    posted = await slack_client.chat_postMessage(channel=C, text="third time lucky")
    with pytest.raises(SlackApiError) as update_error:
        await slack_client.chat_update(channel=C, ts=posted["ts"], text="y")
    assert update_error.value.response.status_code == 200
    assert update_error.value.response["error"] == "internal_error"

    slack_emulator.delay_next("auth.test", 0.3)
    started = time.monotonic()
    await slack_client.auth_test()
    assert time.monotonic() - started >= 0.3


async def test_outage(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    with slack_emulator.outage():
        for call in (slack_client.auth_test(), slack_client.chat_postMessage(channel=C, text="x")):
            with pytest.raises(SlackApiError) as raised:
                await call
            assert raised.value.response.status_code == 503
    assert (await slack_client.chat_postMessage(channel=C, text="back"))["ok"]
    assert [m.text for m in slack_emulator.messages(C)] == ["back"]
