"""A loopback HTTP proxy in front of Parlant that can hide some paths (answering 404),
to stand in for a Parlant agent that lacks the push stream."""

from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.support.ports import free_port

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass
class ParlantProxy:
    upstream: str
    hidden_paths: frozenset[str]
    port: int = field(default_factory=free_port)
    requests: list[str] = field(default_factory=list)
    """Every forwarded request as ``METHOD raw-path``."""
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> "ParlantProxy":
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        if request.path in self.hidden_paths:
            return web.json_response({"detail": "Not Found"}, status=404)
        assert self._http is not None
        self.requests.append(f"{request.method} {request.raw_path}")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with self._http.request(
            request.method,
            f"{self.upstream}{request.rel_url}",
            headers=headers,
            data=await request.read(),
        ) as response:
            body = await response.read()
            kept = {k: v for k, v in response.headers.items() if k.lower() not in HOP_HEADERS}
            return web.Response(status=response.status, body=body, headers=kept)
