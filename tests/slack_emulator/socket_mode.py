"""Socket Mode: apps.connections.open, the WebSocket endpoint, envelopes and acks."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from tests.slack_emulator.delivery import Kind, Outcome, Reply
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.web_api import ApiRequest

JsonDict = dict[str, Any]
logger = logging.getLogger(__name__)

# Slack accepts payloads in acks of commands and view submissions (response_action).
_ACCEPTS_RESPONSE = {Kind.SLASH_COMMANDS, Kind.INTERACTIVE}


@dataclass
class _Client:
    ws: web.WebSocketResponse
    ticket: str
    connected_at: float = field(default_factory=lambda: asyncio.get_running_loop().time())


class SocketModeServer:
    """Serves ``/socket-mode/<ticket>``; delivers envelopes to the newest connected client."""

    name = "socket"

    def __init__(self, state: SlackState) -> None:
        self.state = state
        self.clients: list[_Client] = []
        self.connections_total = 0
        self.accepting = True
        self.tickets: set[str] = set()
        self._pending: dict[str, tuple[_Client, asyncio.Future[JsonDict]]] = {}

    # --- Web API: apps.connections.open -----------------------------------------------------

    def connections_open(self, state: SlackState, req: ApiRequest) -> JsonDict:
        ticket = state.ids.next("ticket", 12).lower()
        self.tickets.add(ticket)
        ws_base = req.base_url.replace("http://", "ws://", 1)
        return {"url": f"{ws_base}socket-mode/{ticket}"}

    # --- the WebSocket ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.match_info["ticket"]
        if not self.accepting or ticket not in self.tickets:
            # Tickets stay valid so slack-sdk's reconnect loop can reuse them, as with Slack.
            raise web.HTTPUnauthorized(text="invalid or refused socket mode ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        client = _Client(ws, ticket)
        self.clients.append(client)
        self.connections_total += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.clients),
                "debug_info": {
                    "host": "applink-emulated",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.state.workspace.app_id},
            }
        )
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_text(message.data)
        finally:
            if client in self.clients:
                self.clients.remove(client)
            self._fail_pending(client)
        return ws

    def _fail_pending(self, client: _Client) -> None:
        for envelope_id, (owner, future) in list(self._pending.items()):
            if owner is client and not future.done():
                future.set_exception(ConnectionError("socket mode connection closed"))
                del self._pending[envelope_id]

    def _on_text(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except ValueError:
            logger.warning("Socket Mode client sent non-JSON text: %r", data[:200])
            return
        envelope_id = ack.get("envelope_id") if isinstance(ack, dict) else None
        pending = self._pending.pop(str(envelope_id), None)
        if pending is not None and not pending[1].done():
            pending[1].set_result(ack)

    @property
    def connected(self) -> int:
        return len(self.clients)

    async def disconnect_all(self, *, graceful: bool = False) -> None:
        """Drops every connection, or (graceful) asks clients to reconnect like Slack does."""
        for client in list(self.clients):
            if graceful:
                await client.ws.send_json(
                    {
                        "type": "disconnect",
                        "reason": "refresh_requested",
                        "debug_info": {"host": "applink-emulated"},
                    }
                )
            else:
                self.clients.remove(client)
                await client.ws.close(code=WSCloseCode.GOING_AWAY, message=b"dropped")

    async def close(self) -> None:
        self.accepting = False
        for client in list(self.clients):
            await client.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        self.clients.clear()
        for _client, future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("emulator stopped"))
        self._pending.clear()

    # --- delivery -----------------------------------------------------------------------------

    async def send(
        self,
        kind: Kind,
        payload: JsonDict,
        *,
        retry_num: int,
        retry_reason: str | None,
        timeout: float,
    ) -> Reply:
        if not self.clients:
            return Reply(Outcome.NO_CONNECTION)
        client = self.clients[-1]
        envelope_id = self.state.ids.envelope_id()
        envelope: JsonDict = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind.value,
            "accepts_response_payload": kind in _ACCEPTS_RESPONSE,
        }
        if kind is Kind.EVENTS_API:
            envelope["retry_attempt"] = retry_num
            envelope["retry_reason"] = retry_reason or ""
        future: asyncio.Future[JsonDict] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = (client, future)
        try:
            await client.ws.send_json(envelope)
            ack = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return Reply(Outcome.TIMEOUT)
        except (ConnectionError, RuntimeError):
            return Reply(Outcome.CONNECTION_FAILED)
        finally:
            self._pending.pop(envelope_id, None)
        ack_payload = ack.get("payload")
        return Reply(
            Outcome.ACKED,
            body=json.dumps(ack).encode(),
            content_type="application/json",
            ack_payload=ack_payload if isinstance(ack_payload, dict) else None,
        )
