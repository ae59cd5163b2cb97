"""Faults that test delivery guarantees: lost answers, refused threads, bursts, read-back."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import Answer, SlackEmulator, ids

C = ids.HANDOFF_CHANNEL


def _client(
    emulator: SlackEmulator,
    *,
    retry_handlers: list[AsyncRetryHandler] | None = None,
    timeout: float = 30,
) -> AsyncWebClient:
    return AsyncWebClient(
        token=emulator.bot_token,
        base_url=emulator.api_url,
        timeout=timeout,
        retry_handlers=retry_handlers,
    )


# --- the write happens, the answer is lost ----------------------------------------------------


async def test_post_message_written_but_answered_500(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack_emulator.lose_response_after_write("chat.postMessage")
    with pytest.raises(SlackApiError) as raised:
        await slack_client.chat_postMessage(channel=C, text="did it post?")
    assert raised.value.response.status_code == 500
    assert raised.value.response["error"] == "internal_error"
    [stored] = slack_emulator.messages(C)
    assert stored.text == "did it post?"
    [call] = slack_emulator.calls_to("chat.postMessage")
    assert (call.answer, call.http_status, call.ok) == (Answer.REPLACED, 500, False)
    assert call.handled is not None and call.handled["ts"] == stored.ts
    # Slack announced the message as usual.
    await slack_emulator.drain()
    assert [d.event.get("ts") for d in slack_emulator.deliveries] == [stored.ts]
    # Only the next call was affected.
    assert (await slack_client.chat_postMessage(channel=C, text="next"))["ok"]


async def test_dropped_connection_makes_the_default_client_post_twice(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    """slack-sdk retries a dropped connection once by default: the message is posted twice."""
    slack_emulator.lose_response_after_write("chat.postMessage", status=None)
    posted = await slack_client.chat_postMessage(channel=C, text="once, I hope")
    assert [m.text for m in slack_emulator.messages(C)] == ["once, I hope", "once, I hope"]
    first, second = slack_emulator.calls_to("chat.postMessage")
    assert (first.answer, first.http_status, first.response) == (Answer.DROPPED, 0, {})
    assert first.handled is not None and first.handled["ts"] != posted["ts"]
    assert second.answer is Answer.SENT and second.response["ts"] == posted["ts"]


async def test_dropped_connection_without_retries(slack_emulator: SlackEmulator) -> None:
    client = _client(slack_emulator, retry_handlers=[])
    slack_emulator.lose_response_after_write("reactions.add", status=None)
    ts = await slack_emulator.post_message(ids.ALICE, C, "react to me")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.reactions_add(channel=C, timestamp=ts, name="eyes")
    assert slack_emulator.reactions(C, ts) == {"eyes": [ids.BOT_USER_ID]}
    # A blind retry learns that the first attempt worked.
    with pytest.raises(SlackApiError) as raised:
        await client.reactions_add(channel=C, timestamp=ts, name="eyes")
    assert raised.value.response["error"] == "already_reacted"


async def test_answer_arriving_after_the_client_timeout(slack_emulator: SlackEmulator) -> None:
    client = _client(slack_emulator, timeout=0.3, retry_handlers=[])
    slack_emulator.lose_response_after_write("chat.postMessage", status=None, delay=0.8)
    with pytest.raises(asyncio.TimeoutError):
        await client.chat_postMessage(channel=C, text="slow")
    assert [m.text for m in slack_emulator.messages(C)] == ["slow"]
    [call] = slack_emulator.calls_to("chat.postMessage")
    assert call.answer is Answer.DELAYED and call.handled == call.response
    await asyncio.sleep(0.6)  # let the late answer go out before the emulator stops


async def test_fatal_error_with_http_200_and_bursts_of_lost_answers(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack_emulator.lose_response_after_write("chat.update", status=200)
    root = await slack_client.chat_postMessage(channel=C, text="v1")
    with pytest.raises(SlackApiError) as raised:
        await slack_client.chat_update(channel=C, ts=root["ts"], text="v2")
    assert (raised.value.response.status_code, raised.value.response["error"]) == (
        200,
        "fatal_error",
    )
    assert slack_emulator.messages(C)[0].text == "v2"

    slack_emulator.rate_limits = False
    slack_emulator.lose_response_after_write("*", 2, status=503, retry_after=3)
    for text in ("a", "b"):
        with pytest.raises(SlackApiError) as burst:
            await slack_client.chat_postMessage(channel=C, text=text, thread_ts=root["ts"])
        assert burst.value.response.status_code == 503
        assert burst.value.response.headers["Retry-After"] == "3"
    assert [m.text for m in slack_emulator.thread(C, root["ts"])] == ["v2", "a", "b"]


async def test_calls_refused_before_handling_keep_the_lost_answer_fault(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack_emulator.fail_next("chat.postMessage", status=503)
    slack_emulator.lose_response_after_write("chat.postMessage")
    with pytest.raises(SlackApiError):
        await slack_client.chat_postMessage(channel=C, text="never written")
    assert slack_emulator.messages(C) == []
    with pytest.raises(SlackApiError) as raised:
        await slack_client.chat_postMessage(channel=C, text="written")
    assert raised.value.response.status_code == 500
    assert [m.text for m in slack_emulator.messages(C)] == ["written"]
    assert [c.answer for c in slack_emulator.calls_to("chat.postMessage")] == [
        Answer.SENT,
        Answer.REPLACED,
    ]


# --- threads Slack refuses for good ------------------------------------------------------------


async def test_refused_thread(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    slack_emulator.rate_limits = False
    closed = await slack_client.chat_postMessage(channel=C, text="closed thread")
    open_ = await slack_client.chat_postMessage(channel=C, text="open thread")
    reply = await slack_client.chat_postMessage(channel=C, text="early", thread_ts=closed["ts"])
    slack_emulator.refuse_thread(C, closed["ts"])

    for thread_ts in (closed["ts"], reply["ts"]):  # a reply's ts means its thread
        for _ in range(2):
            with pytest.raises(SlackApiError) as raised:
                await slack_client.chat_postMessage(channel=C, text="no", thread_ts=thread_ts)
            assert raised.value.response.status_code == 200
            assert raised.value.response["error"] == "cannot_reply_to_message"
    also_by_name = slack_client.chat_postMessage(
        channel="#handoff", text="no", thread_ts=reply["ts"]
    )
    with pytest.raises(SlackApiError):
        await also_by_name
    assert (await slack_client.chat_postMessage(channel=C, text="ok", thread_ts=open_["ts"]))["ok"]
    assert (await slack_client.chat_postMessage(channel=C, text="top level"))["ok"]
    assert [m.text for m in slack_emulator.thread(C, closed["ts"])] == ["closed thread", "early"]

    slack_emulator.accept_thread(C, closed["ts"])
    assert (await slack_client.chat_postMessage(channel=C, text="again", thread_ts=closed["ts"]))[
        "ok"
    ]

    slack_emulator.refuse_thread(C, open_["ts"], "restricted_action_thread_locked")
    with pytest.raises(SlackApiError) as locked:
        await slack_client.chat_postMessage(channel=C, text="locked", thread_ts=open_["ts"])
    assert locked.value.response["error"] == "restricted_action_thread_locked"
    with pytest.raises(ValueError, match="cannot_reply_to_message"):
        slack_emulator.refuse_thread(C, open_["ts"], "thread_locked")


# --- bursts of failures -------------------------------------------------------------------------


async def test_server_error_burst_then_success(slack_emulator: SlackEmulator) -> None:
    client = _client(
        slack_emulator,
        retry_handlers=[
            AsyncServerErrorRetryHandler(
                max_retry_count=3, interval_calculator=FixedValueRetryIntervalCalculator(0.05)
            )
        ],
    )
    slack_emulator.fail_next("chat.postMessage", 2, status=500)
    slack_emulator.fail_next("chat.postMessage", 1, status=503)
    posted = await client.chat_postMessage(channel=C, text="finally")
    assert posted["ok"]
    calls = slack_emulator.calls_to("chat.postMessage")
    assert [(c.http_status, c.response.get("error")) for c in calls] == [
        (500, "internal_error"),
        (500, "internal_error"),
        (503, "service_unavailable"),
        (200, None),
    ]
    assert [m.text for m in slack_emulator.messages(C)] == ["finally"]


async def test_rate_limit_burst_always_carries_retry_after(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack_emulator.fail_next("reactions.add", 2, status=429)
    slack_emulator.fail_next("reactions.add", 1, status=429, retry_after=7)
    ts = await slack_emulator.post_message(ids.BOB, C, "hi")
    seen: list[tuple[int, str, str]] = []
    for _ in range(3):
        with pytest.raises(SlackApiError) as raised:
            await slack_client.reactions_add(channel=C, timestamp=ts, name="eyes")
        response = raised.value.response
        seen.append((response.status_code, response["error"], response.headers["Retry-After"]))
    assert seen == [(429, "ratelimited", "1"), (429, "ratelimited", "1"), (429, "ratelimited", "7")]
    assert slack_emulator.reactions(C, ts) == {}


async def test_retry_handler_rides_out_a_rate_limit_burst(slack_emulator: SlackEmulator) -> None:
    client = _client(
        slack_emulator, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)]
    )
    slack_emulator.fail_next("chat.postMessage", 2, status=429)
    posted = await client.chat_postMessage(channel=C, text="patient")
    assert posted["ok"]
    assert [c.http_status for c in slack_emulator.calls_to("chat.postMessage")] == [429, 429, 200]


# --- reading back what was written ------------------------------------------------------------


async def test_history_and_replies_show_metadata_and_thread_figures(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    metadata = {"event_type": "handoff_message", "event_payload": {"session": "s1", "n": 1}}
    root = await slack_client.chat_postMessage(channel=C, text="root", metadata=metadata)
    bot_reply = await slack_client.chat_postMessage(
        channel=C,
        text="bot reply",
        thread_ts=root["ts"],
        metadata={"event_type": "handoff_message", "event_payload": {"session": "s1", "n": 2}},
    )
    await slack_emulator.post_message(ids.ALICE, C, "human reply", root["ts"])
    last = await slack_emulator.post_message(ids.EXTERNAL, C, "outsider reply", root["ts"])

    with_meta = await slack_client.conversations_replies(
        channel=C, ts=root["ts"], include_all_metadata=True
    )
    parent, first, human, outsider = with_meta["messages"]
    assert parent["metadata"] == metadata
    assert first["metadata"]["event_payload"] == {"session": "s1", "n": 2}
    assert "metadata" not in human and first["ts"] == bot_reply["ts"]
    assert (parent["thread_ts"], parent["reply_count"], parent["latest_reply"]) == (
        root["ts"],
        3,
        last,
    )
    assert parent["reply_users"] == [ids.BOT_USER_ID, ids.ALICE, ids.EXTERNAL]
    assert parent["reply_users_count"] == 3
    assert outsider["team"] == ids.OTHER_TEAM_ID
    assert all("reply_count" not in m for m in (first, human, outsider))

    without = await slack_client.conversations_replies(channel=C, ts=root["ts"])
    assert all("metadata" not in m for m in without["messages"])

    history = await slack_client.conversations_history(channel=C, include_all_metadata=True)
    [top] = history["messages"]
    assert (top["metadata"], top["reply_count"], top["latest_reply"]) == (metadata, 3, last)
    assert top["reply_users"] == [ids.BOT_USER_ID, ids.ALICE, ids.EXTERNAL]
    plain = await slack_client.conversations_history(channel=C)
    assert "metadata" not in plain["messages"][0]
