"""Public rate limits: the ``limits``-based limiter against ``agent.rate_limits``.

    .venv/bin/python -m bench.rate_limits [--keys 2000 20000] [--checks 20000] [--seconds 3]

"old" is Parlant's ``BasicRateLimiter`` (``limits``' ``MemoryStorage`` and moving window)
keyed on the client address, as the agent used it before; "new" is ``AddressRateLimiter``.
For each key count both first take one hit from that many client addresses, then:

* per check: ``--checks`` checks cycling through those addresses, in wall time and in the
  process's CPU time (which includes the old limiter's timer thread);
* trickle: ``--seconds`` of 100 checks a second, the process's CPU as a share of one core.
  ``MemoryStorage`` re-arms its 10 ms rescan of every key on each hit, so a quiet agent
  pays for all keys ~100 times a second; "loop" is the same trickle with no limiter.

Both limiters run in this process, one after the other, so compare the ratios.
"""

import argparse
import asyncio
import time
from collections.abc import Sequence

from limits import RateLimitItemPerMinute
from parlant.api.authorization import BasicRateLimiter, Operation, RateLimiter
from starlette.requests import Request
from typing_extensions import override

from agent.rate_limits import PER_MINUTE_LIMITS, AddressRateLimiter, client_address

OPERATION = Operation.LIST_EVENTS
TRICKLE_PER_SECOND = 100
SETTLE_SECONDS = 0.5
"""Pause between measurements, so the old limiter's last rescan is not billed to the next."""


class LimitsLimiter(BasicRateLimiter):
    """The agent's limiter before ``agent.rate_limits``: Parlant's, keyed on the address."""

    def __init__(self) -> None:
        super().__init__({op: RateLimitItemPerMinute(n) for op, n in PER_MINUTE_LIMITS.items()})

    @override
    def _build_key(self, request: Request, operation: Operation | None) -> str:
        op = operation.value if operation else "GENERIC"
        return f"IP={client_address(request, 0)}--OP={op}"


def requests(count: int) -> list[Request]:
    return [
        Request(
            {
                "type": "http",
                "method": "GET",
                "path": "/sessions/s/events",
                "headers": [],
                "client": (f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", 40000),
            }
        )
        for n in range(count)
    ]


async def per_check(
    limiter: RateLimiter, clients: Sequence[Request], checks: int
) -> tuple[float, float]:
    """Microseconds per check: wall time and process CPU time."""
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(checks):
        await limiter.check(clients[n % len(clients)], OPERATION)
    return (
        (time.perf_counter() - wall) / checks * 1e6,
        (time.process_time() - cpu) / checks * 1e6,
    )


async def trickle(limiter: RateLimiter | None, clients: Sequence[Request], seconds: float) -> float:
    """Percent of one core the process used while checking 100 times a second."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = 0
    while time.perf_counter() - wall < seconds:
        if limiter is not None:
            await limiter.check(clients[n % len(clients)], OPERATION)
        n += 1
        await asyncio.sleep(1 / TRICKLE_PER_SECOND)
    return (time.process_time() - cpu) / (time.perf_counter() - wall) * 100


async def measure(keys: int, checks: int, seconds: float) -> None:
    clients = requests(keys)
    limiters: dict[str, RateLimiter] = {"old": LimitsLimiter(), "new": AddressRateLimiter(0)}
    for limiter in limiters.values():
        for client in clients:
            await limiter.check(client, OPERATION)
    await asyncio.sleep(SETTLE_SECONDS)
    costs: dict[str, tuple[float, float]] = {}
    for name, limiter in limiters.items():
        costs[name] = await per_check(limiter, clients, checks)
        await asyncio.sleep(SETTLE_SECONDS)
    loads: dict[str, float] = {"loop": await trickle(None, clients, seconds)}
    for name, limiter in limiters.items():
        await asyncio.sleep(SETTLE_SECONDS)
        loads[name] = await trickle(limiter, clients, seconds)

    print(f"\n{keys:,} keys")
    for name, (wall, cpu) in costs.items():
        print(f"  per check  {name}: {wall:7.2f} µs wall, {cpu:7.2f} µs CPU")
    print(
        f"  per check  old/new: {costs['old'][0] / costs['new'][0]:.1f}x wall, "
        f"{costs['old'][1] / costs['new'][1]:.1f}x CPU"
    )
    for name, load in loads.items():
        print(f"  trickle    {name}: {load:5.1f} % of a core")
    extra_old, extra_new = loads["old"] - loads["loop"], loads["new"] - loads["loop"]
    print(f"  trickle    above the loop: old {extra_old:.1f} %, new {extra_new:.1f} %")


async def main(keys: Sequence[int], checks: int, seconds: float) -> None:
    print(f"{checks:,} checks per limiter; trickle of {TRICKLE_PER_SECOND}/s for {seconds} s")
    for count in keys:
        await measure(count, checks, seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--checks", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(main(args.keys, args.checks, args.seconds))
