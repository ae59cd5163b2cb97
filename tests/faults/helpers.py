"""Driving a two-way conversation through faults, and counting what became of every message.

A ``Conversation`` is one handed-off session: the customer says ``c-001``, ``c-002`` … (through
the ``customers`` client, as a chat UI would) and the operator answers ``o-001`` … in the
Slack thread (through the emulator, as a person would). Every text holds a unique token, so
both sides can be read back and compared with what was sent:

* Parlant: the session's message events — customer messages and the operator's
  ``human_agent`` messages;
* Slack: the thread — the bridge's posts (customer messages mirrored into the thread; the
  bridge may combine several into one post and cuts long ones into parts) and the
  operator's own replies (which the bridge must never mirror back).

``Tally`` counts, per stream, the messages lost, repeated and out of order; ``Report`` adds
them up and prints the one-line summary every fault test ends with.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from parlant.client.types.event import Event

from tests.bridge.helpers import Handoff
from tests.slack_emulator import ids
from tests.slack_emulator.delivery import Delivery
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.parlant import Chat

OPERATOR_SOURCES = ("human_agent", "human_agent_on_behalf_of_ai_agent")
LONG_LINES = 48
"""A "long" customer message has this many lines of ~90 characters: more than one Slack post
(the bridge cuts posts at 3,800 characters), so it arrives in parts."""


def token_pattern(prefix: str = "") -> re.Pattern[str]:
    """``c-017``, ``o-017`` and ``c-017-end`` (the last line of a long message), after
    ``prefix``, and not part of a longer token (``A-c-001`` is not ``c-001``)."""
    return re.compile(rf"(?<![\w-]){re.escape(prefix)}[co]-\d{{3}}(?:-end)?(?![\w-])")


def long_text(token: str) -> str:
    filler = "the garage says the part is on back order and the rental ends on friday"
    lines = [f"{token} my car is still not repaired, here is everything that happened"]
    lines += [f"line {n:02d}: {filler}" for n in range(1, LONG_LINES + 1)]
    lines.append(f"{token}-end")
    return "\n".join(lines)


# ---- counting ---------------------------------------------------------------------------------


def _longest_increasing(values: Sequence[int]) -> set[int]:
    """Positions in ``values`` of one longest strictly increasing subsequence (O(n log n))."""
    tails: list[int] = []  # tails[k]: position of the smallest tail of a run of length k+1
    previous: list[int] = [-1] * len(values)
    for position, value in enumerate(values):
        low, high = 0, len(tails)
        while low < high:
            middle = (low + high) // 2
            if values[tails[middle]] < value:
                low = middle + 1
            else:
                high = middle
        previous[position] = tails[low - 1] if low else -1
        if low == len(tails):
            tails.append(position)
        else:
            tails[low] = position
    kept: set[int] = set()
    position = tails[-1] if tails else -1
    while position >= 0:
        kept.add(position)
        position = previous[position]
    return kept


@dataclass(frozen=True)
class Tally:
    """One stream (e.g. "customer messages in the Slack thread"): what was expected, in order,
    against what is there, in order."""

    name: str
    expected: tuple[str, ...]
    observed: tuple[str, ...]

    @property
    def lost(self) -> list[str]:
        present = set(self.observed)
        return [token for token in self.expected if token not in present]

    @property
    def duplicated(self) -> list[str]:
        """Each extra copy of an expected token, plus anything that should not be there at
        all (e.g. an operator reply the bridge mirrored back into the thread)."""
        wanted = set(self.expected)
        counts = Counter(self.observed)
        extra = [t for t, n in counts.items() if t in wanted for _ in range(n - 1)]
        return extra + [t for t in self.observed if t not in wanted]

    def _first_ranks(self) -> list[tuple[str, int]]:
        rank = {token: n for n, token in enumerate(self.expected)}
        seen: set[str] = set()
        firsts: list[tuple[str, int]] = []
        for token in self.observed:
            if token in rank and token not in seen:
                seen.add(token)
                firsts.append((token, rank[token]))
        return firsts

    @property
    def reordered(self) -> list[str]:
        """The fewest messages that would have to move to restore the order sent (first
        copies only): those outside one longest in-order run."""
        firsts = self._first_ranks()
        kept = _longest_increasing([rank for _, rank in firsts])
        return [token for n, (token, _) in enumerate(firsts) if n not in kept]

    @property
    def complete(self) -> bool:
        return not self.lost

    def describe(self) -> str:
        problems = []
        if self.lost:
            problems.append(f"lost {self.lost}")
        if self.duplicated:
            problems.append(f"repeated/unexpected {self.duplicated}")
        if self.reordered:
            problems.append(f"out of order {self.reordered}")
        if not problems:
            return f"{self.name}: {len(self.expected)} expected, all present once, in order"
        return f"{self.name}: " + "; ".join(problems) + f"\n    observed: {list(self.observed)}"


@dataclass(frozen=True)
class Report:
    tallies: tuple[Tally, ...]

    @property
    def lost(self) -> int:
        return sum(len(t.lost) for t in self.tallies)

    @property
    def duplicated(self) -> int:
        return sum(len(t.duplicated) for t in self.tallies)

    @property
    def reordered(self) -> int:
        return sum(len(t.reordered) for t in self.tallies)

    @property
    def complete(self) -> bool:
        return all(t.complete for t in self.tallies)

    def summary(self, messages: int, kills: int, faults: int) -> str:
        return (
            f"faults: messages={messages} kills={kills} faults={faults} lost={self.lost}"
            f" duplicated={self.duplicated} reordered={self.reordered}"
        )

    def details(self) -> str:
        return "\n  ".join(t.describe() for t in self.tallies)


def combine_reports(*reports: Report) -> Report:
    return Report(tuple(t for report in reports for t in report.tallies))


def finish(
    report: Report,
    messages: int,
    kills: int,
    faults: int,
    logs: str = "",
) -> None:
    """Print the summary line and assert that nothing was lost, repeated or reordered."""
    line = report.summary(messages, kills, faults)
    print(f"\n{line}")
    clean = report.lost == 0 and report.duplicated == 0 and report.reordered == 0
    assert clean, f"{line}\n  {report.details()}" + (f"\n--- logs ---\n{logs}" if logs else "")


# ---- the conversation ---------------------------------------------------------------------


@dataclass
class Conversation:
    """One handed-off session, driven from both ends; remembers what was sent, in order."""

    emulator: SlackEmulator
    handoff: Handoff
    prefix: str = ""
    operator: str = ids.ALICE
    customer_sent: list[str] = field(default_factory=list)
    """Texts the customer said that Parlant acknowledged, in order."""
    operator_sent: list[str] = field(default_factory=list)
    """Texts the operator posted in the thread, in order."""

    @property
    def chat(self) -> Chat:
        return self.handoff.chat

    @property
    def thread_ts(self) -> str:
        return self.handoff.thread_ts

    @property
    def pattern(self) -> re.Pattern[str]:
        return token_pattern(self.prefix)

    @property
    def messages(self) -> int:
        return len(self.customer_sent) + len(self.operator_sent)

    def customer_token(self, n: int) -> str:
        return f"{self.prefix}c-{n:03d}"

    def operator_token(self, n: int) -> str:
        return f"{self.prefix}o-{n:03d}"

    async def customer_says(self, n: int | None = None, *, long: bool = False) -> Event:
        """The customer's message ``c-n`` (default: the next number; a long one in parts
        when ``long``); recorded as expected once Parlant acknowledged it."""
        token = self.customer_token(len(self.customer_sent) + 1 if n is None else n)
        text = long_text(token) if long else token
        event = await self.chat.say(text)
        self.customer_sent.append(text)
        return event

    async def operator_says(self, n: int | None = None) -> Delivery:
        """The operator's reply ``o-n`` (default: the next number) in the thread; returns
        Slack's delivery of its event to the bridge (``delivered`` once acknowledged)."""
        text = self.operator_token(len(self.operator_sent) + 1 if n is None else n)
        await self.emulator.post_message(
            self.operator, HANDOFF_CHANNEL, text, thread_ts=self.thread_ts
        )
        # Submitted synchronously by post_message; the bridge's own edits (the root message
        # showing the case's state) may be delivered around it.
        delivery = next(
            d for d in reversed(self.emulator.deliveries) if d.event.get("text") == text
        )
        self.operator_sent.append(text)
        return delivery

    # ---- reading both sides back ----

    def _tokens(self, texts: Sequence[str]) -> list[str]:
        return [token for text in texts for token in self.pattern.findall(text)]

    def bot_posts(self) -> list[str]:
        """Texts of the bridge's posts in the thread, oldest first (the root excluded)."""
        thread = self.emulator.thread(HANDOFF_CHANNEL, self.thread_ts)[1:]
        return [m.text for m in thread if m.bot_id]

    def human_posts(self) -> list[str]:
        thread = self.emulator.thread(HANDOFF_CHANNEL, self.thread_ts)[1:]
        return [m.text for m in thread if not m.bot_id]

    async def parlant_messages(self) -> list[Event]:
        events = await self.chat.messages()
        return sorted(events, key=lambda e: e.offset)

    async def report(self) -> Report:
        events = await self.parlant_messages()

        def said(event: Event) -> str:
            data: Any = event.data
            return str(data.get("message") or "") if isinstance(data, dict) else ""

        by_kind: dict[tuple[str, str], list[str]] = {
            (side, kind): [] for side in ("parlant", "slack") for kind in ("c", "o")
        }
        for event in events:
            for token in self._tokens([said(event)]):
                # Customer tokens belong in customer events, operator tokens in operator
                # events; anywhere else (e.g. an AI message) they count as unexpected.
                kind = _kind(token, self.prefix)
                right = ("customer",) if kind == "c" else OPERATOR_SOURCES
                by_kind["parlant", kind].append(token if event.source in right else f"{token}?")
        for token in self._tokens(self.bot_posts()):
            by_kind["slack", _kind(token, self.prefix)].append(token)
        customer_tokens = tuple(self._tokens(self.customer_sent))
        operator_tokens = tuple(self._tokens(self.operator_sent))
        name = self.prefix.rstrip("-") or "session"
        return Report(
            (
                Tally(
                    f"{name}: customer → Parlant", customer_tokens, tuple(by_kind["parlant", "c"])
                ),
                Tally(
                    f"{name}: operator → Parlant", operator_tokens, tuple(by_kind["parlant", "o"])
                ),
                Tally(
                    f"{name}: customer → Slack thread",
                    customer_tokens,
                    tuple(by_kind["slack", "c"]),
                ),
                Tally(
                    # The operator's own replies, plus any the bridge mirrored back (a repeat).
                    f"{name}: operator in Slack thread",
                    operator_tokens,
                    tuple(self._tokens(self.human_posts()) + by_kind["slack", "o"]),
                ),
            )
        )

    def evidence(self, report: Report) -> str:
        """For a failure: the bridge's posts (ts, metadata) that show a message that was
        repeated or is out of order."""
        suspects = {t for tally in report.tallies for t in tally.duplicated + tally.reordered}
        lines = []
        for message in self.emulator.thread(HANDOFF_CHANNEL, self.thread_ts)[1:]:
            found = sorted(suspects & set(self.pattern.findall(message.text)))
            if message.bot_id and found:
                payload = (message.metadata or {}).get("event_payload")
                lines.append(f"  post {message.ts} metadata {payload} shows {found}")
        return "Slack posts showing repeated/reordered messages:\n" + "\n".join(lines) + "\n"

    async def operator_latencies(self) -> list[float]:
        """Seconds from each operator reply in Slack to its message in Parlant (first copy)."""
        posted = {
            token: float(m.ts)
            for m in self.emulator.thread(HANDOFF_CHANNEL, self.thread_ts)[1:]
            if not m.bot_id
            for token in self.pattern.findall(m.text)
        }
        seconds: dict[str, float] = {}
        for event in await self.parlant_messages():
            data: Any = event.data
            text = str(data.get("message") or "") if isinstance(data, dict) else ""
            for token in self.pattern.findall(text):
                if token in posted and token not in seconds and event.source in OPERATOR_SOURCES:
                    seconds[token] = event.creation_utc.timestamp() - posted[token]
        return sorted(seconds.values())

    async def settled_report(self, timeout: float = 60.0, quiet: float = 2.0) -> Report:
        """Wait until every message sent is on both sides (or ``timeout``), then until
        nothing has changed for ``quiet`` seconds (a late repeat would show); the report."""
        deadline = time.monotonic() + timeout
        report = await self.report()
        while not report.complete and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            report = await self.report()
        return await _quiet(self.report, report, quiet)


async def settled_reports(
    conversations: Sequence[Conversation], timeout: float = 60.0, quiet: float = 2.0
) -> Report:
    """``settled_report`` for several conversations at once, combined."""

    async def both() -> Report:
        return combine_reports(*[await c.report() for c in conversations])

    deadline = time.monotonic() + timeout
    report = await both()
    while not report.complete and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        report = await both()
    return await _quiet(both, report, quiet)


async def _quiet(read: Callable[[], Awaitable[Report]], report: Report, quiet: float) -> Report:
    """Poll until the observed streams stay unchanged for ``quiet`` seconds."""
    stable_since = time.monotonic()
    hard_stop = stable_since + max(quiet * 5, 10.0)
    while time.monotonic() - stable_since < quiet and time.monotonic() < hard_stop:
        await asyncio.sleep(0.1)
        fresh = await read()
        if [t.observed for t in fresh.tallies] != [t.observed for t in report.tallies]:
            stable_since = time.monotonic()
        report = fresh
    return report


def _kind(token: str, prefix: str) -> str:
    return token[len(prefix)]


# ---- processes --------------------------------------------------------------------------------


async def kill_bridge(bridge: BridgeProcess) -> None:
    """SIGKILL the bridge's whole process group and reap it (no chance to tidy up)."""
    assert bridge.process is not None and bridge.process.process is not None
    popen = bridge.process.process
    os.killpg(popen.pid, signal.SIGKILL)
    await asyncio.to_thread(popen.wait)


async def sigterm_bridge(bridge: BridgeProcess, timeout: float = 15.0) -> tuple[int | None, float]:
    """SIGTERM the bridge process; its exit status (``None``: still running after
    ``timeout``, then killed) and how long it took to exit."""
    assert bridge.process is not None and bridge.process.process is not None
    popen = bridge.process.process
    started = time.monotonic()
    os.kill(popen.pid, signal.SIGTERM)
    try:
        code: int | None = await asyncio.to_thread(popen.wait, timeout)
    except subprocess.TimeoutExpired:
        code = None
        os.killpg(popen.pid, signal.SIGKILL)
        await asyncio.to_thread(popen.wait)
    return code, time.monotonic() - started


RECOVERY_LINES = {
    "replies caught up from threads": re.compile(r"relayed (\d+) thread replies"),
    "pending replies resumed": re.compile(r"resuming (\d+) undelivered"),
    "threads read back after restart": re.compile(r"already shows offsets"),
    "posts found already in Slack": re.compile(r"was already in Slack"),
}


def recovery_evidence(log: str) -> str:
    """How often the bridge's log shows each recovery path (to see a test reached them)."""
    counts = []
    for what, pattern in RECOVERY_LINES.items():
        found = pattern.findall(log)
        total = sum(int(n) for n in found) if pattern.groups else len(found)
        counts.append(f"{what}: {total}")
    return "recovery: " + ", ".join(counts)


def latency_summary(seconds: Sequence[float]) -> str:
    if not seconds:
        return "operator replies reached Parlant: none"
    ordered = sorted(seconds)
    median = ordered[len(ordered) // 2]
    return f"operator replies reached Parlant after: median {median:.1f}s, max {ordered[-1]:.1f}s"


NOISE = re.compile(r" DEBUG |A retry handler found|As you gave `client`")
"""Per-request chatter left out of the logs a failure shows (debug lines, retry notes)."""


def log_tail(text: str, lines: int = 80) -> str:
    """The last ``lines`` lines of a bridge log, without per-request chatter."""
    kept = [line for line in text.splitlines() if not NOISE.search(line)]
    return "\n".join(line[:400] for line in kept[-lines:])
