"""Running a benchmark from the command line: stoppable, and clean when stopped."""

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any

INTERRUPTED = 130


def run_benchmark(benchmark: Coroutine[Any, Any, None]) -> None:
    """Run ``benchmark`` to its end, or until SIGINT or SIGTERM — also when started in the
    background, where SIGINT may be ignored by default. Stopped, it is cancelled, so every
    process it started is stopped by its own ``finally``, and the exit status is 130."""

    async def stoppable() -> None:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        current = asyncio.current_task()
        assert current is not None
        loop = asyncio.get_running_loop()
        for stop in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop, current.cancel)
        await benchmark

    try:
        asyncio.run(stoppable())
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("\ninterrupted: every process the benchmark started has been stopped")
        sys.exit(INTERRUPTED)
