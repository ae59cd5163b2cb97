"""Which Slack messages the bridge acts on, parsed once from the event payload.

Gate order (cheap to costly): subtype, bots (including this app), top-level posts, then
the operator's intent from the text prefix: ``!ai `` sends as the AI, ``note:`` keeps a
private note in the thread, anything else goes to the customer as the operator — unless it
looks like a remark for colleagues (``internal_reason``): then its author chooses first.
"""

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bridge.ids import ChannelId, SessionId, Ts, UserId
from slack_bridge.store import THREAD_ORIGIN, OperatorMessage

RELAYED_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
AS_AI_PREFIX = re.compile(r"^\s*!ai\s+", re.IGNORECASE)
NOTE_PREFIX = re.compile(r"^\s*note:\s*", re.IGNORECASE)
_INTERNAL_PREFIX = re.compile(r"^\s*(notes:|internal:|;;)", re.IGNORECASE)
_LEADING_MENTION = re.compile(r"^\s*<(@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+|!here|!channel|!everyone)")


def internal_reason(text: str) -> str | None:
    """Why a reply looks meant for colleagues rather than the customer, or ``None``.

    It starts by mentioning someone in Slack (a user, a user group, ``@here``,
    ``@channel``, ``@everyone``) or with ``notes:``, ``internal:`` or ``;;`` (any case).
    """
    if (prefix := _INTERNAL_PREFIX.match(text)) is not None:
        return f"it starts with `{prefix.group(1).lower()}`"
    if (mention := _LEADING_MENTION.match(text)) is not None:
        target = mention.group(1)
        if target.startswith("!subteam"):
            return "it starts by mentioning a user group"
        if target.startswith("@"):
            return "it starts by mentioning a colleague"
        return f"it starts with @{target[1:]}"
    return None


class Intent(enum.Enum):
    REPLY = "reply"
    AS_AI = "as_ai"
    NOTE = "note"


@dataclass(frozen=True)
class ThreadMessage:
    channel: ChannelId
    ts: Ts
    thread_ts: Ts
    user: UserId
    text: str
    intent: Intent
    file_names: tuple[str, ...] = ()
    user_team: str | None = None
    """The author's own workspace, when Slack says (Slack Connect users differ)."""

    def for_session(self, session_id: SessionId) -> OperatorMessage:
        """The message to deliver to the customer of ``session_id``."""
        return OperatorMessage(
            channel=self.channel,
            ts=self.ts,
            session_id=session_id,
            user_id=self.user,
            as_ai=self.intent is Intent.AS_AI,
            text=self.text,
            origin=THREAD_ORIGIN,
            user_team=self.user_team,
        )


def parse_thread_message(event: Mapping[str, Any]) -> ThreadMessage | None:
    """A human's reply inside some thread, or ``None`` for anything the bridge ignores."""
    if event.get("type") != "message" or event.get("subtype") not in RELAYED_SUBTYPES:
        return None
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
        return None
    ts, thread_ts = event.get("ts"), event.get("thread_ts")
    if not ts or not thread_ts or thread_ts == ts:
        return None
    text = str(event.get("text") or "")
    intent = Intent.REPLY
    if AS_AI_PREFIX.match(text):
        intent, text = Intent.AS_AI, AS_AI_PREFIX.sub("", text, count=1)
    elif NOTE_PREFIX.match(text):
        intent, text = Intent.NOTE, NOTE_PREFIX.sub("", text, count=1)
    files = tuple(
        str(f.get("name") or "file") for f in event.get("files") or () if isinstance(f, Mapping)
    )
    return ThreadMessage(
        channel=ChannelId(str(event["channel"])),
        ts=Ts(str(ts)),
        thread_ts=Ts(str(thread_ts)),
        user=UserId(str(event["user"])),
        text=text.strip(),
        intent=intent,
        file_names=files,
        user_team=str(event["user_team"]) if event.get("user_team") else None,
    )
