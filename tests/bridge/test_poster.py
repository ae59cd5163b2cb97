"""The channel poster against the Slack emulator: each post exactly once, long messages
whole and in order, a refused thread parked while the others go on, what matters most
posted first."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.formatting import POST_CHARS, Line
from slack_bridge.ids import ChannelId, Ts
from slack_bridge.post_queue import PostQueue
from slack_bridge.posts import Post, PostPriority, line_post, shown_in
from slack_bridge.slack_poster import ChannelPoster
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator

CHANNEL = ChannelId(ids.HANDOFF_CHANNEL)


@asynccontextmanager
async def _running(
    emulator: SlackEmulator, rate: float = 100, burst: int = 100
) -> AsyncIterator[ChannelPoster]:
    emulator.limiter.enabled = False
    client = AsyncWebClient(
        token=emulator.bot_token,
        base_url=emulator.api_url,
        timeout=2,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )
    worker = ChannelPoster(client, CHANNEL, rate=rate, burst=burst, max_backoff=0.2)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def poster(slack_emulator: SlackEmulator) -> AsyncIterator[ChannelPoster]:
    async with _running(slack_emulator) as worker:
        yield worker


async def _thread(emulator: SlackEmulator) -> Ts:
    return Ts(await emulator.post_message(ids.ALICE, ids.HANDOFF_CHANNEL, "a handoff root"))


async def _post_lines(poster: ChannelPoster, thread_ts: Ts, texts: list[str]) -> list[Ts | None]:
    posts = [p for n, t in enumerate(texts) for p in line_post(Line("Jo (customer)", t), n)]
    for post in posts:
        poster.submit(thread_ts, post)
    return list(await asyncio.gather(*(post.posted for post in posts)))


def _bot_texts(emulator: SlackEmulator, thread_ts: str) -> list[str]:
    return [m.text for m in emulator.thread(ids.HANDOFF_CHANNEL, thread_ts)[1:] if m.bot_id]


def _submit(
    poster: ChannelPoster, thread_ts: Ts | None, texts: list[str], priority: PostPriority
) -> list[Post]:
    posts = [Post(text=text, priority=priority) for text in texts]
    for post in posts:
        poster.submit(thread_ts, post)
    return posts


async def _posted_in_order(emulator: SlackEmulator, posts: list[Post]) -> list[str]:
    """The texts Slack took, in the order the poster sent them."""
    await asyncio.gather(*(post.posted for post in posts))
    return [str(call.params["text"]) for call in emulator.calls_to("chat.postMessage")]


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


async def test_a_new_root_goes_out_before_other_threads_backlog(
    poster: ChannelPoster, slack_emulator: SlackEmulator
) -> None:
    old, older = await _thread(slack_emulator), await _thread(slack_emulator)
    backlog = _submit(poster, old, [f"old {n}" for n in range(10)], PostPriority.BACKLOG)
    backlog += _submit(poster, older, [f"older {n}" for n in range(10)], PostPriority.BACKLOG)
    roots = _submit(poster, None, ["root 1", "root 2"], PostPriority.ROOT)

    order = await _posted_in_order(slack_emulator, backlog + roots)

    assert order[:3] == ["root 1", "root 2", "old 0"]


async def test_a_root_submitted_while_the_worker_waits_for_slacks_pace_goes_next(
    slack_emulator: SlackEmulator,
) -> None:
    async with _running(slack_emulator, rate=10, burst=1) as poster:
        old, older = await _thread(slack_emulator), await _thread(slack_emulator)
        backlog = _submit(poster, old, [f"old {n}" for n in range(3)], PostPriority.BACKLOG)
        backlog += _submit(poster, older, [f"older {n}" for n in range(3)], PostPriority.BACKLOG)
        await backlog[0].posted
        roots = _submit(poster, None, ["root"], PostPriority.ROOT)

        order = await _posted_in_order(slack_emulator, backlog + roots)

    assert order[:3] == ["old 0", "root", "older 0"]


async def test_live_messages_go_before_other_threads_backlog(
    poster: ChannelPoster, slack_emulator: SlackEmulator
) -> None:
    old, live, other = [await _thread(slack_emulator) for _ in range(3)]
    backlog = _submit(poster, old, ["old 0", "old 1"], PostPriority.BACKLOG)
    lives = _submit(poster, live, ["live"], PostPriority.LIVE)
    lives += _submit(poster, other, ["other live"], PostPriority.LIVE)

    order = await _posted_in_order(slack_emulator, backlog + lives)

    assert order == ["live", "other live", "old 0", "old 1"]


async def test_a_threads_posts_keep_their_order_whatever_their_priority(
    poster: ChannelPoster, slack_emulator: SlackEmulator
) -> None:
    mixed, live = await _thread(slack_emulator), await _thread(slack_emulator)
    posts = _submit(poster, mixed, ["history 0"], PostPriority.BACKLOG)
    posts += _submit(poster, mixed, ["now 0"], PostPriority.LIVE)
    posts += _submit(poster, mixed, ["history 1"], PostPriority.BACKLOG)
    posts += _submit(poster, live, ["live"], PostPriority.LIVE)

    order = await _posted_in_order(slack_emulator, posts)

    assert order == ["live", "history 0", "now 0", "history 1"]
    assert _bot_texts(slack_emulator, mixed) == ["history 0", "now 0", "history 1"]


async def test_history_lines_and_the_live_lines_behind_them_are_still_combined(
    poster: ChannelPoster, slack_emulator: SlackEmulator
) -> None:
    thread_ts = await _thread(slack_emulator)
    said = Line("Jo (customer)", "earlier")
    posts = line_post(said, 0, priority=PostPriority.BACKLOG)
    posts += line_post(Line("Jo (customer)", "just now"), 1)
    for post in posts:
        poster.submit(thread_ts, post)

    posted = await asyncio.gather(*(post.posted for post in posts))

    assert posted[0] == posted[1]
    assert _bot_texts(slack_emulator, thread_ts) == ["> earlier\n> just now"]


async def test_threads_of_equal_priority_take_turns(
    poster: ChannelPoster, slack_emulator: SlackEmulator
) -> None:
    a, b, c = [await _thread(slack_emulator) for _ in range(3)]
    posts = _submit(poster, a, ["a0", "a1", "a2"], PostPriority.BACKLOG)
    posts += _submit(poster, b, ["b0"], PostPriority.BACKLOG)
    posts += _submit(poster, c, ["c0", "c1"], PostPriority.BACKLOG)

    order = await _posted_in_order(slack_emulator, posts)

    assert order == ["a0", "b0", "c0", "a1", "c1", "a2"]


async def test_of_equal_kinds_a_high_priority_cases_posts_go_first() -> None:
    queue = PostQueue()
    for n in range(3):
        queue.add(Ts(f"normal-{n}"), Post(text=f"n{n}", priority=PostPriority.ROOT, urgency=1))
    queue.add(Ts("low"), Post(text="low", priority=PostPriority.ROOT, urgency=2))
    queue.add(Ts("high"), Post(text="high", priority=PostPriority.ROOT, urgency=0))
    queue.add(Ts("live"), Post(text="live", priority=PostPriority.LIVE, urgency=0))
    order = [queue.take()[1][0].text for _ in range(6)]
    assert order == ["high", "n0", "n1", "n2", "low", "live"]
