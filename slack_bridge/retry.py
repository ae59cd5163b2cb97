"""The bridge's one retry schedule: exponential backoff with jitter, capped.

Every loop that waits for Parlant or Slack to come back uses it, so a fleet of workers
that failed together does not retry together (the jitter), and a long outage costs a
request every ``cap`` seconds at most.
"""

import asyncio
import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    first: float = 0.5
    cap: float = 10.0
    failures: int = field(default=0, init=False)

    def next_delay(self) -> float:
        """The pause before the next attempt: half fixed, half random ("equal jitter")."""
        ceiling: float = min(self.cap, self.first * 2.0**self.failures)
        self.failures += 1
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def wait(self) -> float:
        delay = self.next_delay()
        await asyncio.sleep(delay)
        return delay

    def reset(self) -> None:
        self.failures = 0
