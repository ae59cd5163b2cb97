"""How Slack shows the app's answers to commands and interactions.

Two paths lead here: the immediate answer (HTTP response body or Socket Mode ack payload) and
later POSTs to a ``response_url``. Both take ``text``/``blocks``, ``response_type``
(``ephemeral`` by default, or ``in_channel``), ``replace_original``, ``delete_original`` and
``thread_ts``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.slack_emulator import methods_chat, payloads, render
from tests.slack_emulator.content import parse_content
from tests.slack_emulator.records import Ephemeral, EphemeralSource, ResponseUrl
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.web_api import ApiError

JsonDict = dict[str, Any]
logger = logging.getLogger(__name__)

_TRUE = (True, "true", "True", "1")


@dataclass(frozen=True)
class ResponseUrlPost:
    """One POST the app made to a response_url, and how it was answered."""

    token: str
    body: JsonDict
    status: int
    error: str | None = None


def apply_response(
    state: SlackState, context: ResponseUrl, body: JsonDict, source: EphemeralSource
) -> None:
    """Shows ``body`` to the user (or channel) the way Slack would; raises ApiError if invalid."""
    if body.get("delete_original") in _TRUE:
        _delete_original(state, context)
        return
    content = parse_content(body)
    if content.empty:
        raise ApiError("no_text")
    replace = body.get("replace_original") in _TRUE
    thread_ts = body.get("thread_ts") if isinstance(body.get("thread_ts"), str) else None
    if replace and context.message_ts:
        original = state.messages.get(context.channel, context.message_ts)
        if original is None:
            raise ApiError("message_not_found")
        before = render.message(state, original)
        original.text = content.text or ""
        original.blocks = content.blocks
        original.attachments = content.attachments
        original.edited = {"user": state.workspace.bot.id, "ts": state.clock.next()}
        state.emit(payloads.message_changed_event(state, before, original))
        return
    if body.get("response_type") == "in_channel":
        parent = state.thread_parent(context.channel, thread_ts)
        message = state.new_message(
            context.channel,
            state.workspace.bot.id,
            content.text or "",
            blocks=content.blocks,
            thread_ts=parent.ts if parent else None,
            parent_user_id=parent.author if parent else None,
        )
        state.store_message(message)
        state.emit(payloads.message_event(state, message))
        return
    replaced = _original_ephemeral(state, context) if replace else None
    if replaced is not None:
        # The replacement takes the original's place, in its thread.
        replaced.deleted = True
        thread_ts = replaced.thread_ts
    shown = state.add_ephemeral(
        context.user,
        context.channel,
        content.text or "",
        source,
        blocks=content.blocks,
        thread_ts=thread_ts,
    )
    if replaced is not None or not context.from_ephemeral:
        context.ephemeral_ts = shown.ts


def _original_ephemeral(state: SlackState, context: ResponseUrl) -> Ephemeral | None:
    return next(
        (
            e
            for e in state.ephemerals
            if e.ts == context.ephemeral_ts and e.user == context.user and not e.deleted
        ),
        None,
    )


def _delete_original(state: SlackState, context: ResponseUrl) -> None:
    if context.message_ts:
        original = state.messages.get(context.channel, context.message_ts)
        if original is None:
            raise ApiError("message_not_found")
        methods_chat.delete_stored(state, original)
        return
    ephemeral = _original_ephemeral(state, context)
    if ephemeral is not None:
        ephemeral.deleted = True


@dataclass
class ResponseUrlEndpoint:
    """Serves ``/response/<token>``: the response_url handed to the app."""

    state: SlackState
    posts: list[ResponseUrlPost] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._answer(token, {}, 400, "invalid_payload")
        context = self.state.take_response_url(token)
        if context is None:
            return self._answer(token, body, 404, "expired_url")
        try:
            apply_response(self.state, context, body, EphemeralSource.RESPONSE_URL)
        except ApiError as error:
            return self._answer(token, body, 400, error.error)
        return self._answer(token, body, 200, None)

    def _answer(self, token: str, body: JsonDict, status: int, error: str | None) -> web.Response:
        self.posts.append(ResponseUrlPost(token, body, status, error))
        if error:
            logger.warning("response_url post refused (%s): %s", error, json.dumps(body)[:300])
            return web.json_response({"ok": False, "error": error}, status=status)
        return web.json_response({"ok": True})
