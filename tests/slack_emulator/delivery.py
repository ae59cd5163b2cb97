"""Delivering to the app like Slack: background event delivery with retries, and a log.

Events are delivered in background tasks, retried after a non-2xx answer or none within the
ack timeout (3 s by default), up to ``len(retry_delays)`` times. Slash commands and interactions
are delivered once and awaited by the operator action that caused them (Slack does not retry
them; the user sees an error instead).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

JsonDict = dict[str, Any]
logger = logging.getLogger(__name__)

DEFAULT_ACK_TIMEOUT = 3.0
DEFAULT_RETRY_DELAYS = (0.1, 0.2, 0.4)


class Kind(StrEnum):
    """The Socket Mode envelope types; over HTTP they differ by body encoding."""

    EVENTS_API = "events_api"
    SLASH_COMMANDS = "slash_commands"
    INTERACTIVE = "interactive"


class Outcome(StrEnum):
    ACKED = "acked"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    CONNECTION_FAILED = "connection_failed"
    NO_CONNECTION = "no_connection"
    NOT_CONFIGURED = "not_configured"
    NOT_SENT = "not_sent"  # Slack itself refused (e.g. a slash command in a thread)


@dataclass(frozen=True)
class Reply:
    """What one attempt got back from the app."""

    outcome: Outcome
    status: int | None = None
    body: bytes = b""
    content_type: str = ""
    ack_payload: JsonDict | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACKED


class Transport(Protocol):
    name: str

    async def send(
        self,
        kind: Kind,
        payload: JsonDict,
        *,
        retry_num: int,
        retry_reason: str | None,
        timeout: float,
    ) -> Reply: ...


@dataclass(frozen=True)
class Attempt:
    """One try at delivering something, as the delivery log records it."""

    delivery_id: str
    kind: Kind
    retry_num: int
    retry_reason: str | None
    transport: str
    outcome: Outcome
    status: int | None
    elapsed: float
    duplicate: bool

    @property
    def event_id(self) -> str | None:
        return self.delivery_id if self.delivery_id.startswith("Ev") else None


@dataclass
class Delivery:
    """Everything Slack did to get one payload to the app."""

    id: str
    kind: Kind
    payload: JsonDict
    duplicate: bool = False
    attempts: list[Attempt] = field(default_factory=list)
    done: bool = False

    @property
    def delivered(self) -> bool:
        return any(a.outcome is Outcome.ACKED for a in self.attempts)

    @property
    def event(self) -> JsonDict:
        event = self.payload.get("event", {})
        return event if isinstance(event, dict) else {}


def retry_reason(transport: str, outcome: Outcome) -> str:
    if transport == "socket":
        return "timeout" if outcome is Outcome.TIMEOUT else "connection_failed"
    return {
        Outcome.TIMEOUT: "http_timeout",
        Outcome.HTTP_ERROR: "http_error",
    }.get(outcome, "connection_failed")


class Deliverer:
    """Owns the delivery tasks and the log; the transport decides HTTP or Socket Mode."""

    def __init__(self) -> None:
        self.transport: Transport | None = None
        self.ack_timeout = DEFAULT_ACK_TIMEOUT
        self.retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
        self.duplicate_deliveries = False
        self.deliveries: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def log(self) -> list[Attempt]:
        return [attempt for delivery in self.deliveries for attempt in delivery.attempts]

    def submit_event(self, envelope: JsonDict, *, duplicate: bool | None = None) -> Delivery:
        """Starts delivering an ``event_callback`` envelope in the background."""
        delivery = Delivery(id=str(envelope["event_id"]), kind=Kind.EVENTS_API, payload=envelope)
        self.deliveries.append(delivery)
        self._spawn(self._deliver_with_retries(delivery))
        if self.duplicate_deliveries if duplicate is None else duplicate:
            twin = Delivery(delivery.id, Kind.EVENTS_API, envelope, duplicate=True)
            self.deliveries.append(twin)
            self._spawn(self._deliver_with_retries(twin))
        return delivery

    async def deliver_once(self, delivery_id: str, kind: Kind, payload: JsonDict) -> Reply:
        """Delivers a command or an interaction once and returns the app's answer."""
        delivery = Delivery(id=delivery_id, kind=kind, payload=payload)
        self.deliveries.append(delivery)
        reply = await self._attempt(delivery, 0, None)
        delivery.done = True
        return reply

    async def drain(self, timeout: float = 30.0) -> None:
        """Waits until every delivery, retries included, has finished."""
        deadline = time.monotonic() + timeout
        while self._tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self._tasks)} deliveries still running after {timeout}s")
            await asyncio.wait(set(self._tasks), timeout=remaining)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("delivery task crashed", exc_info=task.exception())

    async def _deliver_with_retries(self, delivery: Delivery) -> None:
        reason: str | None = None
        for retry_num in range(len(self.retry_delays) + 1):
            if retry_num:
                await asyncio.sleep(self.retry_delays[retry_num - 1])
            reply = await self._attempt(delivery, retry_num, reason)
            if reply.ok or reply.outcome is Outcome.NOT_CONFIGURED:
                break
            reason = retry_reason(delivery.attempts[-1].transport, reply.outcome)
        delivery.done = True
        if not delivery.delivered and reply.outcome is not Outcome.NOT_CONFIGURED:
            logger.warning("Slack emulator could not deliver %s %s", delivery.kind, delivery.id)

    async def _attempt(self, delivery: Delivery, retry_num: int, reason: str | None) -> Reply:
        transport = self.transport
        started = time.monotonic()
        if transport is None:
            reply = Reply(Outcome.NOT_CONFIGURED)
        else:
            reply = await transport.send(
                delivery.kind,
                delivery.payload,
                retry_num=retry_num,
                retry_reason=reason,
                timeout=self.ack_timeout,
            )
        delivery.attempts.append(
            Attempt(
                delivery_id=delivery.id,
                kind=delivery.kind,
                retry_num=retry_num,
                retry_reason=reason,
                transport=transport.name if transport else "none",
                outcome=reply.outcome,
                status=reply.status,
                elapsed=time.monotonic() - started,
                duplicate=delivery.duplicate,
            )
        )
        return reply
