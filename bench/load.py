"""Live handoffs on one machine, measured end to end.

    .venv/bin/python -m bench.load [--sessions 10,100,1000] [--seconds 30]
        [--customer-rate 20] [--operator-rate 10] [--idle-sessions 10000]

For each number of sessions N, on a fresh stack (``bench.load_stack``):

1. N guests ask for a human, ``--concurrency`` at a time; timed until every root message
   is in Slack. The emulator's rate limits are off and the bridge posts at the most its
   settings allow (100/s), so this measures the bridge and Parlant, not Slack's pace.
2. Idle: CPU and RSS of the agent and of the bridge with the N cases open.
3. Load for ``--seconds``: customer messages and operator thread replies at fixed rates
   over the N threads; latency per direction, split between Parlant and the bridge; lost
   and duplicated messages counted after a settle period.
4. Baselines in the same run, idle and under load: a bare event POST, one
   ``chat.postMessage``, one Events API delivery to a bare endpoint, and Parlant's REST
   long-poll waking on a new event.

Then (``--idle-sessions``, 0 to skip) Parlant's CPU with that many idle handed-off
sessions, marked over REST. Tables are printed as Markdown (and written to
``--output`` if given). Every process started is stopped at the end, also on Ctrl-C.
"""

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from bench.cli import run_benchmark
from bench.load_baselines import Floors, Probes
from bench.load_handoffs import hand_off_all, idle_usage
from bench.load_idle import IdleSessions, idle_sessions
from bench.load_parlant import EventFeed, Operator
from bench.load_report import (
    Step,
    floor_table,
    handoff_table,
    latency_table,
    loss_table,
    report,
    usage_table,
)
from bench.load_slack import SlackRecorder
from bench.load_stack import Stack, running_stack
from bench.load_traffic import customer_direction, drive, operator_direction, settle


@contextlib.asynccontextmanager
async def recording(stack: Stack) -> AsyncIterator[SlackRecorder]:
    slack = SlackRecorder(stack.emulator)
    task = asyncio.create_task(slack.run())
    try:
        yield slack
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def measure(args: argparse.Namespace, work: Path, sessions: int) -> Step:
    async with (
        running_stack(work, args.source) as stack,
        recording(stack) as slack,
        EventFeed(stack.agent.url).following() as feed,
        aiohttp.ClientSession() as http,
        Probes(Operator(http, stack.agent.url), feed, stack.emulator).opened() as probes,
    ):
        print(f"\n== {sessions} sessions (stack up in {stack.started_in:.1f} s)")
        handoffs = await hand_off_all(stack, slack, sessions, args.concurrency, args.open_cap)
        print(handoff_table([(sessions, handoffs)]))
        print(f"idle for {args.idle_seconds:.0f} s, then {args.samples} baseline rounds")
        idle = await idle_usage(stack, args.idle_seconds)
        idle_floors = Floors()
        await probes.rounds(idle_floors, args.samples)
        guests = list(handoffs.guests.values())
        threads = {sid: slack.roots[sid].thread_ts for sid in handoffs.guests}
        load_floors = Floors()
        print(f"load for {args.seconds:.0f} s")
        traffic = await drive(
            stack,
            slack,
            guests,
            threads,
            args.seconds,
            args.customer_rate,
            args.operator_rate,
            lambda: probes.round(load_floors),
        )
        await settle(traffic, slack, feed)
        step = Step(
            sessions=sessions,
            handoffs=handoffs,
            idle=idle,
            load=traffic.usage,
            load_seconds=traffic.seconds,
            customers=customer_direction(traffic, slack, feed),
            operators=await operator_direction(
                traffic, slack, feed, Operator(http, stack.agent.url)
            ),
            idle_floors=idle_floors,
            load_floors=load_floors,
        )
    for render in (usage_table, latency_table, loss_table, floor_table):
        print("\n" + render([step]))
    return step


async def measure_idle(args: argparse.Namespace, work: Path) -> IdleSessions:
    async with running_stack(work, args.source) as stack, recording(stack) as slack:
        print(f"\n== {args.idle_sessions:,} idle handed-off sessions")
        return await idle_sessions(stack, slack, args.idle_sessions, args.idle_window)


async def main(args: argparse.Namespace) -> None:
    started = time.monotonic()
    steps: list[Step] = []
    idle: IdleSessions | None = None
    with contextlib.ExitStack() as cleanup:
        scratch = args.workdir or Path(
            cleanup.enter_context(tempfile.TemporaryDirectory(prefix="handoff-load-"))
        )
        for number, sessions in enumerate(args.sessions):
            steps.append(await measure(args, scratch / f"step{number}", sessions))
        if args.idle_sessions:
            idle = await measure_idle(args, scratch / "idle")
    text = report(steps, idle)
    print("\n" + text + f"\n\nWall time: {time.monotonic() - started:.0f} s")
    if args.output:
        Path(args.output).write_text(text + "\n")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sessions",
        type=lambda raw: [int(part) for part in raw.split(",") if part.strip()],
        default=[10, 100, 1000],
        help="comma-separated numbers of live handoffs (default 10,100,1000)",
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="load window")
    parser.add_argument("--customer-rate", type=float, default=20.0, help="messages/s")
    parser.add_argument("--operator-rate", type=float, default=10.0, help="replies/s")
    parser.add_argument("--concurrency", type=int, default=20, help="guests mid-handoff")
    parser.add_argument("--idle-sessions", type=int, default=10_000, help="0 to skip")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=30.0,
        help="idle CPU window with N sessions ",
    )
    parser.add_argument(
        "--idle-window",
        type=float,
        default=30.0,
        help="CPU window with --idle-sessions (repeated until two agree)",
    )
    parser.add_argument(
        "--open-cap", type=float, default=120.0, help="most seconds to wait for transcripts"
    )
    parser.add_argument("--samples", type=int, default=30, help="idle baseline rounds")
    parser.add_argument(
        "--source",
        type=Path,
        help="run the agent and the bridge from this source tree (to measure a change)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep data folders and logs here (default: a temp dir)"
    )
    parser.add_argument("--output", help="also write the final tables to this file")
    return parser.parse_args()


if __name__ == "__main__":
    run_benchmark(main(parse_args()))
