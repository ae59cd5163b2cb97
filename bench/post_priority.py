"""Posting by priority at Slack's pace: how soon new handoffs' root messages show.

    .venv/bin/python -m bench.post_priority [--handoffs 100] [--older 8] [--backlog 10]
        [--warmup 5.5]

The bridge's ``SlackPoster`` (1 post/s per channel, bursts of 3, the client retrying 429s
after ``Retry-After``) posts into the test suite's Slack emulator with its rate limits on
(chat.postMessage: 1/s per channel, bursts of 4, 429 + ``Retry-After`` beyond). The emulator
has no accelerated clock, so everything runs at Slack's real pace.

``--older`` threads wait with ``--backlog`` transcript posts each; the poster works on them
for ``--warmup`` seconds (so no burst is left; the default's half second makes the handoffs
arrive between two of the poster's slots rather than racing one), then ``--handoffs`` root
messages arrive at once. Measured: seconds from their arrival until Slack shows each root,
against the floor of one post per second per channel (a channel's k-th root cannot show
before k - 1 seconds), and against the same load without priorities (every post LIVE, so
threads simply take turns). A: everything in one channel. B: the same roots and older
threads spread over four channels. The four runs go at once, each against its own emulator.
"""

import argparse
import asyncio
import statistics
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.ids import ChannelId, Ts
from slack_bridge.posts import Post, PostPriority
from slack_bridge.slack_poster import SlackPoster
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.workspace import default_workspace

POSTS_PER_SECOND = 1.0
CHANNELS = [ids.HANDOFF_CHANNEL, "C0HANDOFF2", "C0HANDOFF3", "C0HANDOFF4"]


@dataclass(frozen=True)
class Load:
    handoffs: int
    older: int
    backlog: int
    warmup: float


@dataclass(frozen=True)
class Result:
    seconds: list[float]
    """Per root, from its arrival until Slack showed it."""
    floor: list[float]
    ratelimited: int
    """429 answers the emulator gave."""


def _pick(samples: Sequence[float]) -> tuple[float, float]:
    return statistics.median(samples), max(samples)


async def run(load: Load, channels: int, prioritized: bool) -> Result:
    workspace = default_workspace()
    for channel in CHANNELS[1:channels]:
        workspace.add_channel(channel, channel.lower().removeprefix("c0"))
    emulator = SlackEmulator(workspace, rate_limits=True)
    await emulator.start()
    tasks: list[asyncio.Task[Any]] = []

    def spawn(work: Coroutine[Any, Any, Any], name: str) -> None:
        tasks.append(asyncio.create_task(work, name=name))

    client = AsyncWebClient(  # as the bridge's posting client
        token=emulator.bot_token,
        base_url=emulator.api_url,
        timeout=15,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )
    poster = SlackPoster(client, spawn, rate=POSTS_PER_SECOND)
    backlog_priority = PostPriority.BACKLOG if prioritized else PostPriority.LIVE
    root_priority = PostPriority.ROOT if prioritized else PostPriority.LIVE
    try:
        for n in range(load.older):
            channel = CHANNELS[n % channels]
            thread_ts = Ts(await emulator.post_message(ids.ALICE, channel, f"older {n}"))
            for part in range(load.backlog):
                text = f"older {n} transcript {part}"
                poster.submit(ChannelId(channel), thread_ts, Post(text, priority=backlog_priority))
        await asyncio.sleep(load.warmup)

        arrived = time.monotonic()
        roots = {f"handoff {n}": ChannelId(CHANNELS[n % channels]) for n in range(load.handoffs)}
        posted = [
            poster.submit(channel, None, Post(text, priority=root_priority))
            for text, channel in roots.items()
        ]
        await asyncio.gather(*posted)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await emulator.stop()

    calls = emulator.calls_to("chat.postMessage")
    shown = {
        str(call.params["text"]): call.at - arrived
        for call in calls
        if call.http_status == 200 and call.response.get("ok")
    }
    per_channel = [sum(1 for c in roots.values() if c == channel) for channel in CHANNELS]
    floor = [k / POSTS_PER_SECOND for count in per_channel for k in range(count)]
    return Result(
        seconds=[shown[text] for text in roots],
        floor=floor,
        ratelimited=sum(1 for call in calls if call.http_status == 429),
    )


def report(name: str, channels: int, load: Load, first: Result, baseline: Result) -> None:
    p50, top = _pick(first.seconds)
    floor_p50, floor_top = _pick(first.floor)
    base_p50, base_top = _pick(baseline.seconds)
    print(f"\n{name}: {load.handoffs} handoffs in {channels} channel(s)")
    print(f"  {'':30} {'p50 s':>8} {'max s':>8} {'429s':>6}")
    print(f"  {'floor (1 post/s per channel)':30} {floor_p50:8.1f} {floor_top:8.1f}")
    print(f"  {'by priority':30} {p50:8.1f} {top:8.1f} {first.ratelimited:6d}")
    print(f"  {'baseline: all LIVE':30} {base_p50:8.1f} {base_top:8.1f} {baseline.ratelimited:6d}")
    print(
        f"  by priority / floor: p50 {p50 / max(floor_p50, 1e-9):.2f}x,"
        f" max {top / max(floor_top, 1e-9):.2f}x"
    )
    print(f"  baseline / by priority: p50 {base_p50 / p50:.2f}x, max {base_top / top:.2f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handoffs", type=int, default=100)
    parser.add_argument("--older", type=int, default=8, help="threads with a backlog")
    parser.add_argument("--backlog", type=int, default=10, help="transcript posts per thread")
    parser.add_argument("--warmup", type=float, default=5.5)
    args = parser.parse_args()
    load = Load(args.handoffs, args.older, args.backlog, args.warmup)
    print(
        f"{load.handoffs} handoffs arrive at once; {load.older} older threads wait with"
        f" {load.backlog} transcript posts each. Slack's real pace: this takes minutes."
    )
    started = time.monotonic()
    one, one_base, four, four_base = await asyncio.gather(
        run(load, 1, prioritized=True),
        run(load, 1, prioritized=False),
        run(load, 4, prioritized=True),
        run(load, 4, prioritized=False),
    )
    report("A", 1, load, one, one_base)
    report("B", 4, load, four, four_base)
    print(f"\n(wall time {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
