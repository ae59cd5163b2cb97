"""Events over HTTP to a Bolt app and to plain aiohttp handlers: signing, retries, shapes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from tests.slack_emulator import Outcome, SlackEmulator, ids, serve
from tests.slack_emulator.signing import signed_headers

C = ids.HANDOFF_CHANNEL
JsonDict = dict[str, Any]


def record_messages(app: AsyncApp) -> list[JsonDict]:
    received: list[JsonDict] = []

    @app.event("message")
    async def on_message(body: JsonDict) -> None:
        received.append(body)

    return received


async def test_signed_event_reaches_bolt_listener(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    received = record_messages(bolt_app)
    ts = await slack_emulator.post_message(ids.ALICE, C, "Hi <there> & welcome")
    await slack_emulator.wait_until(lambda: len(received) == 1)
    envelope = received[0]
    event = envelope["event"]
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"].startswith("Ev")
    assert envelope["authorizations"][0]["user_id"] == ids.BOT_USER_ID
    assert event["user"] == ids.ALICE
    assert event["ts"] == ts
    assert event["text"] == "Hi &lt;there&gt; &amp; welcome"
    assert event["channel_type"] == "channel"
    assert event["client_msg_id"]
    assert event["blocks"][0]["type"] == "rich_text"
    await slack_emulator.drain()
    [attempt] = slack_emulator.delivery_log
    assert (attempt.outcome, attempt.status, attempt.retry_num) == (Outcome.ACKED, 200, 0)


async def test_thread_reply_edit_delete_and_file_events(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    received = record_messages(bolt_app)
    root = await slack_emulator.post_message(ids.ALICE, ids.PRIVATE_CHANNEL, "root")
    reply = await slack_emulator.post_message(ids.BOB, ids.PRIVATE_CHANNEL, "reply", root)
    await slack_emulator.edit_message(ids.BOB, ids.PRIVATE_CHANNEL, reply, "reply (edited)")
    await slack_emulator.share_file(ids.BOB, ids.PRIVATE_CHANNEL, root, "claim.pdf", "see file")
    await slack_emulator.delete_message(ids.PRIVATE_CHANNEL, reply)
    await slack_emulator.wait_until(lambda: len(received) == 5)
    by_kind = {e["event"].get("subtype") or e["event"]["ts"]: e["event"] for e in received}

    threaded = by_kind[reply]
    assert (threaded["thread_ts"], threaded["parent_user_id"]) == (root, ids.ALICE)
    assert threaded["channel_type"] == "group"
    changed = by_kind["message_changed"]
    assert changed["message"]["text"] == "reply (edited)"
    assert changed["message"]["edited"]["user"] == ids.BOB
    assert changed["previous_message"]["text"] == "reply"
    shared = by_kind["file_share"]
    assert shared["files"][0]["name"] == "claim.pdf" and shared["thread_ts"] == root
    deleted = by_kind["message_deleted"]
    assert deleted["deleted_ts"] == reply
    assert deleted["previous_message"]["text"] == "reply (edited)"
    assert [m.text for m in slack_emulator.thread(ids.PRIVATE_CHANNEL, root)] == [
        "root",
        "see file",
    ]


async def test_app_gets_its_own_and_other_bots_posts(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    received = record_messages(bolt_app)
    await bolt_app.client.chat_postMessage(channel=C, text="from the bridge")
    await slack_emulator.post_bot_message(ids.OTHER_BOT_USER_ID, C, "modern bot")
    await slack_emulator.post_bot_message(ids.OTHER_BOT_USER_ID, C, "classic bot", classic=True)
    await slack_emulator.drain()
    own = [d for d in slack_emulator.deliveries if d.event.get("bot_id") == ids.BOT_ID]
    assert len(own) == 1 and own[0].delivered  # delivered and acked, like Slack
    # Bolt's IgnoringSelfEvents drops the app's own post; other bots get through.
    assert [(e["event"]["text"], e["event"].get("subtype")) for e in received] == [
        ("modern bot", None),
        ("classic bot", "bot_message"),
    ]
    assert received[0]["event"]["bot_id"] == ids.OTHER_BOT_ID


async def test_nothing_is_delivered_from_channels_without_the_bot(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    await slack_emulator.post_message(ids.ALICE, ids.GENERAL_CHANNEL, "not for the bot")
    await slack_emulator.drain()
    assert slack_emulator.deliveries == []


async def test_duplicate_deliveries(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    received = record_messages(bolt_app)
    await slack_emulator.post_message(ids.ALICE, C, "twice", duplicate=True)
    slack_emulator.duplicate_deliveries = True
    await slack_emulator.post_message(ids.ALICE, C, "twice again")
    await slack_emulator.wait_until(lambda: len(received) == 4)
    ids_by_text: dict[str, set[str]] = {}
    for envelope in received:
        ids_by_text.setdefault(envelope["event"]["text"], set()).add(envelope["event_id"])
    assert all(len(event_ids) == 1 for event_ids in ids_by_text.values())


async def test_bolt_rejects_a_forged_signature(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    received = record_messages(bolt_app)
    body = json.dumps({"type": "event_callback", "event": {"type": "message"}}).encode()
    async with aiohttp.ClientSession() as http:
        for secret, expected in (("forged-secret", 401), (slack_emulator.signing_secret, 200)):
            headers = {"Content-Type": "application/json", **signed_headers(secret, body)}
            async with http.post(bolt_http, data=body, headers=headers) as response:
                assert response.status == expected
    assert len(received) == 1


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def plain_receiver(
    emulator: SlackEmulator, answers: Callable[[int], Awaitable[int]]
) -> AsyncIterator[list[web.Request]]:
    """A bare aiohttp endpoint: ``answers(attempt_number)`` returns the status to answer."""
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        await request.read()
        return web.Response(status=await answers(len(seen)))

    app = web.Application()
    app.router.add_post("/events", handle)
    async with serve(app) as base_url:
        emulator.use_http(base_url + "/events")
        yield seen
        await emulator.drain()


async def test_retries_after_a_slow_answer(slack_emulator: SlackEmulator) -> None:
    slack_emulator.ack_timeout = 0.3
    slack_emulator.retry_delays = (0.05, 0.05, 0.05)

    async def slow_first(attempt: int) -> int:
        if attempt == 1:
            await asyncio.sleep(0.6)
        return 200

    async with plain_receiver(slack_emulator, slow_first) as seen:
        await slack_emulator.post_message(ids.ALICE, C, "retry me")
        await slack_emulator.drain()
    attempts = slack_emulator.delivery_log
    assert [(a.retry_num, a.outcome) for a in attempts] == [
        (0, Outcome.TIMEOUT),
        (1, Outcome.ACKED),
    ]
    assert "X-Slack-Retry-Num" not in seen[0].headers
    assert seen[1].headers["X-Slack-Retry-Num"] == "1"
    assert seen[1].headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert attempts[0].event_id == attempts[1].event_id


async def test_retries_after_errors_until_given_up(slack_emulator: SlackEmulator) -> None:
    slack_emulator.retry_delays = (0.01, 0.01, 0.01)

    async def always_fail(attempt: int) -> int:
        return 500

    async with plain_receiver(slack_emulator, always_fail) as seen:
        await slack_emulator.post_message(ids.ALICE, C, "doomed")
        await slack_emulator.drain()
    [delivery] = slack_emulator.deliveries
    assert not delivery.delivered and delivery.done
    assert [a.retry_num for a in delivery.attempts] == [0, 1, 2, 3]
    assert {r.headers.get("X-Slack-Retry-Reason") for r in seen[1:]} == {"http_error"}


async def test_default_ack_timeout_is_three_seconds(slack_emulator: SlackEmulator) -> None:
    assert slack_emulator.ack_timeout == 3.0

    async def slow_first(attempt: int) -> int:
        if attempt == 1:
            await asyncio.sleep(3.3)
        return 200

    started = time.monotonic()
    async with plain_receiver(slack_emulator, slow_first):
        await slack_emulator.post_message(ids.ALICE, C, "patience")
        await slack_emulator.drain()
    first, second = slack_emulator.delivery_log
    assert first.outcome is Outcome.TIMEOUT and 2.9 <= first.elapsed < 3.3
    assert second.outcome is Outcome.ACKED
    assert time.monotonic() - started < 5


async def test_unreachable_app_is_recorded_as_undelivered(slack_emulator: SlackEmulator) -> None:
    slack_emulator.retry_delays = (0.01,)
    async with serve(web.Application()) as base_url:
        pass  # the port is free again: connections are refused
    slack_emulator.use_http(base_url + "/slack/events")
    await slack_emulator.post_message(ids.ALICE, C, "anyone?")
    await slack_emulator.drain()
    [delivery] = slack_emulator.deliveries
    assert [a.outcome for a in delivery.attempts] == [Outcome.CONNECTION_FAILED] * 2
    assert delivery.attempts[1].retry_reason == "connection_failed"
