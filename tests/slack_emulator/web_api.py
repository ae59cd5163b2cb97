"""The Web API endpoint ``/api/<method>``: parsing, auth, spec checks, faults, rate limits.

Order, as Slack: parse, (injected delay), spec check, injected failure (``fail_next``,
outage), auth, rate limit, thread refusal (chat.postMessage), the method itself, then the
answer, which an injected fault may lose after the call took effect.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiohttp import web

from tests.slack_emulator.faults import Fault, FaultPlan
from tests.slack_emulator.limits import RateLimiter
from tests.slack_emulator.records import Answer, ApiCall
from tests.slack_emulator.spec_requests import check_request
from tests.slack_emulator.state import SlackState

JsonDict = dict[str, Any]
logger = logging.getLogger(__name__)

_TRUE = {"true", "1", "True", "yes"}


class TokenKind(StrEnum):
    BOT = "bot"
    APP = "app"


class ApiError(Exception):
    """A Slack error answer: ``{"ok": false, "error": error, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> JsonDict:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(*messages: str) -> ApiError:
    return ApiError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]}
    )


@dataclass
class ApiRequest:
    """One parsed call: the method, its parameters (query and body merged), who is calling."""

    method: str
    params: JsonDict
    token_kind: TokenKind
    actor: str
    base_url: str

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name, default)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def require(self, name: str, error: str = "invalid_arguments") -> str:
        value = self.text(name)
        if not value:
            if error == "invalid_arguments":
                raise invalid_arguments(f"missing required field: {name}")
            raise ApiError(error)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        return value if isinstance(value, bool) else str(value) in _TRUE

    def number(self, name: str, default: int) -> int:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        try:
            return int(str(value))
        except ValueError:
            raise ApiError("invalid_arguments") from None

    def json_value(self, name: str, error: str) -> Any:
        """A JSON-valued parameter (a JSON string in forms, a value in JSON bodies)."""
        value = self.params.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(error) from None


Handler = Callable[[SlackState, ApiRequest], JsonDict]


class WebApi:
    """Answers ``/api/<method>`` like Slack and records every call and spec violation."""

    def __init__(self, state: SlackState, faults: FaultPlan, limiter: RateLimiter) -> None:
        self.state = state
        self.faults = faults
        self.limiter = limiter
        self.handlers: dict[str, Handler] = {}
        self.base_url = ""

    def register(self, handlers: Mapping[str, Handler]) -> None:
        self.handlers.update(handlers)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ApiError as error:
            return self._answer(method, {}, None, error.body(), 200)
        delay = self.faults.take_delay(method)
        if delay:
            await asyncio.sleep(delay)
        visible_params = {k: v for k, v in params.items() if k != "token"}
        for violation in check_request(method, params):
            logger.error("Slack spec violation: %s", violation)
            self.state.spec_violations.append(violation)
        fault = self.faults.take(method)
        if fault is not None:
            return self._answer(
                method, visible_params, None, fault.body, fault.status, fault.headers
            )
        if method not in self.handlers:
            body = {"ok": False, "error": "unknown_method", "req_method": method}
            return self._answer(method, visible_params, None, body, 200)
        token = _token(request, params)
        credentials = self.state.credentials
        kinds = {credentials.bot_token: TokenKind.BOT, credentials.app_token: TokenKind.APP}
        if token is None:
            return self._answer(method, visible_params, None, ApiError("not_authed").body(), 200)
        if token not in kinds:
            return self._answer(method, visible_params, None, ApiError("invalid_auth").body(), 200)
        kind = kinds[token]
        wants_app_token = method == "apps.connections.open"
        if (kind is TokenKind.APP) != wants_app_token:
            body = ApiError("not_allowed_token_type").body()
            return self._answer(method, visible_params, kind, body, 200)
        retry_after = self.limiter.retry_after(method, _channel_param(params))
        if retry_after is not None:
            body = {"ok": False, "error": "ratelimited"}
            headers = {"Retry-After": str(retry_after)}
            return self._answer(method, visible_params, kind, body, 429, headers)
        refusal = self._thread_refusal(method, params)
        if refusal is not None:
            return self._answer(method, visible_params, kind, ApiError(refusal).body(), 200)
        lost = self.faults.take_lost(method)
        actor = self.state.workspace.bot.id if kind is TokenKind.BOT else ""
        api_request = ApiRequest(method, params, kind, actor, self.base_url)
        try:
            body = {"ok": True, **self.handlers[method](self.state, api_request)}
        except ApiError as error:
            body = error.body()
        if lost is not None:
            return await self._lose_answer(request, method, visible_params, kind, body, lost)
        return self._answer(method, visible_params, kind, body, 200)

    def _thread_refusal(self, method: str, params: JsonDict) -> str | None:
        """The error for a chat.postMessage into a thread ``refuse_thread`` closed, if any."""
        thread_ts = params.get("thread_ts")
        reference = _channel_param(params)
        if method != "chat.postMessage" or not isinstance(thread_ts, str) or not reference:
            return None
        ws = self.state.workspace
        channel = ws.channels.get(reference) or next(
            (c for c in ws.channels.values() if c.name and c.name == reference.removeprefix("#")),
            None,
        )
        if channel is None or not ws.bot_is_member(channel.id):
            return None  # the method itself will refuse the channel
        parent = self.state.thread_parent(channel.id, thread_ts)
        return self.faults.thread_refusal(channel.id, parent.ts if parent else thread_ts)

    async def _lose_answer(
        self,
        request: web.Request,
        method: str,
        params: JsonDict,
        kind: TokenKind,
        handled: JsonDict,
        lost: Fault,
    ) -> web.Response:
        """Answers a call that took effect the way ``lost`` says: error, silence or late."""
        if lost.drop:
            self._record(method, params, kind, {}, 0, Answer.DROPPED, handled)
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client
        if lost.delay:
            self._record(method, params, kind, handled, 200, Answer.DELAYED, handled)
            await asyncio.sleep(lost.delay)
            return web.json_response(handled)
        self._record(method, params, kind, lost.body, lost.status, Answer.REPLACED, handled)
        return web.json_response(lost.body, status=lost.status, headers=lost.headers)

    def _answer(
        self,
        method: str,
        params: JsonDict,
        kind: TokenKind | None,
        body: JsonDict,
        status: int,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        self._record(method, params, kind, body, status)
        return web.json_response(body, status=status, headers=headers)

    def _record(
        self,
        method: str,
        params: JsonDict,
        kind: TokenKind | None,
        body: JsonDict,
        status: int,
        answer: Answer = Answer.SENT,
        handled: JsonDict | None = None,
    ) -> None:
        self.state.calls.append(
            ApiCall(
                method=method,
                params=params,
                http_status=status,
                response=body,
                token_kind=kind.value if kind else None,
                answer=answer,
                handled=handled,
            )
        )


def _channel_param(params: JsonDict) -> str | None:
    channel = params.get("channel")
    return channel if isinstance(channel, str) else None


def _token(request: web.Request, params: JsonDict) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    token = params.get("token")
    return token if isinstance(token, str) and token else None


async def _read_params(request: web.Request) -> JsonDict:
    params: JsonDict = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError("invalid_json") from None
        if not isinstance(body, dict):
            raise ApiError("json_not_object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
    elif request.content_type not in ("", "application/octet-stream", "text/plain"):
        raise ApiError("invalid_post_type")
    return params
