"""Running a server until SIGINT or SIGTERM, then stopping it cleanly within a deadline.

The event loop runs in a worker thread and the main thread only waits for signals. That
keeps signals ours: uvicorn (inside Parlant) replaces the main thread's signal handlers
while it serves, and Parlant's shutdown could then wait forever on its own tasks (Ctrl-C
did nothing). Here the first signal cancels the server's task — every ``finally`` and
``async with`` on the way out runs — and the process exits 0 once it is done; a second
signal, or the deadline passing, ends the process at once.
"""

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
DEFAULT_DEADLINE = 15.0
FORCED_EXIT = 130


class _Runner:
    def __init__(self, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._main = main
        self.loop = asyncio.new_event_loop()
        self.task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None
        self.started = threading.Event()

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.task = self.loop.create_task(self._main())
            self.started.set()
            self.loop.run_until_complete(self.task)
        except asyncio.CancelledError:
            pass  # stopped by a signal
        except BaseException as error:  # reported by the main thread
            self.error = error
        finally:
            self.started.set()
            self._close_loop()

    def _close_loop(self) -> None:
        try:
            pending = [task for task in asyncio.all_tasks(self.loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(
                    asyncio.wait(pending, timeout=2.0)  # stragglers get a moment, not forever
                )
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()

    def stop(self) -> None:
        if self.task is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)


def run_until_signalled(
    main: Callable[[], Coroutine[Any, Any, None]],
    name: str,
    deadline: float = DEFAULT_DEADLINE,
) -> int:
    """Run ``main()`` until it returns or a stop signal arrives; the process's exit code.

    Raises:
        BaseException: whatever ``main()`` raised (other than being stopped).
    """
    runner = _Runner(main)
    received: list[int] = []
    wake = threading.Event()

    def on_signal(number: int, _frame: object) -> None:
        received.append(number)
        if len(received) > 1:
            print(f"{name}: second signal, exiting now", file=sys.stderr, flush=True)
            os._exit(FORCED_EXIT)
        wake.set()

    previous = {number: signal.signal(number, on_signal) for number in STOP_SIGNALS}
    thread = threading.Thread(target=runner.run, name=f"{name}-loop", daemon=True)
    try:
        thread.start()
        runner.started.wait()
        while thread.is_alive() and not wake.is_set():
            wake.wait(0.5)
        if received:
            logger.info("%s: %s received, stopping", name, signal.Signals(received[0]).name)
            runner.stop()
            thread.join(deadline)
            if thread.is_alive():
                print(f"{name}: did not stop within {deadline:g}s", file=sys.stderr, flush=True)
                os._exit(FORCED_EXIT)
        thread.join()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if runner.error is not None:
        raise runner.error
    return 0
