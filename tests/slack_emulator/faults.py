"""Failure injection for the Web API.

- ``fail_next``: the next calls fail before Slack does anything (nothing is written).
- ``lose_response_after_write``: the next calls are fully handled (the message is posted, the
  reaction added ...) but the answer is lost: an error status, a dropped connection, or an
  answer that comes too late. What a client sees when it must not simply retry.
- ``refuse_thread``: Slack refuses every chat.postMessage into one thread, for good.
- ``delay_next`` and ``outage``: slow answers and whole outages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# Errors chat.postMessage answers (HTTP 200) for a thread that takes no replies, per Slack's
# method reference (both are newer than the 2021 OpenAPI spec).
THREAD_REFUSALS: dict[str, str] = {
    "cannot_reply_to_message": "This message type cannot have thread replies.",
    "restricted_action_thread_locked": "Cannot post replies to a thread locked by admins.",
}


@dataclass(frozen=True)
class Fault:
    """How to answer instead of (or after) handling the call.

    An HTTP ``status`` with ``{"ok": false, "error": error}`` (and ``Retry-After`` when
    ``retry_after`` is set); or, with ``drop``, no answer at all (the connection is closed);
    or, with ``delay``, the real answer after ``delay`` seconds.
    """

    status: int = 200
    error: str = "internal_error"
    delay: float = 0.0
    retry_after: int | None = None
    drop: bool = False

    @property
    def body(self) -> dict[str, object]:
        return {"ok": False, "error": self.error}

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


def http_fault(
    status: int | None, error: str | None = None, retry_after: int | None = None
) -> Fault:
    """The answer Slack gives with this HTTP status.

    429: ``ratelimited`` and always a ``Retry-After`` header (1 s unless given); 500:
    ``internal_error``; other 5xx: ``service_unavailable``; None or 200: HTTP 200 with
    ``error`` (``internal_error`` by default), as Slack reports most failures.
    """
    if status is None or status == 200:
        return Fault(error=error or "internal_error", retry_after=retry_after)
    if status == 429:
        return Fault(status=429, error=error or "ratelimited", retry_after=retry_after or 1)
    default = "internal_error" if status == 500 else "service_unavailable"
    return Fault(status=status, error=error or default, retry_after=retry_after)


@dataclass
class _Planned:
    fault: Fault
    remaining: int


@dataclass
class FaultPlan:
    """Faults to apply to upcoming Web API calls, consumed in order per method."""

    _planned: dict[str, list[_Planned]] = field(default_factory=dict)
    _delays: dict[str, list[_Planned]] = field(default_factory=dict)
    _lost: dict[str, list[_Planned]] = field(default_factory=dict)
    refused_threads: dict[tuple[str, str], str] = field(default_factory=dict)
    outage_active: bool = False
    outage_status: int = 503

    def fail_next(
        self,
        method: str,
        n: int = 1,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next ``n`` calls of ``method`` ("*" for any) fail without being handled.

        With ``status`` (500, 503, 429 ...) they get that HTTP status and a JSON error body
        (see ``http_fault``: 429 always carries ``Retry-After``); without, HTTP 200 and
        ``{"ok": false, "error": error or "internal_error"}``.
        """
        self._planned.setdefault(method, []).append(
            _Planned(http_fault(status, error, retry_after), n)
        )

    def lose_response_after_write(
        self,
        method: str,
        n: int = 1,
        *,
        status: int | None = 500,
        error: str | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
    ) -> None:
        """The next ``n`` calls of ``method`` ("*" for any) take effect, but the answer is lost.

        The call is handled completely (chat.postMessage stores and announces the message,
        reactions.add adds the reaction ...), then the client gets:

        - with ``status`` (default 500): that status and an error body instead of the real
          answer (``status=200`` gives HTTP 200 ``{"ok": false, "error": "fatal_error"}``:
          Slack documents fatal_error as "some aspect of the operation may have succeeded");
        - with ``status=None``: no answer, the connection is closed (aiohttp clients raise
          ServerDisconnectedError, which slack-sdk's default retry handler retries once);
        - with ``status=None`` and ``delay``: the real answer, ``delay`` seconds late (past a
          client's timeout).

        Calls refused before being handled (auth, rate limits, ``fail_next``) do not use up
        these faults.
        """
        if status is None:
            fault = Fault(delay=delay) if delay else Fault(drop=True)
        elif status == 200:
            fault = Fault(error=error or "fatal_error")
        else:
            fault = http_fault(status, error, retry_after)
        self._lost.setdefault(method, []).append(_Planned(fault, n))

    def refuse_thread(
        self, channel: str, thread_ts: str, error: str = "cannot_reply_to_message"
    ) -> None:
        """Every chat.postMessage into this thread answers HTTP 200 ``{"ok": false, error}``.

        ``error`` is one Slack uses for a thread that takes no replies: "cannot_reply_to_message"
        or "restricted_action_thread_locked". A reply's ts refers to its thread, as in Slack.
        Other threads, and top-level posts, still work. ``accept_thread`` undoes it.
        """
        if error not in THREAD_REFUSALS:
            raise ValueError(
                f"Slack refuses thread replies with {sorted(THREAD_REFUSALS)}, not {error!r}"
            )
        self.refused_threads[(channel, thread_ts)] = error

    def accept_thread(self, channel: str, thread_ts: str) -> None:
        self.refused_threads.pop((channel, thread_ts), None)

    def thread_refusal(self, channel: str, thread_ts: str) -> str | None:
        """The error for a post into this thread (``thread_ts`` of its parent), if refused."""
        return self.refused_threads.get((channel, thread_ts))

    def delay_next(self, method: str, seconds: float, n: int = 1) -> None:
        """The next ``n`` calls of ``method`` ("*" for any) are answered after ``seconds``."""
        self._delays.setdefault(method, []).append(_Planned(Fault(delay=seconds), n))

    @contextmanager
    def outage(self, status: int = 503) -> Iterator[None]:
        self.start_outage(status)
        try:
            yield
        finally:
            self.end_outage()

    def start_outage(self, status: int = 503) -> None:
        self.outage_active = True
        self.outage_status = status

    def end_outage(self) -> None:
        self.outage_active = False

    def take(self, method: str) -> Fault | None:
        """The fault for this call of ``method``, if any (consumes a planned one)."""
        if self.outage_active:
            return Fault(status=self.outage_status, error="service_unavailable")
        return _consume(self._planned, method)

    def take_lost(self, method: str) -> Fault | None:
        """How to lose the answer of this (handled) call of ``method``, if planned."""
        return _consume(self._lost, method)

    def take_delay(self, method: str) -> float:
        fault = _consume(self._delays, method)
        return fault.delay if fault else 0.0

    def clear(self) -> None:
        self._planned.clear()
        self._delays.clear()
        self._lost.clear()
        self.refused_threads.clear()
        self.outage_active = False


def _consume(plans: dict[str, list[_Planned]], method: str) -> Fault | None:
    for key in (method, "*"):
        queue = plans.get(key)
        if queue:
            planned = queue[0]
            planned.remaining -= 1
            if planned.remaining <= 0:
                queue.pop(0)
            return planned.fault
    return None
