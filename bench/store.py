"""The session store's cost: transient (memory), json (Parlant's files) and sqlite, side by side.

    .venv/bin/python -m bench.store [--posts 120] [--sizes 10,300,1000] [--events 50000]

1. Through HTTP, on three real agent servers (``python -m agent``, offline model), one per
   store, all running at once: grow each to 10, 300 and 1,000 sessions (each session with
   a few events), and at each size time ``--posts`` posts of one customer-less event (a
   ``human_agent`` message, which the AI does not answer) to random sessions. The posts
   go round-robin over the three servers, so any noise hits all three alike.
2. Directly against the store objects, in this process: Parlant's ``SessionDocumentStore``
   on each database holding ``--events`` events (over 1,000 sessions), timing
   ``create_event`` (what the POST above does to the store) and the event loop's share of
   it: the total time the loop spent running callbacks during the write, and the longest
   single callback (how long the loop was blocked at once).

Each table reports ratios against the transient store measured in the same run.
"""

import argparse
import asyncio
import gc
import json
import random
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from parlant.adapters.db.json_file import JSONFileDocumentDatabase
from parlant.adapters.db.transient import TransientDocumentDatabase
from parlant.core.agents import AgentId
from parlant.core.customers import CustomerStore
from parlant.core.loggers import LogLevel, StdoutLogger
from parlant.core.persistence.document_database import (
    BaseDocument,
    DocumentDatabase,
    identity_loader,
)
from parlant.core.sessions import EventKind, EventSource, SessionDocumentStore, SessionId
from parlant.core.tracer import LocalTracer

from agent.insurance_agent import AGENT_ID
from agent.sqlite_database import SQLiteFile
from tests.support.processes import AgentServer, operator_headers

STORES = ("transient", "json", "sqlite")
EVENTS_PER_SESSION = 3
SETUP_CONCURRENCY = 8
PARTICIPANT = {"id": "bench-operator", "display_name": "Bench Operator"}


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


@dataclass
class Stats:
    p50: float
    p95: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> "Stats":
        return cls(statistics.median(samples), percentile(samples, 0.95))


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:5.2f}x" if baseline > 0 else "   - "


# -- 1. through HTTP -----------------------------------------------------------------------


@dataclass
class Target:
    store: str
    server: AgentServer
    http: aiohttp.ClientSession
    sessions: list[str]

    async def post_event(self, session_id: str, text: str) -> None:
        async with self.http.post(
            f"{self.server.url}/sessions/{session_id}/events",
            json={
                "kind": "message",
                "source": "human_agent",
                "message": text,
                "participant": PARTICIPANT,
            },
        ) as response:
            response.raise_for_status()
            await response.read()

    async def new_session(self) -> None:
        async with self.http.post(
            f"{self.server.url}/sessions", json={"agent_id": AGENT_ID}
        ) as response:
            response.raise_for_status()
            session_id = (await response.json())["id"]
        for n in range(EVENTS_PER_SESSION):
            await self.post_event(session_id, f"setup message {n}")
        self.sessions.append(session_id)

    async def grow_to(self, size: int) -> float:
        start = time.monotonic()
        semaphore = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def one() -> None:
            async with semaphore:
                await self.new_session()

        await asyncio.gather(*(one() for _ in range(size - len(self.sessions))))
        return time.monotonic() - start


async def http_bench(work: Path, sizes: Sequence[int], posts: int) -> None:
    servers = [
        AgentServer(home=work / store, extra_env={"PARLANT_STORE": store}) for store in STORES
    ]
    started = time.monotonic()
    await asyncio.gather(*(asyncio.to_thread(server.start) for server in servers))
    print(f"three agents started in {time.monotonic() - started:.1f} s")
    rows: list[tuple[int, str, Stats, float]] = []
    try:
        async with aiohttp.ClientSession(headers=operator_headers()) as http:
            targets = [
                Target(s, server, http, []) for s, server in zip(STORES, servers, strict=True)
            ]
            rng = random.Random(7)
            for size in sizes:
                grown = await asyncio.gather(*(t.grow_to(size) for t in targets))
                setup = {t.store: seconds for t, seconds in zip(targets, grown, strict=True)}
                for t in targets:  # warm up
                    for n in range(5):
                        await t.post_event(rng.choice(t.sessions), f"warm-up {n}")
                samples: dict[str, list[float]] = {t.store: [] for t in targets}
                for n in range(posts):
                    for t in targets:
                        session_id = rng.choice(t.sessions)
                        start = time.perf_counter()
                        await t.post_event(session_id, f"post {n}")
                        samples[t.store].append(time.perf_counter() - start)
                for t in targets:
                    rows.append((size, t.store, Stats.of(samples[t.store]), setup[t.store]))
                print(f"  measured at {size} sessions", flush=True)
    finally:
        for store, server in zip(STORES, servers, strict=True):
            if server.process is not None and not server.process.running:
                code = server.process.process.returncode if server.process.process else None
                print(f"the {store} agent exited ({code}):\n{server.process.log()[-3000:]}")
        await asyncio.gather(*(asyncio.to_thread(server.stop) for server in servers))

    print()
    print(f"POST /sessions/{{id}}/events (human_agent message), {posts} posts per cell,")
    print(f"each session holding {EVENTS_PER_SESSION}+ events; ratios against transient")
    print()
    print("| sessions | store | p50 ms | p95 ms | p50 ratio | p95 ratio | setup s |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    baseline = {size: stats for size, store, stats, _ in rows if store == "transient"}
    for size, store, stats, setup_s in rows:
        base = baseline[size]
        print(
            f"| {size} | {store} | {stats.p50 * 1000:.1f} | {stats.p95 * 1000:.1f} |"
            f" {ratio(stats.p50, base.p50)} | {ratio(stats.p95, base.p95)} | {setup_s:.1f} |"
        )


# -- 2. against the store objects ----------------------------------------------------------


class LoopMeter:
    """Times every callback the event loop runs (each step of each coroutine)."""

    def __init__(self) -> None:
        self.busy = 0.0
        self.longest = 0.0

    @contextmanager
    def measuring(self) -> Iterator["LoopMeter"]:
        original = asyncio.events.Handle._run
        meter = self

        def run(handle: asyncio.events.Handle) -> None:
            start = time.perf_counter()
            try:
                original(handle)
            finally:
                spent = time.perf_counter() - start
                meter.busy += spent
                meter.longest = max(meter.longest, spent)

        asyncio.events.Handle._run = run  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            asyncio.events.Handle._run = original  # type: ignore[method-assign]


async def event_documents(events: int, sessions: int) -> dict[str, list[dict[str, Any]]]:
    """``events`` events over ``sessions`` sessions, in exactly the form Parlant stores."""
    template_db = TransientDocumentDatabase()
    async with SessionDocumentStore(template_db) as store:
        session = await store.create_session(CustomerStore.GUEST_ID, AgentId(AGENT_ID))
        await store.create_event(
            session.id,
            EventSource.HUMAN_AGENT,
            EventKind.MESSAGE,
            "bench-trace",
            {"message": "an operator's reply of ordinary length, " * 3, "participant": PARTICIPANT},
        )

    async def raw(name: str) -> list[dict[str, Any]]:
        collection = await template_db.get_collection(name, BaseDocument, identity_loader)
        return [dict(d) for d in await collection.find({})]

    metadata, session_docs, event_docs = (
        await raw("metadata"),
        await raw("sessions"),
        await raw("events"),
    )
    session_template, event_template = session_docs[0], event_docs[0]
    all_sessions = [
        {
            **session_template,
            "id": f"bench-session-{s:05}",
            "creation_utc": f"2026-01-01T00:{s // 60 % 60:02}:{s % 60:02}+00:00",
        }
        for s in range(sessions)
    ]
    all_events = [
        {
            **event_template,
            "id": f"bench-event-{n:06}",
            "session_id": f"bench-session-{n % sessions:05}",
            "offset": n // sessions,
            "creation_utc": f"2026-01-02T{n // 3600 % 24:02}:{n // 60 % 60:02}:{n % 60:02}+00:00",
        }
        for n in range(events)
    ]
    return {"metadata": metadata, "sessions": all_sessions, "events": all_events}


@dataclass
class WriteCost:
    store: str
    open_s: float
    latency: Stats
    loop_busy: float
    loop_longest: float


async def write_cost(
    store: str, database: DocumentDatabase, samples: int, sessions: int, started: float
) -> WriteCost:
    """``started``: when opening the database began (``open s`` runs from there until the
    session store is ready)."""
    async with SessionDocumentStore(database) as session_store:
        opened = time.perf_counter() - started
        gc.collect()
        gc.freeze()  # as the agent does after opening the sqlite store; here for all three
        latencies: list[float] = []
        busy: list[float] = []
        longest = 0.0
        for n in range(samples):
            meter = LoopMeter()
            session_id = SessionId(f"bench-session-{n * 37 % sessions:05}")
            with meter.measuring():
                start = time.perf_counter()
                # A task of its own, so that every step of the write is a timed callback.
                await asyncio.create_task(
                    session_store.create_event(
                        session_id,
                        EventSource.HUMAN_AGENT,
                        EventKind.MESSAGE,
                        "bench-trace",
                        {"message": f"measured write {n}", "participant": PARTICIPANT},
                    )
                )
                latencies.append(time.perf_counter() - start)
            busy.append(meter.busy)
            longest = max(longest, meter.longest)
    return WriteCost(store, opened, Stats.of(latencies), statistics.median(busy), longest)


async def store_bench(work: Path, events: int, sessions: int = 1000) -> None:
    documents = await event_documents(events, sessions)
    logger = StdoutLogger(LocalTracer(), LogLevel.WARNING, logger_id="bench")
    results: list[WriteCost] = []

    transient = TransientDocumentDatabase()
    for name, docs in documents.items():
        collection = await transient.get_or_create_collection(name, BaseDocument, identity_loader)
        for doc in docs:
            await collection.insert_one(doc)  # type: ignore[arg-type]
    results.append(await write_cost("transient", transient, 20, sessions, time.perf_counter()))

    json_path = work / "sessions.json"
    json_path.write_text(json.dumps(documents, ensure_ascii=False, indent=2))
    started = time.perf_counter()
    async with JSONFileDocumentDatabase(logger, json_path) as json_db:
        results.append(await write_cost("json", json_db, 10, sessions, started))

    sqlite_path = work / "parlant.sqlite"
    async with SQLiteFile(sqlite_path, seed=lambda: {"sessions": documents}):
        pass
    started = time.perf_counter()
    async with SQLiteFile(sqlite_path) as file:
        results.append(
            await write_cost("sqlite", file.database("sessions"), 200, sessions, started)
        )

    base = results[0]
    print()
    print(
        f"SessionDocumentStore.create_event with {events:,} events in {sessions:,} sessions,"
        " measured in-process against the database objects (no HTTP)"
    )
    print()
    print(
        "| store | open s | p50 ms | p95 ms | p50 ratio | loop busy per write ms"
        " | longest loop block ms |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r.store} | {r.open_s:.2f} | {r.latency.p50 * 1000:.2f} |"
            f" {r.latency.p95 * 1000:.2f} | {ratio(r.latency.p50, base.latency.p50)} |"
            f" {r.loop_busy * 1000:.2f} | {r.loop_longest * 1000:.2f} |"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=120)
    parser.add_argument("--sizes", default="10,300,1000")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--work", type=Path, help="keep the data folders here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="store-bench-") as scratch:
        work = args.work or Path(scratch)
        await http_bench(work / "http", sizes, args.posts)
        direct = work / "direct"
        direct.mkdir()
        await store_bench(direct, args.events)
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
