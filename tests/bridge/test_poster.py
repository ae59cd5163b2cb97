"""The channel poster against the Slack emulator: each post exactly once, long messages
whole and in order, a refused thread parked while the others go on."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.formatting import POST_CHARS, Line
from slack_bridge.ids import ChannelId, Ts
from slack_bridge.posts import line_post, shown_in
from slack_bridge.slack_poster import ChannelPoster
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator

CHANNEL = ChannelId(ids.HANDOFF_CHANNEL)


@pytest.fixture
async def poster(slack_emulator: SlackEmulator) -> AsyncIterator[ChannelPoster]:
    slack_emulator.limiter.enabled = False
    client = AsyncWebClient(
        token=slack_emulator.bot_token,
        base_url=slack_emulator.api_url,
        timeout=2,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )
    worker = ChannelPoster(client, CHANNEL, rate=100, burst=100, max_backoff=0.2)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _thread(emulator: SlackEmulator) -> Ts:
    return Ts(await emulator.post_message(ids.ALICE, ids.HANDOFF_CHANNEL, "a handoff root"))


async def _post_lines(poster: ChannelPoster, thread_ts: Ts, texts: list[str]) -> list[Ts | None]:
    posts = [p for n, t in enumerate(texts) for p in line_post(Line("Jo (customer)", t), n)]
    for post in posts:
        poster.submit(thread_ts, post)
    return list(await asyncio.gather(*(post.posted for post in posts)))


def _bot_texts(emulator: SlackEmulator, thread_ts: str) -> list[str]:
    return [m.text for m in emulator.thread(ids.HANDOFF_CHANNEL, thread_ts)[1:] if m.bot_id]


@pytest.mark.parametrize("lost_answer", [500, None])
async def test_a_post_whose_answer_was_lost_is_found_not_repeated(
    poster: ChannelPoster, slack_emulator: SlackEmulator, lost_answer: int | None
) -> None:
    thread_ts = await _thread(slack_emulator)
    slack_emulator.lose_response_after_write("chat.postMessage", 2, status=lost_answer)

    posted = await _post_lines(poster, thread_ts, ["first"])
    posted += await _post_lines(poster, thread_ts, ["second"])

    assert _bot_texts(slack_emulator, thread_ts) == ["> first", "> second"]
    assert all(posted)


async def test_outage_bursts_delay_posts_and_repeat_none(
    poster: ChannelPoster, slack_emulator: SlackEmulator
) -> None:
    thread_ts = await _thread(slack_emulator)
    slack_emulator.fail_next("chat.postMessage", 2, status=503)
    slack_emulator.fail_next("chat.postMessage", 2, status=429)
    slack_emulator.fail_next("chat.postMessage", 1, status=500)

    await _post_lines(poster, thread_ts, [f"m{n}" for n in range(5)])

    shown = "\n".join(_bot_texts(slack_emulator, thread_ts)).split("\n")
    assert shown == [f"> m{n}" for n in range(5)]


async def test_a_long_message_arrives_whole_in_order_within_slack_limits(
    poster: ChannelPoster, slack_emulator: SlackEmulator
) -> None:
    thread_ts = await _thread(slack_emulator)
    words = " ".join(f"w{n:05d}" for n in range(7_500))  # 52,500 characters, one line
    lines = "\n".join(f"line {n} " + "x" * 90 for n in range(500))
    await _post_lines(poster, thread_ts, [words, lines])

    texts = _bot_texts(slack_emulator, thread_ts)
    assert all(len(text) <= POST_CHARS for text in texts)
    rows = [row.removeprefix("> ") for text in texts for row in text.split("\n")]
    assert " ".join(rows[: rows.index("line 0 " + "x" * 90)]).split() == words.split()
    assert rows[rows.index("line 0 " + "x" * 90) :] == lines.split("\n")
    parts = [
        shown_in({"ts": m.ts, "metadata": m.metadata})
        for m in slack_emulator.thread(ids.HANDOFF_CHANNEL, thread_ts)
    ]
    assert [(p.last, p.part) for p in parts if p] == sorted((p.last, p.part) for p in parts if p)


async def test_a_refused_thread_is_parked_and_the_others_go_on(
    poster: ChannelPoster, slack_emulator: SlackEmulator
) -> None:
    locked, open_thread = await _thread(slack_emulator), await _thread(slack_emulator)
    slack_emulator.refuse_thread(ids.HANDOFF_CHANNEL, locked)

    refused = await _post_lines(poster, locked, ["a", "b"])
    delivered = await _post_lines(poster, open_thread, ["c", "d"])

    assert refused == [None, None]
    assert poster.parked(locked) == "cannot_reply_to_message"
    assert all(delivered)
    assert "\n".join(_bot_texts(slack_emulator, open_thread)) == "> c\n> d"

    slack_emulator.accept_thread(ids.HANDOFF_CHANNEL, locked)
    poster.unpark(locked)
    assert all(await _post_lines(poster, locked, ["a", "b"]))
