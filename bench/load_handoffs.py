"""Step 1 and 2: N guests ask for a human; then the stack sits idle with N open cases.

Each guest opens a session the way the customer's page does and writes "I want to talk
to a human"; the offline model answers and calls the handoff tool, the bridge opens the
thread. ``concurrency`` guests are mid-handoff at any time: a guest's slot is freed once
its root message is in Slack, so the run measures the whole path, not a queue.
"""

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

from bench.load_parlant import Guest, guest_says, open_guest
from bench.load_slack import SlackRecorder
from bench.load_stack import Stack
from bench.load_stats import CpuWindow, Dist, Usage, usage_over

REQUEST = "I want to talk to a human"
HANDOFF_TIMEOUT = 120.0
QUIET_SECONDS = 3.0
"""The bridge has finished opening threads once Slack has seen no post for this long."""


@dataclass
class Handoffs:
    guests: dict[str, Guest] = field(default_factory=dict)
    """Session id → guest, for every handoff whose root reached Slack."""
    to_root: list[float] = field(default_factory=list)
    """Per guest: seconds from sending the request to its root message in Slack."""
    failed: int = 0
    usage: dict[str, Usage] = field(default_factory=dict)
    """CPU from the first request to the last root message."""
    wall: float = 0.0
    """Seconds from the first request to the last root message."""
    transcripts: int = 0
    """Threads showing the conversation so far (the bridge's first post in the thread)
    when the step moved on."""
    transcripts_wall: float | None = None
    """Seconds from the first request until every thread showed it (``None``: not within
    the cap)."""

    @property
    def rate(self) -> float:
        return len(self.guests) / self.wall if self.wall else 0.0

    @property
    def latency(self) -> Dist:
        return Dist.of(self.to_root)


async def hand_off_all(
    stack: Stack, slack: SlackRecorder, sessions: int, concurrency: int, cap: float
) -> Handoffs:
    """Hand off ``sessions`` guests; then wait, at most ``cap`` seconds, for every thread
    to show the conversation so far and for the bridge to stop posting."""
    result = Handoffs()
    slots = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    start = time.monotonic()
    last_root = start

    async def one(number: int, http: aiohttp.ClientSession) -> None:
        nonlocal last_root
        async with slots:
            try:
                guest = await open_guest(http, stack.agent.url, number)
                root = slack.root_event(guest.session_id)
                asked = time.monotonic()
                await guest_says(http, stack.agent.url, guest, REQUEST)
                await asyncio.wait_for(root.wait(), HANDOFF_TIMEOUT)
            except (aiohttp.ClientError, TimeoutError) as error:
                result.failed += 1
                print(f"  handoff {number} failed: {type(error).__name__}: {error}")
                return
            shown = slack.roots[guest.session_id].at
            result.to_root.append(shown - asked)
            result.guests[guest.session_id] = guest
            last_root = max(last_root, shown)

    window = CpuWindow(stack.processes())
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(one(n, http) for n in range(sessions)))
    result.usage = window.stop()
    result.wall = last_root - start
    deadline = time.monotonic() + cap
    threads = [slack.roots[session_id].thread_ts for session_id in result.guests]
    while time.monotonic() < deadline:
        slack.poll()
        result.transcripts = sum(1 for ts in threads if ts in slack.first_reply)
        if result.transcripts == len(threads):
            last = max((slack.first_reply[ts] for ts in threads), default=start)
            result.transcripts_wall = last - start
            break
        await asyncio.sleep(0.2)
    await wait_quiet(slack, max(0.0, deadline - time.monotonic()))
    return result


async def wait_quiet(slack: SlackRecorder, timeout: float) -> None:
    """Until the bridge has posted nothing for ``QUIET_SECONDS`` (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        slack.poll()
        if time.monotonic() - max(slack.last_post_at, 0.0) >= QUIET_SECONDS:
            return
        await asyncio.sleep(0.2)


async def idle_usage(stack: Stack, seconds: float) -> dict[str, Usage]:
    """CPU and memory of the agent and the bridge while nothing happens."""
    return await usage_over(stack.processes(with_bench=False), seconds)
