"""Public callers' rate limits: a moving window per client address and operation.

Parlant's ``BasicRateLimiter`` keeps its windows in ``limits``' ``MemoryStorage``, whose
timer thread rescans every key it has ever seen each 10 ms while requests arrive — a fifth
of the agent's CPU with a few thousand addresses. Here nothing runs between requests: each
key keeps at most ``limit`` hit times, and keys gone idle are dropped by an occasional
sweep during a check, so a check costs O(1) amortised and memory follows the addresses
active in the last window or two.
"""

import time
from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from fastapi import Request
from parlant.api.authorization import Operation, RateLimiter
from typing_extensions import override

WINDOW_SECONDS: Final = 60.0
PER_MINUTE_LIMITS: Final[Mapping[Operation, int]] = MappingProxyType(
    {
        Operation.READ_AGENT: 30,
        Operation.CREATE_GUEST_SESSION: 10,
        Operation.READ_SESSION: 60,
        Operation.LIST_EVENTS: 240,
        Operation.CREATE_CUSTOMER_EVENT: 30,
    }
)
DEFAULT_PER_MINUTE: Final = 100
"""Shared by every other operation of one address, as in Parlant's ``BasicRateLimiter``."""
MIN_SWEEP_KEYS: Final = 1024
"""Below this many keys, only the clock triggers a sweep: doubling from a handful of keys
would sweep on nearly every new address for no memory worth saving."""

_Key = tuple[str, Operation | None]
"""An address and its operation; ``None`` is the budget the other operations share."""


def client_address(request: Request, trusted_proxies: int) -> str:
    """The address to limit: the peer's, unless ``trusted_proxies`` proxies sit in front.

    Each proxy appends the address it saw to ``X-Forwarded-For``, so the client's is the
    ``trusted_proxies``-th entry from the right; entries further left are the client's own
    words. Parlant's limiter trusts the leftmost, so a caller could pick a new "address"
    per request.
    """
    peer = request.client.host if request.client else "unknown"
    if trusted_proxies <= 0:
        return peer
    forwarded = [
        part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part
    ]
    if len(forwarded) < trusted_proxies:
        return peer
    return forwarded[-trusted_proxies]


class AddressRateLimiter(RateLimiter):
    """Allows a hit when fewer than the operation's limit fall within the last window.

    A refused hit is not recorded, so a client that keeps knocking gets in again as soon as
    its oldest allowed hit leaves the window. Not thread-safe: Parlant calls it from the
    event loop, and ``check`` never awaits.
    """

    def __init__(
        self,
        trusted_proxies: int,
        limits: Mapping[Operation, int] = PER_MINUTE_LIMITS,
        default_limit: int = DEFAULT_PER_MINUTE,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min([default_limit, *limits.values()]) < 1 or window <= 0:
            raise ValueError("rate limits must allow at least one hit per positive window")
        self._trusted_proxies = trusted_proxies
        self._limits = dict(limits)
        self._default_limit = default_limit
        self._window = window
        self._clock = clock
        self._hits: dict[_Key, deque[float]] = {}
        self._last_sweep = clock()
        self._sweep_at_keys = MIN_SWEEP_KEYS

    def __len__(self) -> int:
        """How many (address, operation) keys are held."""
        return len(self._hits)

    @override
    async def check(self, request: Request, operation: Operation) -> bool:
        return self.hit(client_address(request, self._trusted_proxies), operation)

    def hit(self, address: str, operation: Operation) -> bool:
        """Record a hit of ``address`` on ``operation`` if the limit allows it."""
        now = self._clock()
        self._sweep_if_due(now)
        key: _Key
        if operation in self._limits:
            key, limit = (address, operation), self._limits[operation]
        else:
            key, limit = (address, None), self._default_limit
        hits = self._hits.get(key)
        if hits is None:
            self._hits[key] = deque((now,), maxlen=limit)
            return True
        # Full means `limit` hits are kept; the oldest still in the window refuses this one.
        if len(hits) == limit and now - hits[0] < self._window:
            return False
        hits.append(now)  # a full deque drops its oldest hit, already out of the window
        return True

    def _sweep_if_due(self, now: float) -> None:
        # A sweep visits every key, yet stays O(1) per hit: by the clock, each key it visits
        # was hit since one window before the previous sweep; by doubling, at least half of
        # the keys are new since then. Either way each hit pays for at most two visits.
        if now - self._last_sweep < self._window and len(self._hits) < self._sweep_at_keys:
            return
        # Rebuilt rather than deleted from: a dict never shrinks its table on deletion.
        self._hits = {
            key: hits for key, hits in self._hits.items() if now - hits[-1] < self._window
        }
        self._last_sweep = now
        self._sweep_at_keys = max(2 * len(self._hits), MIN_SWEEP_KEYS)
