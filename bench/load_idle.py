"""Step 5: Parlant's CPU with many handed-off sessions that nobody writes in.

Sessions are marked over REST with the operator token exactly as the handoff tool marks
them (``bench.run.mark_handed_off``: manual mode, label and metadata), instead of running
an LLM turn each; the bridge follows them all as it would in production. Measured on a
fresh stack: the agent alone first (the floor), then with every thread open and quiet.

"Quiet" is judged by the agent's CPU, not only by Slack: the bridge may go on reading
sessions after its last post. CPU is measured in consecutive windows (each at least as
long as 30 s) until two in a row agree, or ``SETTLE_CAP`` seconds have passed; the last
window is the result, and the series is reported. With the push stream up, the bridge lists
the handed-off sessions only every ``STREAMING_RECONCILE_SECONDS`` (a safety net): one
such listing is timed separately (the agent's CPU seconds and its wall time) and its share
over that period is added to the agent's idle CPU.
"""

import asyncio
import time
from dataclasses import dataclass

import aiohttp

from agent.handoff_protocol import HANDOFF_LABEL
from bench.load_handoffs import wait_quiet
from bench.load_slack import SlackRecorder
from bench.load_stack import Stack
from bench.load_stats import CpuWindow, Usage, usage_over
from bench.run import mark_handed_off
from slack_bridge.watcher import STREAMING_RECONCILE_SECONDS
from tests.support.processes import operator_headers

OPEN_TIMEOUT = 1800.0
SETTLE_CAP = 600.0
AGREE_POINTS = 0.01
"""Two windows agree when the agent's CPU differs by at most one point of a core..."""
AGREE_SHARE = 0.2
"""... or by at most a fifth."""


@dataclass(frozen=True)
class Listing:
    """One ``GET /sessions?labels=handoff``, as the bridge's reconcile sends it."""

    wall_seconds: float
    cpu_seconds: float
    """The agent's CPU while answering it."""
    sessions: int


@dataclass(frozen=True)
class IdleSessions:
    sessions: int
    floor: Usage
    """The agent with the bridge following and no handoffs."""
    marked_in: float
    """Seconds to create and mark every session over REST."""
    opened_in: float
    """Seconds from the first marking until the last root message was in Slack."""
    opened: int
    agent: Usage
    bridge: Usage
    series: tuple[float, ...]
    """The agent's CPU in each window until it settled (the last is ``agent``)."""
    settled: bool
    listing: Listing

    @property
    def agent_with_listings(self) -> float:
        """The agent's idle CPU with the bridge's safety-net listings spread over time."""
        return self.agent.cpu + self.listing.cpu_seconds / STREAMING_RECONCILE_SECONDS


async def idle_sessions(
    stack: Stack, slack: SlackRecorder, sessions: int, seconds: float
) -> IdleSessions:
    await asyncio.sleep(2)
    floor = (await usage_over({"agent": stack.processes()["agent"]}, seconds))["agent"]
    url = stack.agent.url
    start = time.monotonic()
    async with aiohttp.ClientSession(headers=operator_headers()) as http:
        async with http.post(f"{url}/customers", json={"name": "Idle"}) as response:
            response.raise_for_status()
            customer = await response.json()
        writers = asyncio.Semaphore(16)

        async def one() -> None:
            async with writers:
                await mark_handed_off(http, url, customer["id"])

        await asyncio.gather(*(one() for _ in range(sessions)))
    marked_in = time.monotonic() - start
    print(f"  {sessions} sessions marked in {marked_in:.0f} s; waiting for their threads")
    deadline = time.monotonic() + OPEN_TIMEOUT
    while len(slack.roots) < sessions and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
    opened_in = max((root.at for root in slack.roots.values()), default=start) - start
    await wait_quiet(slack, OPEN_TIMEOUT)
    print(f"  threads open; measuring in windows of {seconds:.0f} s until the CPU settles")
    windows: list[dict[str, Usage]] = []
    settled = False
    deadline = time.monotonic() + SETTLE_CAP
    while not settled and time.monotonic() < deadline:
        windows.append(await usage_over(stack.processes(with_bench=False), seconds))
        settled = len(windows) >= 2 and _agree(windows[-2]["agent"].cpu, windows[-1]["agent"].cpu)
    last = windows[-1]
    listing = await _time_listing(stack)
    return IdleSessions(
        sessions,
        floor,
        marked_in,
        opened_in,
        len(slack.roots),
        last["agent"],
        last["bridge"],
        tuple(window["agent"].cpu for window in windows),
        settled,
        listing,
    )


async def _time_listing(stack: Stack, rounds: int = 3) -> Listing:
    """The cheapest of a few listings (the others may share the core with the bridge)."""
    agent = stack.processes(with_bench=False)["agent"]
    best: Listing | None = None
    async with aiohttp.ClientSession(headers=operator_headers()) as http:
        for _ in range(rounds):
            window = CpuWindow({"agent": agent})
            start = time.monotonic()
            async with http.get(
                f"{stack.agent.url}/sessions", params={"labels": HANDOFF_LABEL}
            ) as response:
                response.raise_for_status()
                found = len(await response.json())
            wall = time.monotonic() - start
            listing = Listing(wall, window.stop()["agent"].cpu * wall, found)
            if best is None or listing.cpu_seconds < best.cpu_seconds:
                best = listing
            await asyncio.sleep(1.0)
    assert best is not None
    return best


def _agree(before: float, after: float) -> bool:
    return abs(after - before) <= max(AGREE_POINTS, AGREE_SHARE * before)
