"""Slack's JSON shapes for stored things: messages, users, channels, bot profiles, files."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.slack_emulator.messages import Message
from tests.slack_emulator.state import SlackState
from tests.slack_emulator.workspace import Channel, User, UserGroup, Workspace

JsonDict = dict[str, Any]

_ICON_BASE = "https://a.slack-edge.com/80588/img/plugins/app"


def bot_profile(workspace: Workspace, user: User) -> JsonDict:
    return {
        "id": user.bot_id,
        "deleted": False,
        "name": user.real_name,
        "updated": 1_700_000_000,
        "app_id": user.app_id,
        "icons": {
            "image_36": f"{_ICON_BASE}/bot_36.png",
            "image_48": f"{_ICON_BASE}/bot_48.png",
            "image_72": f"{_ICON_BASE}/service_72.png",
        },
        "team_id": workspace.team_id,
    }


def message(
    state: SlackState,
    msg: Message,
    *,
    include_metadata: bool = True,
    thread_stats: bool = True,
) -> JsonDict:
    """A message object as conversations.history/replies and events show it."""
    if msg.deleted:
        return _tombstone(state, msg)
    out: JsonDict = {"type": "message"}
    if msg.subtype:
        out["subtype"] = msg.subtype
    out["text"] = msg.text
    if msg.user:
        out["user"] = msg.user
    out["ts"] = msg.ts
    if msg.bot_id:
        out["bot_id"] = msg.bot_id
        out["app_id"] = msg.app_id
        bot_user = state.workspace.bot_user_by_bot_id(msg.bot_id)
        if bot_user is not None and msg.user:
            out["bot_profile"] = bot_profile(state.workspace, bot_user)
    if msg.username:
        out["username"] = msg.username
    if msg.icons:
        out["icons"] = dict(msg.icons)
    if msg.client_msg_id:
        out["client_msg_id"] = msg.client_msg_id
    out["team"] = msg.team
    if msg.blocks is not None:
        out["blocks"] = msg.blocks
    if msg.attachments:
        out["attachments"] = msg.attachments
    if msg.files:
        out["files"] = msg.files
        out["upload"] = False
        out["display_as_bot"] = False
    if msg.edited:
        out["edited"] = dict(msg.edited)
    if msg.metadata is not None and include_metadata:
        out["metadata"] = msg.metadata
    if msg.thread_ts:
        out["thread_ts"] = msg.thread_ts
        if msg.is_reply and msg.parent_user_id:
            out["parent_user_id"] = msg.parent_user_id
    if thread_stats and not msg.is_reply:
        stats = state.messages.thread_stats(msg)
        if stats:
            # A thread's parent carries its own ts as thread_ts, and the thread's figures.
            out["thread_ts"] = msg.ts
            out.update(stats)
            out["is_locked"] = False
    if msg.reactions:
        out["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)}
            for name, users in msg.reactions.items()
        ]
    return out


def _tombstone(state: SlackState, msg: Message) -> JsonDict:
    out: JsonDict = {
        "type": "message",
        "subtype": "tombstone",
        "text": "This message was deleted.",
        "user": "USLACKBOT",
        "ts": msg.ts,
        "thread_ts": msg.ts,
        "hidden": True,
        "team": msg.team,
    }
    out.update(state.messages.thread_stats(msg))
    return out


def user(workspace: Workspace, member: User) -> JsonDict:
    """A user object as users.info returns it.

    ``team_id`` (and ``profile.team``) is the user's own workspace: another one for a Slack
    Connect user. Guests have ``is_restricted``; single-channel guests also
    ``is_ultra_restricted``.
    """
    team_id = member.team_id or workspace.team_id
    display = member.display_name
    profile: JsonDict = {
        "real_name": member.real_name,
        "real_name_normalized": member.real_name,
        "display_name": display,
        "display_name_normalized": display,
        "avatar_hash": hashlib.md5(member.id.encode()).hexdigest()[:12],
        "title": "",
        "phone": "",
        "skype": "",
        "status_text": "",
        "status_emoji": "",
        "status_expiration": 0,
        "fields": None,
        "first_name": member.real_name.split(" ")[0],
        "last_name": " ".join(member.real_name.split(" ")[1:]),
        "image_48": f"https://secure.gravatar.com/avatar/{member.id}.jpg?s=48",
        "image_72": f"https://secure.gravatar.com/avatar/{member.id}.jpg?s=72",
        "team": team_id,
    }
    if member.email and not member.is_bot:
        profile["email"] = member.email
    if member.is_bot:
        profile["bot_id"] = member.bot_id
        profile["api_app_id"] = member.app_id
        profile["always_active"] = True
    return {
        "id": member.id,
        "team_id": team_id,
        "name": member.name,
        "deleted": member.deleted,
        "color": "9f69e7",
        "real_name": member.real_name,
        "tz": member.tz,
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "profile": profile,
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": member.is_restricted,
        "is_ultra_restricted": member.is_ultra_restricted,
        "is_bot": member.is_bot,
        "is_app_user": False,
        "updated": 1_700_000_000,
        "has_2fa": False,
    }


def channel(workspace: Workspace, chan: Channel, *, num_members: bool = False) -> JsonDict:
    """A conversation object as conversations.info returns it to the app's bot."""
    if chan.is_im:
        return _im(workspace, chan)
    shared = workspace.is_ext_shared(chan.id)
    out: JsonDict = {
        "id": chan.id,
        "name": chan.name,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": chan.is_private,
        "created": chan.created,
        "is_archived": chan.is_archived,
        "is_general": chan.name == "general",
        "unlinked": 0,
        "name_normalized": chan.name,
        "is_shared": shared,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "parent_conversation": None,
        "creator": chan.creator,
        "is_ext_shared": shared,
        "shared_team_ids": [workspace.team_id],
        "pending_connected_team_ids": [],
        "is_member": workspace.bot.id in chan.members,
        "topic": {"value": chan.topic, "creator": "", "last_set": 0},
        "purpose": {"value": chan.purpose, "creator": "", "last_set": 0},
        "previous_names": [],
    }
    if num_members:
        out["num_members"] = len(chan.members)
    return out


def _im(workspace: Workspace, chan: Channel) -> JsonDict:
    """The app's direct message with a person, as conversations.info shows it."""
    person = chan.im_user or ""
    return {
        "id": chan.id,
        "created": chan.created,
        "is_archived": False,
        "is_im": True,
        "is_org_shared": False,
        "context_team_id": workspace.team_id,
        "updated": chan.created * 1000,
        "user": person,
        "is_user_deleted": bool(person in workspace.users and workspace.user(person).deleted),
        "priority": 0,
    }


def usergroup(
    group: UserGroup, *, include_users: bool = False, include_count: bool = False
) -> JsonDict:
    """A user group as usergroups.list returns it (spec: objs_subteam)."""
    out: JsonDict = {
        "id": group.id,
        "team_id": group.team_id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": group.name,
        "description": group.description,
        "handle": group.handle,
        "is_external": False,
        "date_create": group.date_create,
        "date_update": group.date_create,
        "date_delete": 0 if group.enabled else group.date_create + 1,
        "auto_type": None,
        "auto_provision": False,
        "enterprise_subteam_id": "",
        "created_by": group.created_by,
        "updated_by": group.created_by,
        "deleted_by": None,
        "prefs": {"channels": [], "groups": []},
    }
    if include_users:
        out["users"] = list(group.users)
    if include_count:
        out["user_count"] = len(group.users)
    return out


def file_object(state: SlackState, file_id: str, name: str, owner: str) -> JsonDict:
    """A file shared in a message (the ``files`` of a file_share message)."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else "text"
    mimetypes = {"png": "image/png", "jpg": "image/jpeg", "pdf": "application/pdf"}
    base = f"https://files.slack.com/files-pri/{state.workspace.team_id}-{file_id}"
    return {
        "id": file_id,
        "created": 1_700_000_000,
        "timestamp": 1_700_000_000,
        "name": name,
        "title": name,
        "mimetype": mimetypes.get(extension, "text/plain"),
        "filetype": extension,
        "pretty_type": extension.upper(),
        "user": owner,
        "user_team": state.workspace.team_of(owner),
        "editable": False,
        "size": 1024,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": True,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": f"{base}/{name}",
        "url_private_download": f"{base}/download/{name}",
        "permalink": f"{state.workspace.url}files/{owner}/{file_id}/{name}",
        "permalink_public": f"https://slack-files.com/{state.workspace.team_id}-{file_id}",
        "has_rich_preview": False,
        "file_access": "visible",
    }
