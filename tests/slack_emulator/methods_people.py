"""Who is where: conversations.members, usergroups.users.list and usergroups.list."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from tests.slack_emulator import render
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.web_api import ApiError, ApiRequest, Handler
from tests.slack_emulator.workspace import Channel

JsonDict = dict[str, Any]

MEMBERS_DEFAULT_LIMIT = 100
MEMBERS_MAX_LIMIT = 1000


def _member_cursor(user_id: str) -> str:
    # Like Slack's: base64 of "user:<the next member's id>" (e.g. "dXNlcjpVMDYxTkZUVDI=").
    return base64.b64encode(f"user:{user_id}".encode()).decode()


def _cursor_user(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None
    user_id = decoded.removeprefix("user:")
    if not decoded.startswith("user:") or not user_id:
        raise ApiError("invalid_cursor")
    return user_id


def _visible_channel(state: SlackState, reference: str | None) -> Channel:
    """A conversation the bot may list: any public channel, private ones and DMs it is in."""
    ws = state.workspace
    channel = ws.channels.get(reference or "")
    if channel is None or (channel.is_private and ws.bot.id not in channel.members):
        raise ApiError("channel_not_found")
    return channel


def conversations_members(state: SlackState, req: ApiRequest) -> JsonDict:
    """Member ids, paginated by cursor; the last page has an empty ``next_cursor``.

    Members come in a stable order (by id); a cursor names the next member to return, so
    pages stay consistent while people join or leave.
    """
    channel = _visible_channel(state, req.text("channel"))
    limit = req.number("limit", MEMBERS_DEFAULT_LIMIT)
    if limit < 0:
        raise ApiError("invalid_limit")
    limit = min(limit or MEMBERS_DEFAULT_LIMIT, MEMBERS_MAX_LIMIT)
    members = sorted(channel.members)
    cursor = req.text("cursor")
    if cursor:
        after = _cursor_user(cursor)
        members = [m for m in members if m >= after]
    page, rest = members[:limit], members[limit:]
    return {
        "members": page,
        "response_metadata": {"next_cursor": _member_cursor(rest[0]) if rest else ""},
    }


def usergroups_users_list(state: SlackState, req: ApiRequest) -> JsonDict:
    """The group's member ids; ``no_such_subteam`` for an unknown (or, without
    ``include_disabled``, a disabled) group."""
    group = state.workspace.usergroups.get(req.require("usergroup"))
    if group is None or (not group.enabled and not req.flag("include_disabled")):
        raise ApiError("no_such_subteam")
    return {"users": list(group.users)}


def usergroups_list(state: SlackState, req: ApiRequest) -> JsonDict:
    include_disabled = req.flag("include_disabled")
    return {
        "usergroups": [
            render.usergroup(
                group,
                include_users=req.flag("include_users"),
                include_count=req.flag("include_count"),
            )
            for group in state.workspace.usergroups.values()
            if group.enabled or include_disabled
        ]
    }


HANDLERS: dict[str, Handler] = {
    "conversations.members": conversations_members,
    "usergroups.users.list": usergroups_users_list,
    "usergroups.list": usergroups_list,
}
