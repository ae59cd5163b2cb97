"""Failure injection for the Web API: one-off failures, slow answers and whole outages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fault:
    """How to answer instead of handling the call: an HTTP status and/or a Slack error."""

    status: int = 200
    error: str = "internal_error"
    delay: float = 0.0
    retry_after: int | None = None

    @property
    def body(self) -> dict[str, object]:
        return {"ok": False, "error": self.error}


@dataclass
class _Planned:
    fault: Fault
    remaining: int


@dataclass
class FaultPlan:
    """Faults to apply to upcoming Web API calls, consumed in order per method."""

    _planned: dict[str, list[_Planned]] = field(default_factory=dict)
    _delays: dict[str, list[_Planned]] = field(default_factory=dict)
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
        """The next ``n`` calls of ``method`` ("*" for any) fail.

        With ``status`` (e.g. 500, 503, 429) they get that HTTP status and body
        ``{"ok": false, "error": error or "service_unavailable"}``; without, HTTP 200 and
        ``{"ok": false, "error": error or "internal_error"}``.
        """
        if status is not None and status != 200:
            default = "ratelimited" if status == 429 else "service_unavailable"
            if status == 429 and retry_after is None:
                retry_after = 1
            fault = Fault(status=status, error=error or default, retry_after=retry_after)
        else:
            fault = Fault(error=error or "internal_error")
        self._planned.setdefault(method, []).append(_Planned(fault, n))

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

    def take_delay(self, method: str) -> float:
        fault = _consume(self._delays, method)
        return fault.delay if fault else 0.0

    def clear(self) -> None:
        self._planned.clear()
        self._delays.clear()
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
