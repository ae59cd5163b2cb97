"""auth.test, conversations.replies/history/info and users.info."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from tests.slack_emulator import render
from tests.slack_emulator.content import channel_for_bot
from tests.slack_emulator.ids import ts_key
from tests.slack_emulator.messages import Message
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.web_api import ApiError, ApiRequest, Handler

JsonDict = dict[str, Any]

MAX_LIMIT = 1000


def auth_test(state: SlackState, req: ApiRequest) -> JsonDict:
    ws = state.workspace
    return {
        "url": ws.url,
        "team": ws.team_name,
        "user": ws.bot.name,
        "team_id": ws.team_id,
        "user_id": ws.bot.id,
        "bot_id": ws.bot.bot_id,
        "is_enterprise_install": False,
    }


def _cursor(ts: str) -> str:
    # Like Slack's: base64 of "next_ts:<ts without the dot>".
    return base64.b64encode(f"next_ts:{ts.replace('.', '')}".encode()).decode()


def _cursor_ts(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None
    digits = decoded.removeprefix("next_ts:")
    if not decoded.startswith("next_ts:") or len(digits) != 16 or not digits.isdigit():
        raise ApiError("invalid_cursor")
    return f"{digits[:10]}.{digits[10:]}"


def _window(req: ApiRequest) -> tuple[tuple[int, int], tuple[int, int], bool]:
    try:
        oldest = ts_key(req.text("oldest") or "0")
        latest = ts_key(req.text("latest") or "9999999999.999999")
    except ValueError:
        raise ApiError("invalid_ts_oldest") from None
    return oldest, latest, req.flag("inclusive")


def _in_window(msg: Message, window: tuple[tuple[int, int], tuple[int, int], bool]) -> bool:
    oldest, latest, inclusive = window
    key = ts_key(msg.ts)
    if inclusive:
        return oldest <= key <= latest
    return oldest < key < latest


def _limit(req: ApiRequest, default: int) -> int:
    limit = req.number("limit", default)
    return default if limit <= 0 else min(limit, MAX_LIMIT)


def _page(
    items: list[Message], req: ApiRequest, default_limit: int
) -> tuple[list[Message], str | None]:
    """Slices ``items`` from the cursor; returns the page and the next cursor."""
    start = 0
    cursor = req.text("cursor")
    if cursor:
        after = _cursor_ts(cursor)
        start = next((i for i, m in enumerate(items) if m.ts == after), len(items))
    limit = _limit(req, default_limit)
    page = items[start : start + limit]
    rest = items[start + limit :]
    return page, _cursor(rest[0].ts) if rest else None


def _paged_body(messages: list[JsonDict], next_cursor: str | None) -> JsonDict:
    body: JsonDict = {"messages": messages, "has_more": next_cursor is not None}
    if next_cursor:
        body["response_metadata"] = {"next_cursor": next_cursor}
    return body


def conversations_replies(state: SlackState, req: ApiRequest) -> JsonDict:
    """The parent first, then replies in ts order, paginated like Slack."""
    channel = _readable_channel(state, req)
    ts = req.require("ts", "thread_not_found")
    parent = state.thread_parent(channel, ts)
    if parent is None:
        raise ApiError("thread_not_found")
    window = _window(req)
    replies = [m for m in state.messages.replies(channel, parent.ts) if _in_window(m, window)]
    page, next_cursor = _page([parent, *replies], req, MAX_LIMIT)
    metadata = req.flag("include_all_metadata")
    return _paged_body(
        [render.message(state, m, include_metadata=metadata) for m in page], next_cursor
    )


def conversations_history(state: SlackState, req: ApiRequest) -> JsonDict:
    """Top-level messages, newest first, paginated like Slack."""
    channel = _readable_channel(state, req)
    window = _window(req)
    newest_first = [m for m in reversed(state.messages.top_level(channel)) if _in_window(m, window)]
    page, next_cursor = _page(newest_first, req, 100)
    metadata = req.flag("include_all_metadata")
    body = _paged_body(
        [render.message(state, m, include_metadata=metadata) for m in page], next_cursor
    )
    body.update({"pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0})
    return body


def _readable_channel(state: SlackState, req: ApiRequest) -> str:
    return channel_for_bot(state, req.text("channel")).id


def conversations_info(state: SlackState, req: ApiRequest) -> JsonDict:
    ws = state.workspace
    channel = ws.channels.get(req.text("channel") or "")
    if channel is None or (channel.is_private and ws.bot.id not in channel.members):
        raise ApiError("channel_not_found")
    return {"channel": render.channel(ws, channel, num_members=req.flag("include_num_members"))}


def users_info(state: SlackState, req: ApiRequest) -> JsonDict:
    ws = state.workspace
    user = ws.users.get(req.text("user") or "")
    if user is None:
        raise ApiError("user_not_found")
    return {"user": render.user(ws, user)}


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "conversations.replies": conversations_replies,
    "conversations.history": conversations_history,
    "conversations.info": conversations_info,
    "users.info": users_info,
}
