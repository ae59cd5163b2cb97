"""What Slack sends to the app: Events API envelopes, slash command forms, interaction payloads."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from tests.slack_emulator import render
from tests.slack_emulator.messages import Message
from tests.slack_emulator.records import Ephemeral, View
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.workspace import User

JsonDict = dict[str, Any]


# --- Events API --------------------------------------------------------------------------------


def event_envelope(state: SlackState, event: JsonDict, event_id: str) -> JsonDict:
    """The ``event_callback`` wrapper around an event, as delivered to the request URL."""
    ws = state.workspace
    context = {"id": event_id, "team": ws.team_id, "channel": event.get("channel")}
    return {
        "token": state.credentials.verification_token,
        "team_id": ws.team_id,
        "context_team_id": ws.team_id,
        "context_enterprise_id": None,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot.id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": isinstance(event.get("channel"), str)
        and ws.is_ext_shared(str(event["channel"])),
        "event_context": "4-" + base64.urlsafe_b64encode(json.dumps(context).encode()).decode(),
    }


def _channel_fields(state: SlackState, channel: str, event_ts: str) -> JsonDict:
    return {
        "channel": channel,
        "event_ts": event_ts,
        "channel_type": state.workspace.channel(channel).channel_type,
    }


def _teams_of_poster(state: SlackState, msg: Message) -> JsonDict:
    """``user_team``/``source_team`` of a person's message: the poster's own workspace.

    Slack adds both to events for messages people post (a Slack Connect user's team is another
    workspace; ``team`` is theirs too). Messages by bots carry neither.
    """
    user = state.workspace.users.get(msg.user or "")
    if user is None or user.is_bot:
        return {}
    team = state.workspace.team_of(user.id)
    return {"user_team": team, "source_team": team}


def message_event(state: SlackState, msg: Message) -> JsonDict:
    """``message`` event for a new message (human, the app's own post, another bot)."""
    event = render.message(state, msg, thread_stats=False)
    event.update(_teams_of_poster(state, msg))
    event.update(_channel_fields(state, msg.channel, msg.ts))
    return event


def message_changed_event(state: SlackState, before: JsonDict, after: Message) -> JsonDict:
    """``message_changed``: an edit, or (``after`` deleted) a thread parent become a tombstone.

    ``before`` is ``render.message`` of the message as it was; a thread parent carries its
    ``thread_ts`` and reply figures in both, as Slack shows them.
    """
    event_ts = state.clock.next()
    event: JsonDict = {
        "type": "message",
        "subtype": "message_changed",
        "message": {
            **render.message(state, after),
            **({} if after.deleted else _teams_of_poster(state, after)),
        },
        "previous_message": before,
        "hidden": True,
        "ts": event_ts,
    }
    event.update(_channel_fields(state, after.channel, event_ts))
    return event


def message_deleted_event(state: SlackState, before: JsonDict, channel: str) -> JsonDict:
    event_ts = state.clock.next()
    event: JsonDict = {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": before,
        "deleted_ts": before["ts"],
        "hidden": True,
        "ts": event_ts,
    }
    if "thread_ts" in before and before["thread_ts"] != before["ts"]:
        event["thread_ts"] = before["thread_ts"]
    event.update(_channel_fields(state, channel, event_ts))
    return event


def reaction_event(state: SlackState, kind: str, user: str, msg: Message, name: str) -> JsonDict:
    return {
        "type": kind,
        "user": user,
        "reaction": name,
        "item_user": msg.author,
        "item": {"type": "message", "channel": msg.channel, "ts": msg.ts},
        "event_ts": state.clock.next(),
    }


def app_home_opened_event(
    state: SlackState, user: User, channel: str, tab: str, view: View | None
) -> JsonDict:
    """``app_home_opened``: ``channel`` is the person's DM with the app; ``view`` (the Home
    tab as last published for them) comes only with the Home tab."""
    event: JsonDict = {
        "type": "app_home_opened",
        "user": user.id,
        "channel": channel,
        "tab": tab,
        "event_ts": state.clock.next(),
    }
    if tab == "home" and view is not None:
        event["view"] = view.to_api()
    return event


def rich_text_blocks(block_id: str, text: str) -> list[JsonDict]:
    """The rich_text block Slack's clients attach to what a human typed."""
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]


# --- slash commands and interactivity ----------------------------------------------------------


def channel_name(state: SlackState, channel: str) -> str:
    """The ``channel_name`` Slack puts in commands and interactions ("directmessage" for DMs)."""
    chan = state.workspace.channel(channel)
    return "directmessage" if chan.is_im else chan.name


def slash_command_form(
    state: SlackState,
    user: User,
    channel: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form Slack posts for a command; ``team_id`` is the workspace it was run from."""
    ws = state.workspace
    team = ws.team_of(user.id)
    return {
        "token": state.credentials.verification_token,
        "team_id": team,
        "team_domain": ws.team_domain(team),
        "channel_id": channel,
        "channel_name": channel_name(state, channel),
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _user_ref(state: SlackState, user: User) -> JsonDict:
    """``user`` of interaction payloads; ``team_id`` is the person's own workspace."""
    return {
        "id": user.id,
        "username": user.name,
        "name": user.name,
        "team_id": state.workspace.team_of(user.id),
    }


def _common(state: SlackState, kind: str, user: User, trigger_id: str) -> JsonDict:
    # ``team`` is the acting person's workspace, as Bolt reads it (its actor team id); for a
    # Slack Connect user that is not the app's workspace.
    ws = state.workspace
    team = ws.team_of(user.id)
    return {
        "type": kind,
        "user": _user_ref(state, user),
        "api_app_id": ws.app_id,
        "token": state.credentials.verification_token,
        "trigger_id": trigger_id,
        "team": {"id": team, "domain": ws.team_domain(team)},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def _action(state: SlackState, block_id: str | None, element: JsonDict) -> JsonDict:
    action: JsonDict = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": element.get("type", "button"),
        "action_ts": state.clock.next(),
    }
    for key in ("text", "value", "style", "url"):
        if key in element:
            action[key] = element[key]
    return action


def _message_container(
    channel: str, message_ts: str, thread_ts: str | None, *, is_ephemeral: bool
) -> JsonDict:
    container: JsonDict = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts:
        container["thread_ts"] = thread_ts
    return container


def block_actions_payload(
    state: SlackState,
    user: User,
    msg: Message,
    block_id: str | None,
    element: JsonDict,
    response_url: str,
    trigger_id: str,
) -> JsonDict:
    payload = _common(state, "block_actions", user, trigger_id)
    payload.update(
        {
            "container": _message_container(msg.channel, msg.ts, msg.thread_ts, is_ephemeral=False),
            "channel": {"id": msg.channel, "name": channel_name(state, msg.channel)},
            "message": render.message(state, msg),
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [_action(state, block_id, element)],
        }
    )
    return payload


def ephemeral_block_actions_payload(
    state: SlackState,
    user: User,
    ephemeral: Ephemeral,
    block_id: str | None,
    element: JsonDict,
    response_url: str,
    trigger_id: str,
) -> JsonDict:
    """A click on an ephemeral: Slack says so in ``container`` and sends no ``message``."""
    payload = _common(state, "block_actions", user, trigger_id)
    payload.update(
        {
            "container": _message_container(
                ephemeral.channel, ephemeral.ts, ephemeral.thread_ts, is_ephemeral=True
            ),
            "channel": {"id": ephemeral.channel, "name": channel_name(state, ephemeral.channel)},
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [_action(state, block_id, element)],
        }
    )
    return payload


def view_block_actions_payload(
    state: SlackState,
    user: User,
    view: View,
    block_id: str | None,
    element: JsonDict,
    trigger_id: str,
) -> JsonDict:
    """A click in a view (the Home tab): ``container`` names the view, which comes whole;
    there is no ``channel``, ``message`` or ``response_url``."""
    payload = _common(state, "block_actions", user, trigger_id)
    payload.update(
        {
            "container": {"type": "view", "view_id": view.id},
            "view": view.to_api(),
            "state": {"values": {}},
            "actions": [_action(state, block_id, element)],
        }
    )
    return payload


def message_action_payload(
    state: SlackState,
    user: User,
    msg: Message,
    callback_id: str,
    response_url: str,
    trigger_id: str,
) -> JsonDict:
    payload = _common(state, "message_action", user, trigger_id)
    payload.update(
        {
            "callback_id": callback_id,
            "action_ts": state.clock.next(),
            "message_ts": msg.ts,
            "channel": {"id": msg.channel, "name": channel_name(state, msg.channel)},
            "message": render.message(state, msg),
            "response_url": response_url,
        }
    )
    return payload


def view_submission_payload(
    state: SlackState, user: User, view: View, values: JsonDict, trigger_id: str
) -> JsonDict:
    payload = _common(state, "view_submission", user, trigger_id)
    api_view = view.to_api()
    api_view["state"] = {"values": values}
    payload.update({"view": api_view, "response_urls": []})
    return payload


def state_value(element: JsonDict, value: Any) -> JsonDict:
    """A view.state.values entry for ``element`` holding ``value`` (dicts pass through)."""
    kind = str(element.get("type", "plain_text_input"))
    if isinstance(value, dict):
        return {"type": kind, **value}
    options = {
        str(option.get("value")): option
        for option in element.get("options", [])
        if isinstance(option, dict)
    }
    if kind in ("static_select", "radio_buttons", "external_select"):
        option = options.get(
            str(value), {"text": {"type": "plain_text", "text": value}, "value": value}
        )
        return {"type": kind, "selected_option": option}
    if kind in ("checkboxes", "multi_static_select"):
        chosen = value if isinstance(value, list) else [value]
        return {
            "type": kind,
            "selected_options": [options.get(str(v), {"value": v}) for v in chosen],
        }
    simple = {
        "users_select": "selected_user",
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
        "datepicker": "selected_date",
        "timepicker": "selected_time",
        "number_input": "value",
        "email_text_input": "value",
        "url_text_input": "value",
    }
    return {"type": kind, simple.get(kind, "value"): value}
