"""A loopback proxy in front of Parlant that lets a write happen and then loses its answer.

``POST /sessions/{id}/events`` is forwarded to Parlant, which stores the event; then, for
each loss planned with ``lose_next_answers``, the caller gets a 502 instead of Parlant's
answer, or its connection is closed without any answer. Everything else is passed through;
the agent's push stream (``GET /handoff/stream``, NDJSON) is streamed chunk by chunk.
"""

import asyncio
import collections
import re
from dataclasses import dataclass, field
from enum import StrEnum

import aiohttp
from aiohttp import web

from tests.support.ports import free_port

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}
EVENT_POST = re.compile(r"^/sessions/[^/]+/events$")
STREAM_PATH = "/handoff/stream"


class Loss(StrEnum):
    BAD_GATEWAY = "502"
    """Parlant stored the event; the caller gets 502 Bad Gateway."""
    DROP = "drop"
    """Parlant stored the event; the caller's connection is closed with no answer."""


@dataclass(frozen=True)
class LostAnswer:
    path: str
    how: Loss
    upstream_status: int
    """What Parlant had answered (201: it stored the event)."""
    upstream_body: str


@dataclass
class LossyProxy:
    upstream: str
    port: int = field(default_factory=free_port)
    lost: list[LostAnswer] = field(default_factory=list)
    """Every answer lost so far, with what Parlant had said."""
    event_posts: int = 0
    """``POST /sessions/{id}/events`` forwarded so far."""
    _planned: collections.deque[Loss] = field(default_factory=collections.deque)
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None
    _streams: set["asyncio.Task[object]"] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lose_next_answers(self, how: Loss, n: int = 1) -> None:
        """The next ``n`` event posts reach Parlant, but their answers are lost ``how``."""
        self._planned.extend([how] * n)

    @property
    def planned(self) -> int:
        return len(self._planned)

    async def start(self) -> "LossyProxy":
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        for task in list(self._streams):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        body = await request.read()
        url = f"{self.upstream}{request.rel_url}"
        if request.path == STREAM_PATH:
            return await self._stream(request, url, headers)
        is_event_post = request.method == "POST" and EVENT_POST.match(request.path) is not None
        async with self._http.request(
            request.method,
            url,
            headers=headers,
            data=body,
            timeout=aiohttp.ClientTimeout(total=30),
        ) as response:
            answer = await response.read()
            kept = {k: v for k, v in response.headers.items() if k.lower() not in HOP_HEADERS}
            status = response.status
        if is_event_post:
            self.event_posts += 1
            if self._planned:
                how = self._planned.popleft()
                self.lost.append(
                    LostAnswer(request.path, how, status, answer.decode(errors="replace"))
                )
                if how is Loss.DROP:
                    if request.transport is not None:
                        request.transport.abort()
                    return web.Response(status=502)  # never reaches the caller
                return web.json_response({"detail": "Bad Gateway"}, status=502)
        return web.Response(status=status, body=answer, headers=kept)

    async def _stream(
        self, request: web.Request, url: str, headers: dict[str, str]
    ) -> web.StreamResponse:
        """The push stream, passed through as it comes (chunked), until either side ends."""
        assert self._http is not None
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        try:
            async with self._http.get(url, headers=headers) as upstream:
                kept = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
                if upstream.status != 200:
                    return web.Response(
                        status=upstream.status, body=await upstream.read(), headers=kept
                    )
                response = web.StreamResponse(status=200, headers=kept)
                await response.prepare(request)
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
        finally:
            self._streams.discard(task)
