"""Text crossing between Parlant and Slack, and the Block Kit the bridge posts.

Toward Slack, customer (and AI) text is escaped so ``<!channel>``, ``<@U…>`` and links are
shown, not acted on. Toward the customer, Slack's markup is decoded into plain words.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

# Slack renders long messages poorly past ~4,000 characters; a section's text stops at 3,000.
POST_CHARS = 3_800
SECTION_CHARS = 2_900
USERNAME_CHARS = 80
HEADER_CHARS = 150

REPLY_AS_AI_ACTION = "reply_as_ai"
HAND_BACK_ACTION = "hand_back"

_SLACK_TOKEN = re.compile(r"<([^<>\n]*)>")
_SPECIAL_MENTIONS = {"channel": "@channel", "here": "@here", "everyone": "@everyone"}


def escape(text: str) -> str:
    """Make text inert in Slack: only ``&``, ``<`` and ``>`` are control characters there."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentioned_users(text: str) -> set[str]:
    """User ids mentioned as ``<@U…>`` (their names are needed to decode the text)."""
    return {
        token[1:].split("|", 1)[0] for token in _SLACK_TOKEN.findall(text) if token.startswith("@")
    }


def _decode_token(token: str, user_names: Mapping[str, str]) -> str:
    target, _, label = (_unescape(part) for part in token.partition("|"))
    if target.startswith("@"):
        return "@" + (user_names.get(target[1:]) or label or target[1:])
    if target.startswith("#"):
        return "#" + (label or "channel")
    if target.startswith("!"):
        command = target[1:].split("^", 1)[0]
        if command in _SPECIAL_MENTIONS:
            return _SPECIAL_MENTIONS[command]
        return label or command
    if not label or label == target or target == f"mailto:{label}":
        return label or target
    return f"{label} ({target})"


def decode_slack_text(text: str, user_names: Mapping[str, str]) -> str:
    """Slack's message markup as plain text for the customer.

    ``<@U1>`` → ``@Name``, ``<#C1|general>`` → ``#general``, ``<!here>`` → ``@here``,
    ``<https://x|label>`` → ``label (https://x)``, ``&amp;`` → ``&``.
    """
    parts: list[str] = []
    end = 0
    for match in _SLACK_TOKEN.finditer(text):
        parts.append(_unescape(text[end : match.start()]))
        parts.append(_decode_token(match.group(1), user_names))
        end = match.end()
    parts.append(_unescape(text[end:]))
    return "".join(parts)


def chunk(text: str, limit: int = POST_CHARS) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line or word ends when possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class HandoffSummary:
    session_id: str
    ref: str
    customer_name: str
    reason: str
    requested_at: str


def _slack_date(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return escape(iso)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def root_message(summary: HandoffSummary, *, returned: bool = False) -> tuple[str, list[Block]]:
    """The thread's opening message: fallback text and blocks.

    Once the session is ``returned`` to the AI, the buttons give way to a status line.
    """
    name = escape(summary.customer_name)
    reason = escape(summary.reason)
    fallback = f"Handoff {summary.ref}: {name} — {clip(reason, 300)}"
    if returned:
        fallback = f"{fallback} (returned to the AI)"
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(
                text=clip(f"Handoff {summary.ref}: {name}", HEADER_CHARS), emoji=True
            )
        ),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Customer*\n{clip(name, 1900)}"),
                MarkdownTextObject(text=f"*Reference*\n`{summary.ref}`"),
                MarkdownTextObject(text=f"*Handed off*\n{_slack_date(summary.requested_at)}"),
                MarkdownTextObject(text=f"*Parlant session*\n`{escape(summary.session_id)}`"),
            ]
        ),
        SectionBlock(text=MarkdownTextObject(text=f"*Reason*\n{clip(reason, SECTION_CHARS)}")),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Reply in this thread to answer the customer · start with `!ai ` to"
                    " answer as the AI · start with `note:` for a note the customer never sees"
                    f" · `/as-ai {summary.ref} <text>` in the channel"
                )
            ]
        ),
    ]
    blocks.insert(3, _returned_status() if returned else _actions(summary))
    return fallback, blocks


def _returned_status() -> Block:
    return ContextBlock(
        elements=[
            MarkdownTextObject(
                text=":leftwards_arrow_with_hook: *Returned to the AI.* Replies here no longer"
                " reach the customer."
            )
        ]
    )


def _actions(summary: HandoffSummary) -> Block:
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Reply as AI", action_id=REPLY_AS_AI_ACTION, value=summary.session_id
            ),
            ButtonElement(
                text="Hand back to AI",
                action_id=HAND_BACK_ACTION,
                value=summary.session_id,
                style="danger",
                confirm=ConfirmObject(
                    title="Hand back to the AI?",
                    text="The AI will answer the customer's next message.",
                    confirm="Hand back",
                    deny="Cancel",
                ),
            ),
        ]
    )


@dataclass(frozen=True)
class Line:
    """One message of the session as it appears in the thread."""

    author: str
    text: str


def transcript(lines: Sequence[Line]) -> list[str]:
    """The conversation before the handoff, as posts within Slack's limits."""
    if not lines:
        return ["_No messages before the handoff._"]
    body = "\n".join(f"*{escape(line.author)}:* {escape(line.text)}" for line in lines)
    return chunk(f"*Conversation so far*\n{body}")


def combine(lines: Sequence[Line]) -> tuple[str, str | None]:
    """Several waiting messages for one thread as one post: (text, username)."""
    authors = {line.author for line in lines}
    if len(authors) == 1:
        return "\n".join(escape(line.text) for line in lines), clip(lines[0].author, USERNAME_CHARS)
    return "\n".join(f"*{escape(line.author)}:* {escape(line.text)}" for line in lines), None
