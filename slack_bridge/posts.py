"""What the bridge posts into a thread, and what a thread shows: pure, no I/O.

A ``Post`` says in its Slack message metadata which Parlant offsets it shows (``first`` to
``last``, ``part`` of ``parts`` when one message needs several posts) under a key that is the
same after a restart, so what a thread already shows can be read back from Slack.
"""

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from slack_sdk.models.blocks import Block

from slack_bridge.formatting import POST_CHARS, Line, combine
from slack_bridge.ids import Ts

POST_EVENT_TYPE = "parlant_bridge_post"
"""Slack message metadata type of every post but root messages (which keep their own)."""


class PostPriority(IntEnum):
    """What a channel posts first (lowest first): a new handoff's root message, then live
    messages, then history (e.g. "Conversation so far")."""

    ROOT = 0
    LIVE = 1
    BACKLOG = 2


@dataclass
class Post:
    """One message for a thread; ``posted`` resolves to the ts it got (``None``: not posted).

    A post made from one session ``line`` may be combined with the lines queued after it.
    ``covers`` is the range of Parlant offsets it shows (``part`` of ``parts`` when one
    message needs several posts); it goes into the metadata, so what a thread already
    shows can be read back from Slack.
    """

    text: str
    username: str | None = None
    icon_emoji: str | None = None
    blocks: Sequence[Block] | None = None
    line: Line | None = None
    broadcast: bool = False
    """Also show a thread reply in the channel (``reply_broadcast``)."""
    metadata: dict[str, Any] | None = None
    """Slack message metadata to post instead of the bridge's own (root messages)."""
    covers: tuple[int, int] | None = None
    part: int = 1
    parts: int = 1
    transcript: bool = False
    """One of the posts of "Conversation so far" (rather than a live message)."""
    priority: PostPriority = PostPriority.LIVE
    """How soon the channel takes it, next to other threads' posts (never before the posts
    queued ahead of it in its own thread)."""
    urgency: int = 1
    """The case's route priority (0 high, 1 normal, 2 low): orders posts of equal
    ``priority`` (a high-priority case's root before a normal one's)."""
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    posted: "asyncio.Future[Ts | None]" = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def slack_metadata(self) -> dict[str, Any]:
        if self.metadata is not None:
            own = {**self.metadata.get("event_payload", {}), "key": self.key}
            return {**self.metadata, "event_payload": own}
        payload: dict[str, Any] = {
            "key": self.key,
            "part": self.part,
            "parts": self.parts,
            "transcript": self.transcript,
        }
        if self.covers is not None:
            payload["first"], payload["last"] = self.covers
        return {"event_type": POST_EVENT_TYPE, "event_payload": payload}


@dataclass(frozen=True)
class Shown:
    """The newest Parlant message a thread shows, read back from Slack."""

    ts: Ts
    first: int
    last: int
    part: int
    parts: int
    transcript: bool

    @property
    def complete(self) -> bool:
        return self.part >= self.parts


def covered_key(covers: tuple[int, int], part: int, parts: int) -> str:
    """The key of a post showing offsets ``covers``: the same after a restart."""
    return f"offsets-{covers[0]}-{covers[1]}-{part}-of-{parts}"


def transcript_posts(
    pieces: Sequence[str],
    covers: tuple[int, int],
    priority: PostPriority = PostPriority.BACKLOG,
) -> list[Post]:
    """ "Conversation so far" as posts that say which offsets they show."""
    return [
        Post(
            text=piece,
            covers=covers,
            part=number,
            parts=len(pieces),
            transcript=True,
            priority=priority,
            key="transcript-" + covered_key(covers, number, len(pieces)),
        )
        for number, piece in enumerate(pieces, start=1)
    ]


def line_post(
    line: Line,
    offset: int,
    icon_emoji: str | None = None,
    priority: PostPriority = PostPriority.LIVE,
) -> list[Post]:
    """One session message as posts: one, or several parts when it is too long for one."""
    text, username = combine([line])
    pieces = _pieces(text)
    covers = (offset, offset)
    return [
        Post(
            text=piece,
            username=username,
            icon_emoji=icon_emoji,
            line=line if len(pieces) == 1 else None,
            covers=covers,
            part=number,
            parts=len(pieces),
            priority=priority,
            key=covered_key(covers, number, len(pieces)),
        )
        for number, piece in enumerate(pieces, start=1)
    ]


def _pieces(text: str) -> list[str]:
    """Quoted rows cut between rows into posts of at most ``POST_CHARS`` characters."""
    pieces: list[str] = []
    rows: list[str] = []
    size = 0
    for row in text.split("\n"):
        if rows and size + len(row) + 1 > POST_CHARS:
            pieces.append("\n".join(rows))
            rows, size = [], 0
        rows.append(row)
        size += len(row) + 1
    pieces.append("\n".join(rows))
    return pieces


def combined(batch: Sequence[Post]) -> Post:
    text, username = combine([post.line for post in batch if post.line is not None])
    icons = {post.icon_emoji for post in batch}
    first = batch[0].covers
    last = batch[-1].covers
    covers = (first[0], last[1]) if first is not None and last is not None else None
    return Post(
        text=text,
        username=username,
        icon_emoji=icons.pop() if len(icons) == 1 else None,
        covers=covers,
        key=covered_key(covers, 1, 1) if covers is not None else batch[0].key,
    )


def shown_in(message: Mapping[str, Any]) -> Shown | None:
    """What a Slack message of the bridge shows of the session, from its metadata."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != POST_EVENT_TYPE or "last" not in payload:
        return None
    return Shown(
        ts=Ts(str(message["ts"])),
        first=int(payload.get("first", payload["last"])),
        last=int(payload["last"]),
        part=int(payload.get("part", 1)),
        parts=int(payload.get("parts", 1)),
        transcript=bool(payload.get("transcript")),
    )
