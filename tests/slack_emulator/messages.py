"""Stored channel messages: what Slack keeps and shows in channels and threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.slack_emulator.ids import ts_key

JsonDict = dict[str, Any]


@dataclass
class Message:
    """A message as stored in a channel. ``user`` is set for humans and for modern bots."""

    channel: str
    ts: str
    text: str
    user: str | None
    team: str
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    parent_user_id: str | None = None
    subtype: str | None = None
    blocks: list[JsonDict] | None = None
    attachments: list[JsonDict] | None = None
    files: list[JsonDict] | None = None
    metadata: JsonDict | None = None
    username: str | None = None
    icons: dict[str, str] | None = None
    client_msg_id: str | None = None
    edited: dict[str, str] | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    mrkdwn: bool = True
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    deleted: bool = False

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_broadcast(self) -> bool:
        return self.subtype == "thread_broadcast"

    @property
    def author(self) -> str | None:
        """The user id, or the bot id for a classic bot without a user."""
        return self.user or self.bot_id

    def button_values(self) -> dict[str, str | None]:
        """``action_id -> value`` of every button in the message's blocks."""
        return {
            element["action_id"]: element.get("value")
            for _block_id, element in iter_block_elements(self.blocks or [])
            if element.get("type") == "button" and "action_id" in element
        }


def iter_block_elements(blocks: list[JsonDict]) -> list[tuple[str | None, JsonDict]]:
    """Interactive elements of blocks (actions elements, accessories, input elements)."""
    found: list[tuple[str | None, JsonDict]] = []
    for block in blocks:
        block_id = block.get("block_id")
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if isinstance(element, dict):
                found.append((block_id, element))
        for key in ("accessory", "element"):
            element = block.get(key)
            if isinstance(element, dict):
                found.append((block_id, element))
    return found


class MessageStore:
    """Messages per channel, kept in ts order (the clock only moves forward)."""

    def __init__(self) -> None:
        self._channels: dict[str, dict[str, Message]] = {}

    def add(self, message: Message) -> None:
        self._channels.setdefault(message.channel, {})[message.ts] = message

    def get(self, channel: str, ts: str) -> Message | None:
        message = self._channels.get(channel, {}).get(ts)
        return None if message is None or message.deleted else message

    def get_including_tombstones(self, channel: str, ts: str) -> Message | None:
        return self._channels.get(channel, {}).get(ts)

    def remove(self, channel: str, ts: str) -> None:
        self._channels.get(channel, {}).pop(ts, None)

    def all(self, channel: str) -> list[Message]:
        return sorted(self._channels.get(channel, {}).values(), key=lambda m: ts_key(m.ts))

    def top_level(self, channel: str) -> list[Message]:
        """What the channel shows: top-level messages and broadcast replies, in order."""
        return [m for m in self.all(channel) if not m.is_reply or m.is_broadcast]

    def replies(self, channel: str, thread_ts: str) -> list[Message]:
        return [
            m
            for m in self.all(channel)
            if m.is_reply and m.thread_ts == thread_ts and not m.deleted
        ]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """The parent (possibly a tombstone) followed by its replies; empty if no such thread."""
        parent = self.get_including_tombstones(channel, thread_ts)
        if parent is None or parent.is_reply:
            return []
        return [parent, *self.replies(channel, thread_ts)]

    def thread_stats(self, parent: Message) -> JsonDict:
        """reply_count, reply_users, latest_reply as Slack adds them to a thread's parent."""
        replies = self.replies(parent.channel, parent.ts)
        if not replies:
            return {}
        users: list[str] = []
        for reply in replies:
            author = reply.author
            if author and author not in users:
                users.append(author)
        return {
            "reply_count": len(replies),
            "reply_users_count": len(users),
            "latest_reply": replies[-1].ts,
            "reply_users": users,
        }
