"""Background tasks that are kept referenced, and whose crashes are logged."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class TaskGroup:
    """Owns fire-and-forget tasks: keeps them alive, logs failures, cancels them on close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("background task %s crashed", task.get_name(), exc_info=error)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()


async def repeat(step: Callable[[], Awaitable[object]], seconds: float, what: str) -> None:
    """Run ``step`` every ``seconds`` until cancelled; a failure is logged and the next
    round tries again."""
    while True:
        try:
            await step()
        except Exception:
            logger.exception("%s failed", what)
        await asyncio.sleep(seconds)
