"""Talking to the agent as the load benchmark's customers, probes and observer do.

* Guests open sessions and write the way the customer's page does: ``POST /sessions``
  without the operator token (the answer carries the session's customer token), then
  messages with ``X-Customer-Token``. Each guest has its own ``X-Forwarded-For`` address.
* ``Operator`` calls hold the operator token: probe sessions and bare event writes.
* ``EventFeed`` follows the agent's push stream (``GET /handoff/stream``) and notes, for
  each benchmark marker, when Parlant created the event and when the stream brought it.
"""

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from agent.customer_access import CUSTOMER_TOKEN_HEADER
from agent.insurance_agent import AGENT_ID
from bench.load_markers import markers_in
from tests.support.processes import operator_headers

WALL_MINUS_MONOTONIC = time.time() - time.monotonic()
"""Turns Parlant's wall-clock ``creation_utc`` into this process's monotonic time."""
Json = dict[str, Any]


def created_at(event: Mapping[str, Any]) -> float:
    """An event's ``creation_utc`` on the monotonic clock."""
    return datetime.fromisoformat(str(event["creation_utc"])).timestamp() - WALL_MINUS_MONOTONIC


def guest_address(number: int) -> str:
    """A distinct client address per simulated customer (10.x.y.z)."""
    return f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


@dataclass(frozen=True)
class Guest:
    session_id: str
    token: str
    address: str


async def open_guest(http: aiohttp.ClientSession, url: str, number: int) -> Guest:
    """A guest session as the customer's page opens one (no operator token)."""
    address = guest_address(number)
    async with http.post(
        f"{url}/sessions",
        json={"agent_id": AGENT_ID},
        headers={"X-Forwarded-For": address},
    ) as response:
        response.raise_for_status()
        session = await response.json()
        return Guest(session["id"], response.headers[CUSTOMER_TOKEN_HEADER], address)


async def guest_says(
    http: aiohttp.ClientSession, url: str, guest: Guest, text: str, address: str | None = None
) -> Json:
    """Post a customer message; returns Parlant's event. ``address`` overrides the guest's
    (``bench.load_traffic.MESSAGES_PER_ADDRESS``)."""
    async with http.post(
        f"{url}/sessions/{guest.session_id}/events",
        json={"kind": "message", "source": "customer", "message": text},
        headers={CUSTOMER_TOKEN_HEADER: guest.token, "X-Forwarded-For": address or guest.address},
    ) as response:
        response.raise_for_status()
        event: Json = await response.json()
        return event


class Operator:
    """Calls with the operator token (what the bridge may do)."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self._http = http
        self._url = url
        self._headers = operator_headers()

    async def probe_session(self) -> str:
        """A session in manual mode and not handed off: the AI never answers in it and the
        bridge never follows it, so writing there costs Parlant alone."""
        customer = await self._call("POST", "/customers", {"name": "Probe"})
        session = await self._call(
            "POST", "/sessions", {"agent_id": AGENT_ID, "customer_id": customer["id"]}
        )
        await self._call("PATCH", f"/sessions/{session['id']}", {"mode": "manual"})
        return str(session["id"])

    async def post_human(self, session_id: str, text: str) -> Json:
        """A bare ``human_agent`` message, as the bridge posts an operator's reply."""
        body = {
            "kind": "message",
            "source": "human_agent",
            "message": text,
            "participant": {"id": "bench", "display_name": "Bench"},
        }
        event: Json = await self._call("POST", f"/sessions/{session_id}/events", body)
        return event

    async def events(
        self, session_id: str, min_offset: int = 0, wait_for_data: int = 0
    ) -> list[Json]:
        params = {"min_offset": str(min_offset), "kinds": "message"}
        params["wait_for_data"] = str(wait_for_data)
        timeout = aiohttp.ClientTimeout(total=wait_for_data + 30)
        async with self._http.get(
            f"{self._url}/sessions/{session_id}/events",
            params=params,
            headers=self._headers,
            timeout=timeout,
        ) as response:
            response.raise_for_status()
            events: list[Json] = await response.json()
            return events

    async def _call(self, method: str, path: str, body: Json) -> Json:
        async with self._http.request(
            method, f"{self._url}{path}", json=body, headers=self._headers
        ) as response:
            response.raise_for_status()
            answer: Json = await response.json()
            return answer


@dataclass(frozen=True)
class Seen:
    created: float
    """Parlant's ``creation_utc`` (monotonic clock)."""
    arrived: float
    """When the push stream brought it here."""


class EventFeed:
    """The push stream as a second subscriber (the bridge is the first)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.seen: dict[str, Seen] = {}
        self.times_seen: Counter[str] = Counter()
        self._waiters: dict[str, asyncio.Event] = {}

    def waiter(self, name: str) -> asyncio.Event:
        """Set once the event carrying marker ``name`` has come through the stream."""
        event = self._waiters.setdefault(name, asyncio.Event())
        if name in self.seen:
            event.set()
        return event

    def _note(self, event: Mapping[str, Any], arrived: float) -> None:
        message = (event.get("data") or {}).get("message")
        if not isinstance(message, str):
            return
        for name in markers_in(message):
            self.times_seen[name] += 1
            if name not in self.seen:
                self.seen[name] = Seen(created_at(event), arrived)
                if (waiter := self._waiters.get(name)) is not None:
                    waiter.set()

    @contextlib.asynccontextmanager
    async def following(self) -> AsyncIterator["EventFeed"]:
        ready = asyncio.Event()
        task = asyncio.create_task(self._follow(ready))
        try:
            await asyncio.wait_for(ready.wait(), 10)
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self, ready: asyncio.Event) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5)
        async with (
            aiohttp.ClientSession(timeout=timeout, headers=operator_headers()) as http,
            http.get(f"{self._url}/handoff/stream", params={"kinds": "message"}) as response,
        ):
            response.raise_for_status()
            async for line in response.content:
                arrived = time.monotonic()
                notice = json.loads(line)
                if notice["type"] == "hello":
                    ready.set()
                elif notice["type"] == "event":
                    self._note(notice["event"], arrived)
