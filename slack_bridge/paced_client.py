"""slack-sdk's Web API client, paced per method within Slack's rate-limit tiers.

Slack limits each Web API method per app and workspace by tier (Tier 2: 20+ a minute,
Tier 3: 50+, Tier 4: 100+). The bridge waits for its turn before calling, so a burst of
work (a catch-up over many threads, receipts for many replies, the Home tab for many
operators) spreads out instead of drawing 429s; a 429 that still comes is retried after
its ``Retry-After`` by slack-sdk's handler. ``chat.postMessage`` is paced per channel by
the poster, not here.
"""

import asyncio
import heapq
import itertools
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

TIER_2 = 20
TIER_3 = 50
TIER_4 = 100
PER_MINUTE: Mapping[str, int] = {
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.info": TIER_3,
    "conversations.members": TIER_4,
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.getPermalink": TIER_4,
    "reactions.add": TIER_3,
    "reactions.remove": TIER_2,
    "users.info": TIER_4,
    "usergroups.users.list": TIER_2,
    "usergroups.list": TIER_2,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.push": TIER_4,
    "views.publish": TIER_4,
}
BURST_SHARE = 2
"""Half a minute's allowance may go at once; the rest at the tier's pace."""


class TokenBucket:
    """``rate`` calls a second, ``burst`` of them at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    async def take(self) -> float:
        """Wait for a token; returns how long it waited (seconds)."""
        waited = 0.0
        while True:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return waited
            delay = (1 - self._tokens) / self._rate
            waited += delay
            await asyncio.sleep(delay)


class _Turns:
    """Callers of one method, served one at a time: urgent ones first, then in arrival order."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, *, urgent: bool) -> None:
        if not self._busy and not self._waiting:
            self._busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (0 if urgent else 1, next(self._arrivals), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # handed the turn just as it was cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            *_, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)  # stays busy: the turn passes straight on
                return
        self._busy = False


class MethodPacer:
    """One token bucket per method: ``take`` waits until a call may go."""

    def __init__(self, per_minute: Mapping[str, int] = PER_MINUTE) -> None:
        self._buckets = {
            method: TokenBucket(calls / 60.0, max(1.0, calls / BURST_SHARE))
            for method, calls in per_minute.items()
        }
        self._turns: dict[str, _Turns] = {}

    async def take(self, method: str, *, urgent: bool = False) -> float:
        """Wait for ``method``'s turn — ``urgent`` callers (what an operator waits for, such
        as a delivery receipt) before the others, each kind in the order it came; returns
        how long it waited (seconds)."""
        bucket = self._buckets.get(method)
        if bucket is None:
            return 0.0
        turns = self._turns.setdefault(method, _Turns())
        await turns.acquire(urgent=urgent)
        try:
            return await bucket.take()
        finally:
            turns.release()


class PacedWebClient(AsyncWebClient):
    """``urgent``: this client's calls go before the other clients' calls of the same method
    waiting on the shared ``pacer``."""

    def __init__(
        self, *args: Any, pacer: MethodPacer | None = None, urgent: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = pacer or MethodPacer()
        self.urgent = urgent

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | aiohttp.FormData | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        await self.pacer.take(api_method, urgent=self.urgent)
        return await super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=data,
            params=params,
            json=json,
            headers=headers,
            auth=auth,
        )
