"""What people (and other bots) do in channels: post, reply, edit, delete, share, react; and
opening the app's App Home.

Each action changes the stored state the way Slack would and emits the event Slack would send
to the app; delivery happens in the background.
"""

from __future__ import annotations

from typing import Any

from tests.slack_emulator import methods_chat, payloads, render
from tests.slack_emulator.messages import Message
from tests.slack_emulator.records import ViewState
from tests.slack_emulator.state import SlackState

JsonDict = dict[str, Any]


def escape(text: str) -> str:
    """What Slack's clients send for typed text: &, < and > as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _member_check(state: SlackState, user_id: str, channel: str) -> None:
    state.workspace.user(user_id)
    if user_id not in state.workspace.channel(channel).members:
        raise ValueError(f"{user_id} is not a member of {channel}; Slack would not let them post")


def _thread_fields(state: SlackState, channel: str, thread_ts: str | None) -> JsonDict:
    if thread_ts is None:
        return {}
    parent = state.thread_parent(channel, thread_ts)
    if parent is None:
        raise ValueError(f"no message {thread_ts} in {channel} to reply to")
    return {"thread_ts": parent.ts, "parent_user_id": parent.author}


def post_message(
    state: SlackState,
    user_id: str,
    channel: str,
    text: str,
    thread_ts: str | None = None,
    *,
    raw: bool = False,
    broadcast: bool = False,
    blocks: list[JsonDict] | None = None,
) -> Message:
    """A human types a message (or a thread reply); ``raw`` skips Slack's client escaping."""
    _member_check(state, user_id, channel)
    wire_text = text if raw else escape(text)
    thread = _thread_fields(state, channel, thread_ts)
    message = state.new_message(
        channel,
        user_id,
        wire_text,
        client_msg_id=state.ids.client_msg_id(),
        subtype="thread_broadcast" if broadcast and thread else None,
        **thread,
    )
    message.blocks = (
        blocks
        if blocks is not None
        else payloads.rich_text_blocks(state.ids.next("", 5).lower(), text)
    )
    state.store_message(message)
    state.emit(payloads.message_event(state, message))
    if f"<@{state.workspace.bot.id}>" in wire_text:
        mention = payloads.message_event(state, message)
        mention["type"] = "app_mention"
        mention.pop("channel_type", None)
        state.emit(mention)
    return message


def post_bot_message(
    state: SlackState,
    bot_user_id: str,
    channel: str,
    text: str,
    thread_ts: str | None = None,
    *,
    classic: bool = False,
    username: str | None = None,
) -> Message:
    """Another app posts; a ``classic`` bot has no user and the ``bot_message`` subtype."""
    bot = state.workspace.user(bot_user_id)
    if not bot.is_bot:
        raise ValueError(f"{bot_user_id} is not a bot")
    if bot.id not in state.workspace.channel(channel).members:
        raise ValueError(f"{bot_user_id} is not a member of {channel}")
    message = state.new_message(channel, bot.id, text, **_thread_fields(state, channel, thread_ts))
    if classic:
        message.user = None
        message.subtype = "bot_message"
        message.username = username or bot.name
    else:
        message.username = username
    state.store_message(message)
    state.emit(payloads.message_event(state, message))
    return message


def _authored(state: SlackState, channel: str, ts: str) -> Message:
    message = state.messages.get(channel, ts)
    if message is None:
        raise ValueError(f"no message {ts} in {channel}")
    return message


def edit_message(
    state: SlackState, user_id: str, channel: str, ts: str, text: str, *, raw: bool = False
) -> Message:
    message = _authored(state, channel, ts)
    if message.user != user_id:
        raise ValueError(f"{user_id} cannot edit {ts}: it is by {message.author}")
    before = render.message(state, message)
    message.text = text if raw else escape(text)
    if message.blocks and message.blocks[0].get("type") == "rich_text":
        message.blocks = payloads.rich_text_blocks(message.blocks[0].get("block_id", "x"), text)
    message.edited = {"user": user_id, "ts": state.clock.next()}
    state.emit(payloads.message_changed_event(state, before, message))
    return message


def delete_message(state: SlackState, channel: str, ts: str) -> None:
    methods_chat.delete_stored(state, _authored(state, channel, ts))


def share_file(
    state: SlackState,
    user_id: str,
    channel: str,
    thread_ts: str | None,
    name: str,
    text: str = "",
) -> Message:
    """A human uploads a file (with an optional comment): a ``file_share`` message."""
    _member_check(state, user_id, channel)
    file_id = state.ids.next("F")
    message = state.new_message(
        channel,
        user_id,
        escape(text),
        subtype="file_share",
        files=[render.file_object(state, file_id, name, user_id)],
        client_msg_id=state.ids.client_msg_id(),
        **_thread_fields(state, channel, thread_ts),
    )
    if text:
        message.blocks = payloads.rich_text_blocks(state.ids.next("", 5).lower(), text)
    state.store_message(message)
    state.emit(payloads.message_event(state, message))
    return message


def react(state: SlackState, user_id: str, channel: str, ts: str, name: str, *, add: bool) -> None:
    _member_check(state, user_id, channel)
    message = _authored(state, channel, ts)
    users = message.reactions.setdefault(name, [])
    if add and user_id not in users:
        users.append(user_id)
    elif not add and user_id in users:
        users.remove(user_id)
    if not users:
        del message.reactions[name]
    kind = "reaction_added" if add else "reaction_removed"
    state.emit(payloads.reaction_event(state, kind, user_id, message, name))


APP_HOME_TABS = ("home", "messages")


def open_app_home(state: SlackState, user_id: str, tab: str = "home") -> None:
    """A person opens the app's App Home on ``tab``; Slack says so with ``app_home_opened``."""
    if tab not in APP_HOME_TABS:
        raise ValueError(f"the App Home has the tabs {APP_HOME_TABS}, not {tab!r}")
    ws = state.workspace
    user = ws.user(user_id)
    if ws.team_of(user.id) not in ws.app_installed_teams:
        raise ValueError(f"{user_id}'s workspace has not installed the app: no App Home for them")
    dm = ws.open_dm(user.id)
    view = next(
        (v for v in state.views.values() if v.user == user.id and v.state is ViewState.PUBLISHED),
        None,
    )
    state.emit(payloads.app_home_opened_event(state, user, dm.id, tab, view))
