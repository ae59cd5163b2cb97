"""Step 3: customers and operators write at fixed rates over the N open threads.

Open loop: message k is sent at ``start + k / rate`` whether or not earlier ones have
arrived, so a slow stack shows as latency, not as a lower rate. Customer messages go to
the threads in turn; operator replies (posted by Alice in Slack, delivered to the bridge
as Slack would) go to the threads in turn from the middle of the list, so the two do not
hit the same thread at the same moment.

Every message carries a marker (``bench.load_markers``). After the window, the run waits
for stragglers, then counts what never arrived and what arrived more than once: customer
markers in the bridge's thread posts, operator markers in Parlant's events (read over
REST, not from the stream, so a dropped stream subscriber cannot hide a duplicate).
"""

import asyncio
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.load_markers import Kind, marker, markers_in
from bench.load_parlant import EventFeed, Guest, Operator, guest_address, guest_says
from bench.load_slack import SlackRecorder
from bench.load_stack import Stack
from bench.load_stats import CpuWindow, Dist, Usage
from tests.slack_emulator import ids
from tests.support.bridge import HANDOFF_CHANNEL

SETTLE_SECONDS = 15.0
RELAY = "(total after Slack's delivery hop: bridge ack → event on the push stream)"
MESSAGES_PER_ADDRESS = 25
"""Parlant lets one client address post 30 customer messages a minute. A guest writing
more than this (few sessions, a high rate) continues from further addresses, so the
limit is never hit and the limiter keeps as few addresses as real customers would."""
EXTRA_ADDRESSES = 1 << 23


@dataclass
class CustomerMessage:
    marker: str
    sent: float
    answered: float | None = None
    failed: str | None = None


@dataclass
class OperatorReply:
    marker: str
    session_id: str
    ts: str
    posted: float


@dataclass
class Traffic:
    customers: list[CustomerMessage] = field(default_factory=list)
    operators: list[OperatorReply] = field(default_factory=list)
    usage: dict[str, Usage] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Direction:
    """One direction's latencies, split where one part's work ends and the next begins."""

    segments: dict[str, Dist]
    sent: int
    failed: int
    lost: int
    duplicated: int
    echoed: int = 0
    """Operator replies the bridge posted back into their own thread."""


class Pacer:
    """Calls ``send(k)`` at ``start + k / rate`` until ``end``; keeps the tasks."""

    def __init__(self, rate: float, start: float, end: float) -> None:
        self._rate = rate
        self._start = start
        self._end = end
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self, send: Callable[[int], Coroutine[Any, Any, None]]) -> None:
        if self._rate <= 0:
            return
        number = 0
        while (due := self._start + number / self._rate) < self._end:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            task = asyncio.create_task(send(number))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            number += 1

    async def finish(self) -> None:
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def drive(
    stack: Stack,
    slack: SlackRecorder,
    guests: list[Guest],
    threads: dict[str, str],
    seconds: float,
    customer_rate: float,
    operator_rate: float,
    probe: Callable[[], Awaitable[None]],
) -> Traffic:
    """Send both directions' traffic for ``seconds``, probing baselines meanwhile."""
    traffic = Traffic()
    count = len(guests)
    start = time.monotonic() + 0.5
    end = start + seconds
    customers = Pacer(customer_rate, start, end)
    operators = Pacer(operator_rate, start, end)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as http:

        async def customer_says(number: int) -> None:
            guest = guests[number % count]
            block = number // count // MESSAGES_PER_ADDRESS
            address = (
                guest_address(EXTRA_ADDRESSES + block * count + number % count)
                if block
                else guest.address
            )
            sent = CustomerMessage(marker(Kind.CUSTOMER, number), time.monotonic())
            traffic.customers.append(sent)
            text = f"Question {sent.marker} about my policy"
            try:
                await guest_says(http, stack.agent.url, guest, text, address)
                sent.answered = time.monotonic()
            except aiohttp.ClientError as error:
                sent.failed = f"{type(error).__name__}: {error}"

        async def operator_replies(number: int) -> None:
            guest = guests[(number + count // 2) % count]
            name = marker(Kind.OPERATOR, number)
            posted = time.monotonic()
            ts = await stack.emulator.post_message(
                ids.ALICE,
                HANDOFF_CHANNEL,
                f"Reply {name} from the operator",
                threads[guest.session_id],
            )
            traffic.operators.append(OperatorReply(name, guest.session_id, ts, posted))

        async def probe_until_end() -> None:
            while time.monotonic() < end:
                await probe()
                await asyncio.sleep(0.5)

        await asyncio.sleep(max(0.0, start - time.monotonic()))
        window = CpuWindow(stack.processes())
        await asyncio.gather(
            customers.run(customer_says), operators.run(operator_replies), probe_until_end()
        )
        traffic.usage = window.stop()
        traffic.seconds = time.monotonic() - start
        await customers.finish()
        await operators.finish()
    return traffic


async def settle(traffic: Traffic, slack: SlackRecorder, feed: EventFeed) -> None:
    """Until every message has arrived, or ``SETTLE_SECONDS`` passed."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        slack.poll()
        missing_customers = any(
            m.answered is not None and m.marker not in slack.first_post for m in traffic.customers
        )
        missing_operators = any(r.marker not in feed.seen for r in traffic.operators)
        if not missing_customers and not missing_operators:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # a late duplicate would show by now
    slack.poll()


def customer_direction(traffic: Traffic, slack: SlackRecorder, feed: EventFeed) -> Direction:
    """Latencies of customer messages; one still missing counts as infinitely late."""
    answered = [m for m in traffic.customers if m.answered is not None]
    pushed = [m for m in answered if m.marker in feed.seen]

    def shown(message: CustomerMessage) -> float:
        return slack.first_post.get(message.marker, math.inf)

    return Direction(
        segments={
            "total: customer POST → post in the Slack thread": Dist.of(
                shown(m) - m.sent for m in answered
            ),
            "Parlant: POST → event on the push stream": Dist.of(
                feed.seen[m.marker].arrived - m.sent for m in pushed
            ),
            "bridge: push stream → post in the thread": Dist.of(
                shown(m) - feed.seen[m.marker].arrived for m in pushed
            ),
            "(POST answered)": Dist.of(
                m.answered - m.sent for m in answered if m.answered is not None
            ),
        },
        sent=len(traffic.customers),
        failed=len(traffic.customers) - len(answered),
        lost=sum(1 for m in answered if m.marker not in slack.first_post),
        duplicated=sum(1 for m in answered if slack.posted[m.marker] > 1),
    )


async def operator_direction(
    traffic: Traffic, slack: SlackRecorder, feed: EventFeed, operator: Operator
) -> Direction:
    stored = await _markers_in_parlant(operator, {r.session_id for r in traffic.operators})
    seen = [r for r in traffic.operators if r.marker in feed.seen]
    acked = [r for r in seen if r.ts in slack.acked]

    def ack(reply: OperatorReply) -> float:
        return reply.posted + slack.acked[reply.ts]

    return Direction(
        segments={
            "total: reply in Slack → event on the push stream": Dist.of(
                (feed.seen[r.marker].arrived if r.marker in feed.seen else math.inf) - r.posted
                for r in traffic.operators
            ),
            "Slack: event delivered, bridge acks": Dist.of(slack.acked[r.ts] for r in acked),
            "bridge: ack → Parlant creates the event": Dist.of(
                feed.seen[r.marker].created - ack(r) for r in acked
            ),
            "Parlant: event created → on the push stream": Dist.of(
                feed.seen[r.marker].arrived - feed.seen[r.marker].created for r in seen
            ),
            RELAY: Dist.of(feed.seen[r.marker].arrived - ack(r) for r in acked),
        },
        sent=len(traffic.operators),
        failed=0,
        lost=sum(1 for r in traffic.operators if stored[r.marker] == 0),
        duplicated=sum(1 for r in traffic.operators if stored[r.marker] > 1),
        echoed=sum(1 for r in traffic.operators if slack.posted[r.marker] > 0),
    )


async def _markers_in_parlant(operator: Operator, sessions: set[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    reads = asyncio.Semaphore(8)

    async def read(session_id: str) -> None:
        async with reads:
            for event in await operator.events(session_id):
                message = (event.get("data") or {}).get("message")
                if isinstance(message, str) and event.get("source") == "human_agent":
                    found.update(markers_in(message))

    await asyncio.gather(*(read(s) for s in sessions))
    return found
