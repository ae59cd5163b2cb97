"""Serving the bridge: HTTP mode (``POST /slack/events``) or Socket Mode, plus the agent's
handoff notice (``POST /parlant/handoff``) and a health check (``GET /healthz``)."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient

from agent.secret import Secret, bearer_token
from slack_bridge.bridge import Bridge, open_bridge
from slack_bridge.config import BridgeSettings
from slack_bridge.ids import parse_session_id

logger = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
HANDOFF_NOTICE_PATH = "/parlant/handoff"
HEALTH_PATH = "/healthz"


def web_app(bridge: Bridge) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        # Checked before anything is parsed: an unsigned body is never looked into.
        body = await request.read()
        if not _signed_by_slack(body, request, bridge.settings.signing_secret):
            return web.json_response({"ok": False, "error": "invalid_signature"}, status=401)
        try:
            bolt_request = AsyncBoltRequest(
                body=body.decode("utf-8"),
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except (ValueError, TypeError, AttributeError, KeyError):
            # Not UTF-8, not JSON, or JSON that is not an object: Bolt's parser gave up.
            return web.json_response({"ok": False, "error": "invalid_body"}, status=400)
        response = await bridge.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    async def handoff_notice(request: web.Request) -> web.Response:
        if not _bearer_matches(request, bridge.settings.parlant_token):
            return web.json_response(
                {"ok": False, "error": "not_authed"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            body: Any = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        raw = body.get("session_id") if isinstance(body, dict) else None
        session_id = parse_session_id(raw.strip()) if isinstance(raw, str) else None
        if session_id is None:
            return web.json_response({"ok": False, "error": "invalid_session_id"}, status=400)
        logger.info("handoff notice for %s", session_id)
        bridge.mirror.request_check(session_id)
        return web.json_response({"ok": True}, status=202)

    async def health(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "mode": "socket" if bridge.settings.socket_mode else "http",
                "push_stream": bridge.watcher.streaming,
                "open_threads": len(bridge.mirror.mirrored_sessions),
            }
        )

    app = web.Application(client_max_size=1024 * 1024)
    if not bridge.settings.socket_mode:
        app.router.add_post(SLACK_EVENTS_PATH, slack_events)
    app.router.add_post(HANDOFF_NOTICE_PATH, handoff_notice)
    app.router.add_get(HEALTH_PATH, health)
    return app


def _signed_by_slack(body: bytes, request: web.Request, secret: Secret) -> bool:
    """slack-sdk's check of ``X-Slack-Signature``; a body that is not even UTF-8 cannot
    have come from Slack (and the verifier cannot read it)."""
    try:
        return SignatureVerifier(secret.reveal()).is_valid_request(body, dict(request.headers))
    except UnicodeDecodeError:
        return False


def _bearer_matches(request: web.Request, token: Secret) -> bool:
    presented = bearer_token(request.headers.get("Authorization"))
    return presented is not None and token.matches(presented)


def _reconnect_listener(
    bridge: Bridge,
) -> Callable[[AsyncBaseSocketModeClient, dict[str, Any], str | None], Awaitable[None]]:
    """Slack says ``hello`` on every Socket Mode connection; after the first, catch up."""
    connections = 0

    async def on_message(
        _client: AsyncBaseSocketModeClient, message: dict[str, Any], _raw: str | None
    ) -> None:
        nonlocal connections
        if message.get("type") == "hello":
            connections += 1
            if connections > 1:
                logger.info("Socket Mode reconnected; reading open threads for missed replies")
                bridge.slack_reconnected()

    return on_message


async def run_bridge(settings: BridgeSettings) -> None:
    """Run until cancelled; everything started here is stopped on the way out."""
    bridge = await open_bridge(settings)
    runner: web.AppRunner | None = None
    socket_mode: AsyncSocketModeHandler | None = None
    try:
        await bridge.start()  # resumes and holds deliveries before new requests come in
        runner = web.AppRunner(web_app(bridge), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        if settings.app_token is not None:
            socket_mode = AsyncSocketModeHandler(bridge.app, settings.app_token.reveal())
            socket_mode.client.message_listeners.append(_reconnect_listener(bridge))
            bridge.listening.connected = socket_mode.client.is_connected
            await socket_mode.connect_async()  # type: ignore[no-untyped-call]
        mode = "Socket Mode" if socket_mode else f"HTTP mode at {SLACK_EVENTS_PATH}"
        logger.info(
            "bridge ready on http://%s:%s (%s), channel %s, Parlant %s",
            settings.host,
            settings.port,
            mode,
            settings.handoff_channel,
            settings.parlant_url,
        )
        await asyncio.Event().wait()
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        await bridge.close()
