"""Operators' edits of relayed replies, carried to the customer as corrections.

Parlant cannot change a message the customer already has, so an edit made soon enough
(``SLACK_EDIT_WINDOW_MINUTES``) is sent as a new message, "Correction: …", from the same
operator; later edits are not passed on. Pure rules; the listeners do the I/O.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bridge.ids import Ts
from slack_bridge.inbound_messages import Intent, ThreadMessage, parse_thread_message
from slack_bridge.store import OperatorMessage, StoredMessage

CORRECTION_ORIGIN = "correction"
CORRECTION_PREFIX = "Correction: "


@dataclass(frozen=True)
class Edit:
    reply: ThreadMessage
    """The reply as it reads now (its ``ts`` is the original's; its prefix is removed)."""
    edited_ts: Ts


def parse_edit(event: Mapping[str, Any]) -> Edit | None:
    """A person's edit of a reply in some thread, or ``None`` (Slack's own changes such as
    unfurls carry no ``edited``; bots and thread roots are not operators' replies)."""
    if event.get("subtype") != "message_changed":
        return None
    message = event.get("message") or {}
    edited = message.get("edited") or {}
    if not edited.get("ts"):
        return None
    reply = parse_thread_message({**message, "type": "message", "channel": event.get("channel")})
    if reply is None:
        return None
    return Edit(reply, Ts(str(edited["ts"])))


class EditOutcome(enum.Enum):
    IGNORE = "ignore"
    """Nothing the customer has or will get changes (a note, the same text, a dropped reply)."""
    EDIT_HELD = "edit_held"
    """Not sent yet (held): it will go out as edited."""
    CORRECT = "correct"
    """The customer has (or is about to get) it: send a correction."""
    TOO_LATE = "too_late"
    """Outside the window: the operator is told it was not passed on."""


def judge_edit(stored: StoredMessage | None, edit: Edit, window_seconds: float) -> EditOutcome:
    if stored is None or edit.reply.intent is Intent.NOTE or not edit.reply.text:
        return EditOutcome.IGNORE
    if stored.held:
        return EditOutcome.EDIT_HELD
    if stored.state not in ("pending", "delivered") or edit.reply.text == stored.message.text:
        return EditOutcome.IGNORE
    if float(edit.edited_ts) - float(stored.message.ts) > window_seconds:
        return EditOutcome.TOO_LATE
    return EditOutcome.CORRECT


def correction(original: OperatorMessage, edit: Edit) -> OperatorMessage:
    """The message that corrects ``original``; one per edit, however often Slack sends it."""
    return OperatorMessage(
        channel=original.channel,
        ts=Ts(f"{original.ts}-edit-{edit.edited_ts}"),
        session_id=original.session_id,
        user_id=original.user_id,
        as_ai=original.as_ai,
        text=CORRECTION_PREFIX + edit.reply.text,
        origin=CORRECTION_ORIGIN,
        user_team=original.user_team,
        reply_to=original.ts,
    )
