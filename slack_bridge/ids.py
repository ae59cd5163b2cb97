"""Identifiers the bridge passes around, and the short references operators type."""

import enum
import hashlib
import re
from typing import NewType

SessionId = NewType("SessionId", str)
EventId = NewType("EventId", str)
ChannelId = NewType("ChannelId", str)
UserId = NewType("UserId", str)
Ts = NewType("Ts", str)
"""A Slack message timestamp (``"1700000000.000100"``): a message's id within its channel."""


def ts_key(ts: str) -> tuple[int, int]:
    """Orders Slack ts strings as Slack does (numerically); ids that are not a ts go last."""
    seconds, _, fraction = ts.partition(".")
    if not seconds.isdigit() or not fraction.isdigit():
        return (2**62, 0)
    return int(seconds), int(fraction.ljust(6, "0")[:6])


class EventSource(enum.StrEnum):
    CUSTOMER = "customer"
    CUSTOMER_UI = "customer_ui"
    HUMAN_AGENT = "human_agent"
    AS_AI = "human_agent_on_behalf_of_ai_agent"
    AI_AGENT = "ai_agent"
    SYSTEM = "system"


class EventKind(enum.StrEnum):
    MESSAGE = "message"
    TOOL = "tool"
    STATUS = "status"
    CUSTOM = "custom"


# Crockford's base32: no I, L, O or U, so a reference survives being read aloud or retyped.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})
REF_PREFIX = "H-"
REF_PATTERN = re.compile(r"^H-[0-9A-Z]{4,8}$", re.IGNORECASE)
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""Parlant's ids (nanoid or uuid hex): letters, digits, ``-`` and ``_``, bounded."""


def parse_session_id(text: str) -> SessionId | None:
    """``text`` as a session id, or ``None`` if it cannot be one (never reaches a URL)."""
    return SessionId(text) if SESSION_ID_PATTERN.fullmatch(text) else None


def short_ref(session_id: SessionId, length: int = 4) -> str:
    """A short, stable reference for a session, e.g. ``H-7F3K`` (longer on collision)."""
    number = int.from_bytes(hashlib.sha256(session_id.encode()).digest()[:8], "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, 32)
        chars.append(_ALPHABET[index])
    return REF_PREFIX + "".join(chars)


def looks_like_ref(text: str) -> bool:
    return bool(REF_PATTERN.match(text.strip()))


def normalize_ref(text: str) -> str:
    """``h-7f3k`` becomes ``H-7F3K``; ``O``, ``I`` and ``L`` are read as ``0``, ``1``, ``1``."""
    return REF_PREFIX + text.strip().upper().removeprefix(REF_PREFIX).translate(_CONFUSABLE)
