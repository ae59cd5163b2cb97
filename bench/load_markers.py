"""Unique words the load benchmark puts in every message it sends, to find it again
wherever it shows up (a Slack post, a Parlant event)."""

import re
from enum import StrEnum


class Kind(StrEnum):
    CUSTOMER = "cmsg"
    OPERATOR = "opmsg"
    BARE_POST = "pbmsg"
    LONG_POLL = "lpmsg"


MARKER = re.compile(r"\b((?:cmsg|opmsg|pbmsg|lpmsg)\d{7})\b")


def marker(kind: Kind, number: int) -> str:
    """``cmsg0000042``: letters and digits only, so no formatting or escaping touches it."""
    return f"{kind.value}{number:07d}"


def markers_in(text: str) -> set[str]:
    return set(MARKER.findall(text))
