"""Numbers for the load benchmark: latency distributions and what a process costs.

CPU comes from ``/proc/<pid>/stat`` (``bench.run.cpu_seconds``), summed over the process
and its children; memory is the resident set (``VmRSS``) of the same processes.
"""

import asyncio
import contextlib
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.run import cpu_seconds

MB = 1024 * 1024


@dataclass(frozen=True)
class Dist:
    """A latency distribution in seconds: count and the percentiles the tables show."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Iterable[float]) -> "Dist":
        ordered = sorted(samples)
        if not ordered:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(
            len(ordered),
            percentile(ordered, 50),
            percentile(ordered, 95),
            percentile(ordered, 99),
            ordered[-1],
        )

    def ms(self) -> tuple[str, str, str, str]:
        return (_ms(self.p50), _ms(self.p95), _ms(self.p99), _ms(self.max))


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    return "missing" if math.isinf(seconds) else f"{seconds * 1000:,.1f}"


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator and not math.isnan(denominator) else math.nan


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (Parlant may start helpers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _tree_cpu(pids: Iterable[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a helper that just ended
            total += cpu_seconds(pid)
    return total


def rss_bytes(pids: Iterable[int]) -> int:
    """Resident memory of the processes ``pids``."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


@dataclass(frozen=True)
class Usage:
    cpu: float
    """Share of one core over the window (1.0 = a whole core)."""
    rss: int
    """Bytes resident at the end of the window."""

    def cells(self) -> tuple[str, str]:
        return (f"{self.cpu:.1%}", f"{self.rss / MB:,.0f}")


Processes = Mapping[str, list[int]]
"""A name (``agent``, ``bridge``, ``bench``) and the pids that make it up."""


class CpuWindow:
    """CPU used by several named groups of processes between creation and ``stop``."""

    def __init__(self, pids: Processes) -> None:
        self._pids = {name: list(members) for name, members in pids.items()}
        self._start_cpu = {name: _tree_cpu(members) for name, members in self._pids.items()}
        self._start = time.monotonic()

    def stop(self) -> dict[str, Usage]:
        elapsed = time.monotonic() - self._start
        return {
            name: Usage(
                cpu=(_tree_cpu(members) - self._start_cpu[name]) / elapsed,
                rss=rss_bytes(members),
            )
            for name, members in self._pids.items()
        }


async def usage_over(pids: Processes, seconds: float) -> dict[str, Usage]:
    """CPU share and RSS of each named group of processes over ``seconds`` of wall time."""
    window = CpuWindow(pids)
    await asyncio.sleep(seconds)
    return window.stop()
