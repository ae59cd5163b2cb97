"""The bridge's catch-up with many open threads, within Slack's tier limits.

    .venv/bin/python -m bench.catch_up [--threads 1000] [--missed 1] [--many 20]
        [--socket-mode] [--no-busy] [--output FILE] [--workdir DIR]

The issue: "Measure the calls made and the time to relay one missed reply with 1,000
open threads". On a fresh stack (``bench.load_stack``):

1. ``--threads`` sessions, each with one customer message, are marked handed off over
   REST as the handoff tool marks them; the bridge opens a thread for each (root and the
   conversation so far). This runs with the emulator's rate limits OFF and the bridge
   posting at 100/s: at Slack's pace (about one post per second per channel) 1,000
   threads take over half an hour, and opening them is not what is measured. A live
   operator reply is posted at once (its relay and its receipt reaction are timed).
2. Each scenario in turn, once the bridge is quiet (no Web API call for ``--quiet``
   seconds; with ``--busy`` the first scenario does not wait) and its heartbeat
   (``listening_until`` in its store) is newer than that: the bridge stops listening
   (SIGTERM; kill -9; with ``--socket-mode`` also a dropped Socket Mode connection), a
   workspace member replies in randomly chosen threads meanwhile (``--missed``; the last
   restart ``--many``), and Slack gives up delivering those events.
3. The emulator's rate limits are switched ON (its buckets reset: the catch-up starts with
   a full burst, as after a long outage), the call log's length is noted, and the bridge
   is started again at Slack's posting pace (``--restart-posts-per-second``, 1), or let
   reconnect. Timed from there: each missed reply reaching Parlant's push stream, and the
   bridge's last Web API call before ``--quiet`` seconds without one.

Reported: Web API calls per method and their 429s, threads read, and for contrast what
reading every open thread would cost at ``conversations.replies``' tier; roots left
without their state reaction; one history read by a bare client (the emulator's floor).
Every process started is stopped at the end, also on Ctrl-C or SIGTERM.
"""

import argparse
import asyncio
import contextlib
import math
import os
import random
import signal
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from agent.handoff_protocol import hand_off_patch
from agent.insurance_agent import AGENT_ID
from bench.cli import run_benchmark
from bench.load import recording
from bench.load_markers import Kind, marker
from bench.load_parlant import EventFeed, Operator
from bench.load_report import machine, table
from bench.load_slack import SlackRecorder
from bench.load_stack import Stack, running_stack
from bench.load_stats import percentile
from slack_bridge.catch_up import MARGIN_SECONDS
from slack_bridge.paced_client import BURST_SHARE, PER_MINUTE
from slack_bridge.slack_reads import messages
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.records import ApiCall
from tests.support.bridge import HANDOFF_CHANNEL
from tests.support.processes import operator_headers

OPEN_TIMEOUT = 1800.0
RELAY_TIMEOUT = 900.0
QUIET_CAP = 1800.0
HEARTBEAT_TIMEOUT = 120.0
OPERATOR = ids.ALICE
"""A full member of the workspace and of the handoff channel: an operator."""


class Stop(StrEnum):
    SIGTERM = "SIGTERM"
    SIGKILL = "kill -9"
    SOCKET = "Socket Mode drop"


@dataclass(frozen=True)
class Scenario:
    stop: Stop
    missed: int
    busy: bool = False
    """Stopped right after the threads opened, while the bridge is still busy with them
    (otherwise once it has made no Web API call for ``--quiet`` seconds)."""

    @property
    def name(self) -> str:
        what = "reconnection" if self.stop is Stop.SOCKET else f"restart after {self.stop}"
        return f"{what}{' while busy' if self.busy else ''}, {self.missed} missed"


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    relay: tuple[float, ...]
    """Seconds from the start (or the reconnection being allowed) until each missed reply
    was on Parlant's push stream; ``inf``: not within ``RELAY_TIMEOUT``."""
    listening: float
    """Seconds until the bridge listened again: answering ``/healthz`` (and, in Socket
    Mode, connected) after a restart; connected after a reconnection."""
    history_read: float
    """Seconds until the last page of ``conversations.history`` was answered."""
    replies_read: float
    """Seconds until the last ``conversations.replies`` was answered."""
    quiet: float
    """Seconds until the bridge's last Web API call before ``--quiet`` seconds of none."""
    settled: bool
    calls: Counter[str]
    limited: Counter[str]
    """429s per method."""
    threads_read: int
    candidates: int
    """Open threads with a reply newer than ``listening_until`` minus the bridge's margin: the
    ones the history read must tell apart (their newest reply seen or not)."""
    duplicates: int
    not_human_agent: int
    waited: float
    """Seconds waited, before the stop, for the bridge to be quiet."""


# --- opening the threads -----------------------------------------------------------------


@dataclass(frozen=True)
class Opening:
    opened_in: float
    """Seconds from the first marking until every thread showed its first post."""
    calls: Counter[str]
    """The bridge's Web API calls until then."""

    def summary(self) -> str:
        listed = ", ".join(f"`{method}` {n:,}" for method, n in sorted(self.calls.items()))
        return f"Threads open in {self.opened_in:.1f} s; the bridge's calls until then: {listed}."


async def opened(stack: Stack, slack: SlackRecorder, count: int) -> tuple[dict[str, str], Opening]:
    """The threads open (emulator limits off)."""
    start_index, started = len(stack.emulator.calls), time.monotonic()
    threads = await open_threads(stack, slack, count)
    opened_in = time.monotonic() - started
    calls = stack.emulator.calls[start_index:]
    return threads, Opening(opened_in, Counter(c.method for c in calls))


async def open_threads(stack: Stack, slack: SlackRecorder, count: int) -> dict[str, str]:
    """``count`` sessions handed off over REST; returns session id → thread ts once every
    thread shows its root and the bridge's first post in it."""
    url = stack.agent.url
    async with aiohttp.ClientSession(headers=operator_headers()) as http:
        customer = await _call(http, "POST", f"{url}/customers", {"name": "Waiting"})
        writers = asyncio.Semaphore(16)

        async def one(number: int) -> None:
            async with writers:
                await hand_off_session(http, url, customer["id"], number)

        await asyncio.gather(*(one(n) for n in range(count)))
    deadline = time.monotonic() + OPEN_TIMEOUT
    while not _all_open(slack, count):
        if time.monotonic() > deadline:
            raise TimeoutError(f"threads not open after {OPEN_TIMEOUT:.0f} s")
        await asyncio.sleep(0.5)
    return {session: root.thread_ts for session, root in slack.roots.items()}


async def hand_off_session(
    http: aiohttp.ClientSession, url: str, customer_id: str, number: int
) -> None:
    """A session in which the customer wrote once, then marked as the handoff tool marks
    one. The message gives the thread a first post (the conversation so far): a session
    handed off before anyone wrote gets its root only, and its thread no reply at all."""
    body = {"agent_id": AGENT_ID, "customer_id": customer_id}
    session = await _call(http, "POST", f"{url}/sessions", body)
    at = f"{url}/sessions/{session['id']}"
    await _call(http, "PATCH", at, {"mode": "manual"})  # no AI turn for the message
    text = f"I would like to talk to a person, please ({number})."
    await _call(
        http, "POST", f"{at}/events", {"kind": "message", "source": "customer", "message": text}
    )
    await _call(http, "PATCH", at, hand_off_patch("benchmark"))


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, body: Mapping[str, object]
) -> dict[str, Any]:
    async with http.request(method, url, json=body) as response:
        response.raise_for_status()
        answer: dict[str, Any] = await response.json()
        return answer


def _all_open(slack: SlackRecorder, count: int) -> bool:
    slack.poll()
    return len(slack.roots) >= count and all(
        root.thread_ts in slack.first_reply for root in slack.roots.values()
    )


# --- the bridge's activity ---------------------------------------------------------------


async def calls_quiet(emulator: SlackEmulator, start: int, quiet: float, cap: float) -> bool:
    """Until no Web API call has come for ``quiet`` seconds; False if ``cap`` passed first."""
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        calls = emulator.calls
        last = calls[-1].at if len(calls) > start else 0.0
        if time.monotonic() - last >= quiet:
            return True
        await asyncio.sleep(0.2)
    return False


def listening_until(db: Path) -> float | None:
    """The bridge's heartbeat record, read from its store without writing to it."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
        row = con.execute("SELECT value FROM bridge_state WHERE key = 'listening_until'").fetchone()
    return float(row[0]) if row else None


async def heartbeat_past(db: Path, moment: float) -> float:
    """Until the heartbeat records a moment after ``moment`` (epoch seconds); returns it."""
    deadline = time.monotonic() + HEARTBEAT_TIMEOUT
    while time.monotonic() < deadline:
        recorded = await asyncio.to_thread(listening_until, db)
        if recorded is not None and recorded > moment:
            return recorded
        await asyncio.sleep(0.5)
    raise TimeoutError(f"no heartbeat after {moment:.1f} within {HEARTBEAT_TIMEOUT:.0f} s")


# --- stopping and starting ---------------------------------------------------------------


async def stop_listening(stack: Stack, stop: Stop) -> None:
    emulator = stack.emulator
    if stop is Stop.SOCKET:
        emulator.refuse_socket_connections()
        await emulator.disconnect_socket_clients()
        return
    process = stack.bridge.process.process if stack.bridge.process else None
    assert process is not None
    os.killpg(process.pid, signal.SIGKILL if stop is Stop.SIGKILL else signal.SIGTERM)
    await asyncio.to_thread(process.wait, 30)
    assert stack.bridge.process is not None
    stack.bridge.process.process = None
    await emulator.wait_until(lambda: emulator.socket_connections == 0, 30)


async def resume_listening(stack: Stack, stop: Stop) -> None:
    if stop is Stop.SOCKET:
        stack.emulator.refuse_socket_connections(False)
        await stack.emulator.wait_for_socket_connection(1, 120)
    else:
        await stack.bridge.start()


async def post_missed(
    emulator: SlackEmulator, threads: Sequence[tuple[str, str]], first: int
) -> dict[str, str]:
    """One operator reply in each thread, after which Slack stops trying to deliver them;
    returns marker → session id."""
    missed: dict[str, str] = {}
    for number, (session, thread_ts) in enumerate(threads, start=first):
        name = marker(Kind.OPERATOR, number)
        await emulator.post_message(OPERATOR, HANDOFF_CHANNEL, f"Missed reply {name}", thread_ts)
        missed[name] = session
    await emulator.drain(60)
    return missed


# --- one scenario ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """What the scenarios share."""

    stack: Stack
    slack: SlackRecorder
    feed: EventFeed
    threads: dict[str, str]
    pick: random.Random
    quiet: float
    posts_per_second: float


async def run_scenario(run: Run, scenario: Scenario, first: int) -> Outcome:
    emulator = run.stack.emulator
    db = run.stack.bridge.db_path
    waiting = time.monotonic()
    if not scenario.busy:
        await calls_quiet(emulator, 0, run.quiet, QUIET_CAP)
    waited = time.monotonic() - waiting
    recorded = await heartbeat_past(db, time.time())
    since = recorded - MARGIN_SECONDS
    await stop_listening(run.stack, scenario.stop)
    chosen = run.pick.sample(sorted(run.threads.items()), scenario.missed)
    missed = await post_missed(emulator, chosen, first)
    candidates = newer_than(emulator, run.threads.values(), since)
    run.stack.bridge.extra_env["SLACK_POSTS_PER_SECOND"] = f"{run.posts_per_second:g}"
    emulator.limiter.reset()
    emulator.rate_limits = True
    start_index, started = len(emulator.calls), time.monotonic()
    await resume_listening(run.stack, scenario.stop)
    listening = time.monotonic() - started
    relay = await _relayed(run.feed, missed, started)
    settled = await calls_quiet(emulator, start_index, run.quiet, QUIET_CAP)
    calls = emulator.calls[start_index:]
    async with aiohttp.ClientSession() as http:
        wrong = await _not_human_agent(Operator(http, run.stack.agent.url), missed)
    return Outcome(
        scenario,
        relay,
        listening=listening,
        history_read=_last(calls, "conversations.history") - started,
        replies_read=_last(calls, "conversations.replies") - started,
        quiet=calls[-1].at - started if calls else 0.0,
        settled=settled,
        calls=Counter(c.method for c in calls),
        limited=Counter(c.method for c in calls if c.http_status == 429),
        threads_read=len(
            {c.params.get("ts") for c in calls if c.method == "conversations.replies"}
        ),
        candidates=candidates,
        duplicates=sum(max(0, run.feed.times_seen[name] - 1) for name in missed),
        not_human_agent=wrong,
        waited=waited,
    )


def _last(calls: Sequence[ApiCall], method: str) -> float:
    return max((c.at for c in calls if c.method == method), default=math.nan)


async def _relayed(feed: EventFeed, missed: dict[str, str], started: float) -> tuple[float, ...]:
    async def one(name: str) -> float:
        try:
            await asyncio.wait_for(feed.waiter(name).wait(), RELAY_TIMEOUT)
        except TimeoutError:
            return math.inf
        return feed.seen[name].arrived - started

    return tuple(await asyncio.gather(*(one(name) for name in missed)))


async def _not_human_agent(operator: Operator, missed: dict[str, str]) -> int:
    """Missed replies whose Parlant event is missing or not from a ``human_agent``."""
    wrong = 0
    for name, session in missed.items():
        events = await operator.events(session)
        sources = [e["source"] for e in events if name in str(e["data"].get("message", ""))]
        wrong += sources != ["human_agent"]
    return wrong


def newer_than(emulator: SlackEmulator, threads: Iterable[str], since: float) -> int:
    """Threads whose newest reply is newer than ``since``: what the history read shows."""
    count = 0
    for thread_ts in threads:
        replies = emulator.thread(HANDOFF_CHANNEL, thread_ts)[1:]
        count += bool(replies) and max(float(m.ts) for m in replies) > since
    return count


def roots_without_reaction(emulator: SlackEmulator, threads: Iterable[str]) -> int:
    """Root messages that show no state reaction (the bridge adds one to every root)."""
    return sum(1 for ts in threads if not emulator.reactions(HANDOFF_CHANNEL, ts))


def last_catch_up(log: Path) -> str:
    """The bridge's own account of its last catch-up (its INFO line), for the record."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if "catch-up:" in line]
    return lines[-1].split("catch-up:", 1)[1].strip() if lines else "(no catch-up line)"


# --- probes and floors ---------------------------------------------------------------


@dataclass
class Probe:
    """A live operator reply posted right after the threads opened."""

    posted: float
    relayed: float = math.inf
    """Seconds until it was on Parlant's push stream."""
    receipt: float = math.inf
    """Seconds until the bridge's receipt reaction showed on it."""

    def summary(self) -> str:
        receipt = (
            f"showed after {self.receipt:,.1f} s"
            if math.isfinite(self.receipt)
            else "never showed (by the end of the run)"
        )
        return (
            "A live operator reply posted right after the threads opened reached Parlant "
            f"after {_seconds(self.relayed)} s; its receipt reaction {receipt}."
        )


async def live_probe(run: Run, probe: Probe) -> None:
    """Post one live reply now and note when it is relayed and acknowledged in Slack."""
    emulator = run.stack.emulator
    name = marker(Kind.OPERATOR, 999_999)
    thread_ts = run.pick.choice(sorted(run.threads.values()))
    probe.posted = time.monotonic()
    ts = await emulator.post_message(OPERATOR, HANDOFF_CHANNEL, f"Live reply {name}", thread_ts)
    await run.feed.waiter(name).wait()
    probe.relayed = run.feed.seen[name].arrived - probe.posted
    while not emulator.reactions(HANDOFF_CHANNEL, ts):
        await asyncio.sleep(0.2)
    probe.receipt = time.monotonic() - probe.posted


async def history_floor(emulator: SlackEmulator, oldest: str) -> float:
    """Seconds for a bare client to read the channel's history as the catch-up does (its
    pages, from the oldest open thread on): what the emulator itself takes."""
    client = AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url)
    emulator.rate_limits = False
    started = time.monotonic()
    async for _message in messages(
        client.conversations_history, channel=HANDOFF_CHANNEL, oldest=f"{float(oldest) - 1:.6f}"
    ):
        pass
    return time.monotonic() - started


# --- the report --------------------------------------------------------------------------


def every_thread(threads: int) -> float:
    """Seconds to read ``threads`` threads one ``conversations.replies`` each, at the pace
    the bridge keeps for the method (its tier, with half a minute's burst at once)."""
    per_minute = PER_MINUTE["conversations.replies"]
    burst = per_minute / BURST_SHARE
    return max(0.0, threads - burst) * 60 / per_minute


def _seconds(value: float) -> str:
    if math.isnan(value):
        return "-"
    return "missing" if math.isinf(value) else f"{value:,.1f}"


def outcome_table(outcomes: Sequence[Outcome]) -> str:
    rows = []
    for o in outcomes:
        ordered = sorted(o.relay)
        relayed = sum(1 for t in ordered if math.isfinite(t))
        rows.append(
            (
                o.scenario.name,
                f"{relayed} of {len(ordered)}",
                _seconds(percentile(ordered, 50)),
                _seconds(ordered[-1]),
                _seconds(o.listening),
                _seconds(o.history_read),
                _seconds(o.replies_read),
                _seconds(o.quiet) + ("" if o.settled else " (still calling)"),
                sum(o.calls.values()),
                sum(o.limited.values()),
                o.threads_read,
                o.candidates,
                o.duplicates + o.not_human_agent,
            )
        )
    header = (
        "scenario",
        "relayed",
        "relay p50 s",
        "relay max s",
        "listening s",
        "history read s",
        "threads read s",
        "quiet after s",
        "Web API calls",
        "429s",
        "threads read",
        "threads with replies since heartbeat - margin",
        "duplicated or wrong",
    )
    return table(header, rows)


def calls_table(outcomes: Sequence[Outcome]) -> str:
    methods = sorted({m for o in outcomes for m in o.calls})
    rows = [
        (
            f"`{method}`",
            *(
                f"{o.calls[method]}"
                + (f" ({o.limited[method]} x 429)" if o.limited[method] else "")
                for o in outcomes
            ),
        )
        for method in methods
    ]
    return table(("method", *(o.scenario.name for o in outcomes)), rows)


def contrast_table(threads: int, outcomes: Sequence[Outcome]) -> str:
    per_minute = PER_MINUTE["conversations.replies"]
    rows: list[tuple[object, ...]] = [
        (
            o.scenario.name,
            o.calls["conversations.history"],
            o.calls["conversations.replies"],
            _seconds(o.quiet),
        )
        for o in outcomes
    ]
    rows.append(
        (
            f"every open thread read ({threads:,} x `conversations.replies`, Tier 3: "
            f"{per_minute}/min, burst {per_minute // BURST_SHARE})",
            0,
            threads,
            f"{every_thread(threads):,.0f} = {every_thread(threads) / 60:.1f} min (computed)",
        )
    )
    header = ("catch-up", "`conversations.history`", "`conversations.replies`", "seconds")
    return table(header, rows)


@dataclass(frozen=True)
class Results:
    opening: Opening
    outcomes: Sequence[Outcome]
    bare: int
    """Roots without a state reaction at the end."""
    probe: Probe
    history_floor: float


def report(args: argparse.Namespace, results: Results) -> str:
    outcomes = results.outcomes
    mode = "Socket Mode" if args.socket_mode else "HTTP mode"
    waits = "; ".join(
        f"{o.waited:,.0f} s before {o.scenario.name}" for o in outcomes if o.waited >= 1
    )
    lines = [
        f"## Catch-up with {args.threads:,} open threads ({machine()})",
        "",
        f"Bridge in {mode}. The threads were opened with the emulator's rate limits OFF and "
        "the bridge posting at 100/s (at Slack's ~1 post/s per channel the roots and "
        f"transcripts alone would take over {2 * args.threads / 60:.0f} min). "
        + results.opening.summary()
        + " Before each restart the emulator's limits were switched ON (its buckets full) "
        f"and the restarted bridge posts at {args.restart_posts_per_second:g}/s. Times are "
        "from the bridge's start (for Socket Mode, from allowing the reconnection); quiet "
        f"= the last Web API call before {args.quiet:g} s without one. Waited for the "
        f"bridge to be quiet: {waits or 'under 1 s each time'}. Roots without a state "
        f"reaction at the end: {results.bare:,}. "
        + results.probe.summary()
        + " One read of the channel's "
        f"history by a bare client (the emulator's own time): {results.history_floor:.2f} s.",
        "",
        outcome_table(outcomes),
        "",
        "Web API calls during the catch-up, per method (from the start until quiet):",
        "",
        calls_table(outcomes),
        "",
        contrast_table(args.threads, outcomes),
    ]
    return "\n".join(lines)


# --- the run -----------------------------------------------------------------------------


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    planned = [Scenario(Stop.SIGTERM, args.missed, busy=True)] if args.busy else []
    planned += [Scenario(Stop.SIGTERM, args.missed), Scenario(Stop.SIGKILL, args.missed)]
    if args.many:
        planned.append(Scenario(Stop.SIGTERM, args.many))
    if args.socket_mode:
        planned.append(Scenario(Stop.SOCKET, args.missed))
    return planned


async def measure(args: argparse.Namespace, work: Path) -> str:
    async with (
        running_stack(
            work, socket_mode=args.socket_mode, bridge_env={"BRIDGE_LOG_LEVEL": "info"}
        ) as stack,
        recording(stack) as slack,
        EventFeed(stack.agent.url).following() as feed,
    ):
        print(f"stack up in {stack.started_in:.1f} s; opening {args.threads:,} threads")
        threads, opening = await opened(stack, slack, args.threads)
        print(opening.summary())
        run = Run(
            stack,
            slack,
            feed,
            threads,
            random.Random(args.seed),
            args.quiet,
            args.restart_posts_per_second,
        )
        probe = Probe(time.monotonic())
        following = asyncio.create_task(live_probe(run, probe))
        try:
            outcomes: list[Outcome] = []
            for scenario in scenarios(args):
                print(f"- {scenario.name}")
                first = sum(len(o.relay) for o in outcomes)
                outcomes.append(await run_scenario(run, scenario, first))
                print(outcome_table(outcomes[-1:]))
                print(f"  bridge log: {last_catch_up(stack.bridge.workdir / 'bridge.log')}")
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
        floor = await history_floor(stack.emulator, min(threads.values(), key=float))
        bare = roots_without_reaction(stack.emulator, threads.values())
    return report(args, Results(opening, outcomes, bare, probe, floor))


async def main(args: argparse.Namespace) -> None:
    started = time.monotonic()
    with contextlib.ExitStack() as cleanup:
        work = args.workdir or Path(
            cleanup.enter_context(tempfile.TemporaryDirectory(prefix="handoff-catch-up-"))
        )
        text = await measure(args, work)
    print("\n" + text + f"\n\nWall time: {time.monotonic() - started:.0f} s")
    if args.output:
        Path(args.output).write_text(text + "\n")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=1000, help="open threads")
    parser.add_argument("--missed", type=int, default=1, help="missed replies per restart")
    parser.add_argument(
        "--many", type=int, default=20, help="missed replies of the last restart (0 skips it)"
    )
    parser.add_argument(
        "--socket-mode",
        action="store_true",
        help="run the bridge in Socket Mode and also measure a reconnection",
    )
    parser.add_argument(
        "--restart-posts-per-second",
        type=float,
        default=1.0,
        help="the restarted bridge's SLACK_POSTS_PER_SECOND (Slack's pace: 1)",
    )
    parser.add_argument(
        "--quiet", type=float, default=10.0, help="seconds without a call that mean done"
    )
    parser.add_argument(
        "--busy",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="first restart right after the threads open, while the bridge is still busy",
    )
    parser.add_argument("--seed", type=int, default=7, help="which threads get the replies")
    parser.add_argument("--workdir", type=Path, help="keep data and logs here (default: temp)")
    parser.add_argument("--output", help="also write the tables to this file")
    return parser.parse_args()


if __name__ == "__main__":
    run_benchmark(main(parse_args()))
