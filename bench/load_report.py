"""The load benchmark's results as Markdown tables, and the targets they are held to."""

import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.load_baselines import Floors
from bench.load_handoffs import Handoffs
from bench.load_idle import IdleSessions
from bench.load_stats import MB, Dist, Usage, ratio
from bench.load_traffic import RELAY, Direction
from slack_bridge.watcher import STREAMING_RECONCILE_SECONDS

Row = Sequence[object]


@dataclass(frozen=True)
class Step:
    """Everything measured for one number of sessions."""

    sessions: int
    handoffs: Handoffs
    idle: dict[str, Usage]
    load: dict[str, Usage]
    load_seconds: float
    customers: Direction
    operators: Direction
    idle_floors: Floors
    load_floors: Floors

    @property
    def customer_total(self) -> Dist:
        return next(iter(self.customers.segments.values()))

    @property
    def operator_total(self) -> Dist:
        return next(iter(self.operators.segments.values()))

    @property
    def operator_relay(self) -> Dist:
        return self.operators.segments[RELAY]


def table(header: Row, rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(str(c) for c in header) + " |"]
    lines.append("| " + " | ".join("---:" if i else "---" for i in range(len(header))) + " |")
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), Linux {platform.release()}, "
        f"Python {platform.python_version()}; load average at the end {load}"
    )


def handoff_table(runs: Sequence[tuple[int, Handoffs]]) -> str:
    rows = [
        (
            sessions,
            f"{h.wall:.1f}",
            f"{h.rate:.1f}",
            *h.latency.ms(),
            f"{h.transcripts_wall:.1f}" if h.transcripts_wall is not None else "-",
            f"{h.transcripts:,}",
            h.failed,
        )
        for sessions, h in runs
    ]
    header = (
        "sessions",
        "all roots in Slack, s",
        "handoffs/s",
        "ask → root p50 ms",
        "p95",
        "p99",
        "max",
        "all transcripts, s",
        "threads with transcript",
        "failed",
    )
    return table(header, rows)


def usage_table(steps: Sequence[Step]) -> str:
    rows = []
    for s in steps:
        phases = (("handing off", s.handoffs.usage), ("idle", s.idle), ("under load", s.load))
        for when, usage in phases:
            bench = usage.get("bench")
            rows.append(
                (
                    s.sessions,
                    when,
                    *usage["agent"].cells(),
                    *usage["bridge"].cells(),
                    f"{bench.cpu:.1%}" if bench else "-",
                )
            )
    header = (
        "sessions",
        "",
        "agent CPU (of a core)",
        "agent RSS MB",
        "bridge CPU",
        "bridge RSS MB",
        "bench + emulator CPU",
    )
    return table(header, rows)


def latency_table(steps: Sequence[Step]) -> str:
    rows = []
    for s in steps:
        for direction in (s.customers, s.operators):
            for name, dist in direction.segments.items():
                rows.append((s.sessions, name, dist.count, *dist.ms()))
    return table(("sessions", "path (under load)", "n", "p50 ms", "p95", "p99", "max"), rows)


def loss_table(steps: Sequence[Step]) -> str:
    rows = []
    for s in steps:
        for label, d in (("customer → thread", s.customers), ("operator → Parlant", s.operators)):
            rows.append((s.sessions, label, d.sent, d.failed, d.lost, d.duplicated, d.echoed))
    header = ("sessions", "direction", "sent", "refused", "missing", "duplicated", "echoed")
    return table(header, rows)


def floor_table(steps: Sequence[Step]) -> str:
    rows = []
    for s in steps:
        for when, floors in (("idle", s.idle_floors), ("under load", s.load_floors)):
            for name, dist in floors.dists().items():
                rows.append((s.sessions, when, name, dist.count, *dist.ms()))
    header = ("sessions", "", "baseline", "n", "p50 ms", "p95", "p99", "max")
    return table(header, rows)


def _ratios(s: Step) -> list[Row]:
    floors = s.load_floors.dists()
    bare = floors["bare event POST → on the push stream"]
    post = floors["one chat.postMessage to the emulator"]
    poll = floors["REST long-poll wakes on a new event"]
    delivery = floors["one event delivery to a bare endpoint"]
    relay_floor = Dist(
        min(bare.count, delivery.count),
        bare.p50 + delivery.p50,
        bare.p95 + delivery.p95,
        bare.p99 + delivery.p99,
        bare.max + delivery.max,
    )
    pairs = (
        ("operator reply → Parlant event", s.operator_total, "bare event POST → stream", bare),
        (
            "the same, after Slack's delivery hop",
            s.operator_relay,
            "bare event POST → stream",
            bare,
        ),
        (
            "operator reply → Parlant event",
            s.operator_total,
            "event delivery + bare POST → stream (percentiles added)",
            relay_floor,
        ),
        ("customer message → thread", s.customer_total, "one chat.postMessage", post),
        ("REST long-poll wake", poll, "bare event POST → stream", bare),
    )
    return [
        (
            s.sessions,
            what,
            against,
            f"{ratio(m.p50, b.p50):.2f}x",
            f"{ratio(m.p99, b.p99):.2f}x",
        )
        for what, m, against, b in pairs
    ]


def ratio_table(steps: Sequence[Step]) -> str:
    rows = [row for s in steps for row in _ratios(s)]
    header = (
        "sessions",
        "measured (under load)",
        "baseline (under load)",
        "p50 ratio",
        "p99 ratio",
    )
    return table(header, rows)


def idle_sessions_table(idle: IdleSessions) -> str:
    series = ", ".join(f"{cpu:.1%}" for cpu in idle.series)
    rows = [
        (
            "agent, bridge following, no handoffs",
            f"{idle.floor.cpu:.1%}",
            f"{idle.floor.rss / MB:,.0f}",
        ),
        (f"agent, {idle.sessions:,} idle handoffs", *idle.agent.cells()),
        (f"bridge, {idle.sessions:,} idle handoffs", *idle.bridge.cells()),
    ]
    return table(("process", "CPU (of a core)", "RSS MB"), rows) + (
        f"\n\n{idle.sessions:,} sessions created and marked over REST in {idle.marked_in:.0f} s;"
        f" {idle.opened:,} threads opened, the last {idle.opened_in:.0f} s after the first mark."
        f" Agent CPU per window until it settled: {series}"
        f"{'' if idle.settled else ' (not settled: still busy at the cap)'}."
        f" One listing of the {idle.listing.sessions:,} handed-off sessions (the bridge's"
        f" safety net, every {STREAMING_RECONCILE_SECONDS / 60:.0f} min while the push stream"
        f" is up): {idle.listing.wall_seconds * 1000:,.0f} ms,"
        f" {idle.listing.cpu_seconds * 1000:,.0f} ms of the agent's CPU;"
        " with it spread over that period the agent's idle CPU is"
        f" {idle.agent_with_listings:.1%}."
    )


def _milliseconds(seconds: float) -> str:
    if math.isinf(seconds):
        return "not arrived (missing after the settle time)"
    return f"{seconds * 1000:,.1f} ms"


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def target_table(steps: Sequence[Step], idle: IdleSessions | None) -> str:
    rows: list[Row] = []
    if steps:
        s = max(steps, key=lambda step: step.sessions)
        total = s.customer_total
        bare = s.load_floors.dists()["bare event POST → on the push stream"]
        relay = ratio(s.operator_total.p50, bare.p50)
        bridge_rss = max(s.idle["bridge"].rss, s.load["bridge"].rss) / MB
        rows += [
            (
                f"customer message → thread p50 at {s.sessions:,} sessions under load",
                "≤ 50 ms",
                _milliseconds(total.p50),
                _verdict(total.p50 <= 0.050),
            ),
            (
                f"customer message → thread p99 at {s.sessions:,} sessions under load",
                "≤ 300 ms",
                _milliseconds(total.p99),
                _verdict(total.p99 <= 0.300),
            ),
            (
                "operator reply → Parlant event p50 vs a bare POST (under load)",
                "≤ 1.3x",
                f"{relay:.2f}x",
                _verdict(not math.isnan(relay) and relay <= 1.3),
            ),
            (
                "(for information: the bridge's part only, from its ack)",
                "≤ 1.3x",
                f"{ratio(s.operator_relay.p50, bare.p50):.2f}x",
                _verdict(ratio(s.operator_relay.p50, bare.p50) <= 1.3),
            ),
            (
                f"bridge RSS at {s.sessions:,} sessions",
                "≤ 100 MB",
                f"{bridge_rss:.0f} MB",
                _verdict(bridge_rss <= 100),
            ),
        ]
    if idle is not None:
        rows.append(
            (
                f"Parlant CPU with {idle.sessions:,} idle handed-off sessions",
                "≤ 5 % of a core",
                f"{idle.agent_with_listings:.1%} (listings included)",
                _verdict(idle.agent_with_listings <= 0.05),
            )
        )
    return table(("target", "goal", "measured", ""), rows)


def report(steps: Sequence[Step], idle: IdleSessions | None) -> str:
    parts = [f"Machine: {machine()}"]
    if steps:
        parts += [
            "### Handing off\n\n" + handoff_table([(s.sessions, s.handoffs) for s in steps]),
            "### CPU and memory\n\n" + usage_table(steps),
            "### Latency under load\n\n" + latency_table(steps),
            "### Lost and duplicated messages\n\n" + loss_table(steps),
            "### Baselines\n\n" + floor_table(steps),
            "### Ratios\n\n" + ratio_table(steps),
        ]
    if idle is not None:
        parts.append(
            f"### {idle.sessions:,} idle handed-off sessions\n\n" + idle_sessions_table(idle)
        )
    parts.append("### Targets\n\n" + target_table(steps, idle))
    return "\n\n".join(parts)
