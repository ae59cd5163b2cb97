"""chat.postMessage, chat.update, chat.delete, chat.postEphemeral, chat.getPermalink and
reactions.add/remove."""

from __future__ import annotations

from typing import Any

from tests.slack_emulator import payloads, render
from tests.slack_emulator.content import channel_for_bot, parse_content
from tests.slack_emulator.messages import Message
from tests.slack_emulator.records import EphemeralSource
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.web_api import ApiError, ApiRequest, Handler

JsonDict = dict[str, Any]


def post_message(state: SlackState, req: ApiRequest) -> JsonDict:
    channel = channel_for_bot(state, req.text("channel"))
    if channel.is_archived:
        raise ApiError("is_archived")
    content = parse_content(req.params)
    if content.empty:
        raise ApiError("no_text")
    parent = state.thread_parent(channel.id, req.text("thread_ts"))
    # Like Slack, an unknown thread_ts is ignored: the message is posted top-level.
    broadcast = parent is not None and req.flag("reply_broadcast")
    icons: dict[str, str] | None = None
    if req.text("icon_emoji"):
        icons = {"emoji": req.require("icon_emoji")}
    elif req.text("icon_url"):
        icons = {"image_64": req.require("icon_url")}
    message = state.new_message(
        channel.id,
        req.actor,
        content.text or "",
        thread_ts=parent.ts if parent else None,
        parent_user_id=parent.author if parent else None,
        subtype="thread_broadcast" if broadcast else None,
        blocks=content.blocks,
        attachments=content.attachments,
        metadata=content.metadata,
        username=req.text("username"),
        icons=icons,
        mrkdwn=req.flag("mrkdwn", True),
        unfurl_links=req.flag("unfurl_links") if "unfurl_links" in req.params else None,
        unfurl_media=req.flag("unfurl_media") if "unfurl_media" in req.params else None,
    )
    state.store_message(message)
    state.emit(payloads.message_event(state, message))
    return {
        "channel": channel.id,
        "ts": message.ts,
        "message": render.message(state, message, thread_stats=False),
        **content.response_extras(),
    }


def _own_message(state: SlackState, req: ApiRequest, refusal: str) -> Message:
    channel = channel_for_bot(state, req.text("channel"))
    message = state.messages.get(channel.id, req.require("ts", "message_not_found"))
    if message is None:
        raise ApiError("message_not_found")
    if message.user != req.actor:
        raise ApiError(refusal)
    return message


def update(state: SlackState, req: ApiRequest) -> JsonDict:
    message = _own_message(state, req, "cant_update_message")
    content = parse_content(req.params, too_long_is_error=True)
    if content.empty and "blocks" not in req.params and "attachments" not in req.params:
        raise ApiError("no_text")
    before = render.message(state, message)
    if content.text is not None:
        message.text = content.text
    if content.blocks is not None:
        message.blocks = content.blocks or None  # [] removes the blocks
    if content.attachments is not None:
        message.attachments = content.attachments or None
    if content.metadata is not None:
        message.metadata = content.metadata
    if req.flag("reply_broadcast") and message.is_reply:
        message.subtype = "thread_broadcast"
    message.edited = {"user": req.actor, "ts": state.clock.next()}
    state.emit(payloads.message_changed_event(state, before, message))
    return {
        "channel": message.channel,
        "ts": message.ts,
        "text": message.text,
        "message": render.message(state, message, thread_stats=False),
    }


def delete(state: SlackState, req: ApiRequest) -> JsonDict:
    message = _own_message(state, req, "cant_delete_message")
    delete_stored(state, message)
    return {"channel": message.channel, "ts": message.ts}


def delete_stored(state: SlackState, message: Message) -> None:
    """Deletes like Slack and tells the app.

    A thread parent with replies stays as a tombstone, announced as ``message_changed``;
    anything else goes, announced as ``message_deleted``.
    """
    before = render.message(state, message)
    if not message.is_reply and state.messages.replies(message.channel, message.ts):
        message.deleted = True
        state.emit(payloads.message_changed_event(state, before, message))
        return
    state.messages.remove(message.channel, message.ts)
    state.emit(payloads.message_deleted_event(state, before, message.channel))


def post_ephemeral(state: SlackState, req: ApiRequest) -> JsonDict:
    channel = channel_for_bot(state, req.text("channel"))
    user_id = req.require("user", "user_not_found")
    if user_id not in state.workspace.users:
        raise ApiError("user_not_found")
    if user_id not in channel.members:
        raise ApiError("user_not_in_channel")
    content = parse_content(req.params)
    if content.empty:
        raise ApiError("no_text")
    ephemeral = state.add_ephemeral(
        user_id,
        channel.id,
        content.text or "",
        EphemeralSource.POST_EPHEMERAL,
        blocks=content.blocks,
        thread_ts=req.text("thread_ts"),
    )
    return {"message_ts": ephemeral.ts, **content.response_extras()}


def get_permalink(state: SlackState, req: ApiRequest) -> JsonDict:
    """``https://<domain>.slack.com/archives/<channel>/p<ts without the dot>``; a reply's
    link also names its thread (``?thread_ts=…&cid=…``), as Slack's are."""
    ws = state.workspace
    channel = ws.channels.get(req.text("channel") or "")
    if channel is None or (channel.is_private and not ws.bot_is_member(channel.id)):
        raise ApiError("channel_not_found")
    message = state.messages.get_including_tombstones(
        channel.id, req.require("message_ts", "message_not_found")
    )
    if message is None:
        raise ApiError("message_not_found")
    permalink = f"{ws.url}archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        permalink += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": permalink}


def _reaction_target(state: SlackState, req: ApiRequest) -> tuple[Message, str]:
    channel = channel_for_bot(state, req.text("channel"))
    name = req.require("name", "invalid_name").strip(":")
    if not name or " " in name:
        raise ApiError("invalid_name")
    message = state.messages.get(channel.id, req.require("timestamp", "message_not_found"))
    if message is None:
        raise ApiError("message_not_found")
    return message, name


def reactions_add(state: SlackState, req: ApiRequest) -> JsonDict:
    message, name = _reaction_target(state, req)
    users = message.reactions.setdefault(name, [])
    if req.actor in users:
        raise ApiError("already_reacted")
    users.append(req.actor)
    state.emit(payloads.reaction_event(state, "reaction_added", req.actor, message, name))
    return {}


def reactions_remove(state: SlackState, req: ApiRequest) -> JsonDict:
    message, name = _reaction_target(state, req)
    users = message.reactions.get(name, [])
    if req.actor not in users:
        raise ApiError("no_reaction")
    users.remove(req.actor)
    if not users:
        del message.reactions[name]
    state.emit(payloads.reaction_event(state, "reaction_removed", req.actor, message, name))
    return {}


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove,
}
