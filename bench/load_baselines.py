"""Step 4: the floors each measured path is compared with, taken in the same run.

* a bare ``human_agent`` event POSTed to Parlant with the operator token, timed until the
  push stream brings it (what the bridge's relay does, without Slack and the bridge);
* one ``chat.postMessage`` to the Slack emulator (the last hop of customer → thread);
* one Events API delivery, sent by the emulator's own HTTP transport to a bare endpoint
  that only acknowledges (the first hop of operator reply → Parlant, without the bridge);
* Parlant's own REST long-poll (``GET /sessions/{id}/events?min_offset=…&wait_for_data=…``,
  the seed tutorial's way of following a session) waking on a new event.

The probe sessions are in manual mode and not handed off: the AI and the bridge leave them
alone. Probes run at idle (``samples`` rounds) and again during the load window.
"""

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bench.load_markers import Kind, marker
from bench.load_parlant import EventFeed, Operator
from bench.load_stats import Dist
from tests.slack_emulator.delivery import Kind as DeliveryKind
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.http_transport import HttpTransport, RequestUrls
from tests.slack_emulator.serving import serve
from tests.support.bridge import HANDOFF_CHANNEL

LONG_POLL_SECONDS = 30
PROBE_TIMEOUT = 30.0


@dataclass
class Floors:
    bare_stream: list[float] = field(default_factory=list)
    """POST sent → event on the push stream."""
    bare_answered: list[float] = field(default_factory=list)
    bare_created: list[float] = field(default_factory=list)
    """POST sent → Parlant's ``creation_utc`` (its request handling before the write)."""
    chat_post: list[float] = field(default_factory=list)
    delivery: list[float] = field(default_factory=list)
    long_poll: list[float] = field(default_factory=list)
    """POST sent → a waiting long-poll answers with the event."""

    def dists(self) -> dict[str, Dist]:
        return {
            "bare event POST → on the push stream": Dist.of(self.bare_stream),
            "bare event POST → Parlant creates it": Dist.of(self.bare_created),
            "bare event POST answered": Dist.of(self.bare_answered),
            "one chat.postMessage to the emulator": Dist.of(self.chat_post),
            "one event delivery to a bare endpoint": Dist.of(self.delivery),
            "REST long-poll wakes on a new event": Dist.of(self.long_poll),
        }


class Probes:
    def __init__(self, operator: Operator, feed: EventFeed, emulator: SlackEmulator) -> None:
        self._operator = operator
        self._feed = feed
        self._emulator = emulator
        self._slack = AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url)
        self._numbers = itertools.count()
        self._bare_session = ""
        self._poll_session = ""
        self._poll_offset = 0
        self._transport: HttpTransport | None = None

    @contextlib.asynccontextmanager
    async def opened(self) -> AsyncIterator["Probes"]:
        """Probe sessions in Parlant and a bare endpoint for deliveries, while inside."""
        self._bare_session = await self._operator.probe_session()
        self._poll_session = await self._operator.probe_session()
        app = web.Application()
        app.router.add_post("/events", _acknowledge)
        async with serve(app) as url, aiohttp.ClientSession() as http:
            urls = RequestUrls(f"{url}/events", f"{url}/events", f"{url}/events")
            self._transport = HttpTransport(http, urls, self._emulator.signing_secret)
            yield self

    async def delivery(self, floors: Floors) -> None:
        assert self._transport is not None
        payload = next(
            (
                d.payload
                for d in reversed(self._emulator.deliveries)
                if d.kind is DeliveryKind.EVENTS_API
            ),
            {"type": "event_callback", "event": {"type": "message", "text": "probe"}},
        )
        sent = time.monotonic()
        reply = await self._transport.send(
            DeliveryKind.EVENTS_API, payload, retry_num=0, retry_reason=None, timeout=PROBE_TIMEOUT
        )
        floors.delivery.append(time.monotonic() - sent)
        assert reply.ok, reply

    async def bare_post(self, floors: Floors) -> None:
        name = marker(Kind.BARE_POST, next(self._numbers))
        seen = self._feed.waiter(name)
        sent = time.monotonic()
        await self._operator.post_human(self._bare_session, f"Probe {name}")
        floors.bare_answered.append(time.monotonic() - sent)
        await asyncio.wait_for(seen.wait(), PROBE_TIMEOUT)
        floors.bare_stream.append(self._feed.seen[name].arrived - sent)
        floors.bare_created.append(self._feed.seen[name].created - sent)

    async def chat_post(self, floors: Floors) -> None:
        sent = time.monotonic()
        await self._slack.chat_postMessage(channel=HANDOFF_CHANNEL, text="probe")
        floors.chat_post.append(time.monotonic() - sent)

    async def long_poll(self, floors: Floors) -> None:
        name = marker(Kind.LONG_POLL, next(self._numbers))
        waiting = asyncio.create_task(
            self._operator.events(self._poll_session, self._poll_offset, LONG_POLL_SECONDS)
        )
        # Parlant looks for new events every 0.25 s: write at a random moment of that cycle.
        await asyncio.sleep(random.uniform(0.05, 0.30))
        sent = time.monotonic()
        event = await self._operator.post_human(self._poll_session, f"Probe {name}")
        events = await waiting
        floors.long_poll.append(time.monotonic() - sent)
        self._poll_offset = int(event["offset"]) + 1
        assert any(e["id"] == event["id"] for e in events), "long-poll woke without the event"

    async def round(self, floors: Floors) -> None:
        await self.bare_post(floors)
        await self.chat_post(floors)
        await self.delivery(floors)
        await self.long_poll(floors)

    async def rounds(self, floors: Floors, count: int) -> None:
        for _ in range(count):
            await self.round(floors)
            await asyncio.sleep(0.05)


async def _acknowledge(_request: web.Request) -> web.Response:
    return web.Response(status=200)
