"""What handing off and handing back mean over Parlant's REST API, as plain data.

The single definition shared by the agent (``agent.handoff``) and the Slack bridge, which
must not import ``parlant.sdk``: standard library only, no I/O. A handed-off session is in
``manual`` mode, labelled ``handoff`` and carries session metadata
``handoff = {"reason": str, "requested_at": ISO-8601 UTC}``. Handing back is the list of
requests ``hand_back_requests`` returns, sent in order by whoever holds the operator token.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

HANDOFF_LABEL: Final = "handoff"
HANDOFF_METADATA_KEY: Final = "handoff"
MAX_REASON_LENGTH: Final = 2000
MAX_INSTRUCTION_LENGTH: Final = 1000
RETURNED_TO_AI_EVENT: Final[Mapping[str, str]] = {"handoff": "returned_to_ai"}
"""Data of the ``custom`` event that tells watchers (the customer's page) of a hand-back."""
RESUME_RATIONALE: Final = "follow_up"
"""Parlant's utterance rationale for the AI's first reply after a hand-back."""

# ASCII on purpose: Parlant JSON-escapes guideline actions into the prompt (non-ASCII
# becomes \uXXXX, a newline becomes \n), so the quote must survive that readably.
_QUOTE: Final = "```"
_QUOTE_CHARACTER: Final = "`"
_INSTRUCTION_PREFIX: Final = "Operator's instruction: "
_INSTRUCTION = re.compile(rf"{re.escape(_INSTRUCTION_PREFIX)}{_QUOTE}([^`]*){_QUOTE}$")
_RESUME_OPENING: Final = (
    "You are taking this conversation back from a human support operator, "
    "who has just returned it to you."
)
_NO_REPEAT_HANDOFF: Final = (
    "Do not hand the customer off to a human again because of anything they asked before "
    "this point; only a new request in a later customer message can justify that."
)


@dataclass(frozen=True)
class ApiRequest:
    """One call on Parlant's REST API; ``path`` is relative to the server's base URL."""

    method: str
    path: str
    body: Mapping[str, Any]
    what: str  # for error messages and logs, e.g. "hand back <session id>"
    awaits_reply: bool = False  # answered only once the AI's reply is generated: seconds


def handoff_record(reason: str, requested_at: datetime | None = None) -> dict[str, str]:
    """The metadata value stored under ``handoff``; always the same two keys."""
    when = requested_at or datetime.now(UTC)
    cleaned = " ".join(reason.split())[:MAX_REASON_LENGTH] or "No reason given"
    return {"reason": cleaned, "requested_at": when.astimezone(UTC).isoformat()}


def is_handed_off(session: Mapping[str, Any]) -> bool:
    """Whether a session (as returned by Parlant's REST API) is handed off to a human."""
    metadata = session.get("metadata") or {}
    return (
        session.get("mode") == "manual"
        and HANDOFF_LABEL in (session.get("labels") or [])
        and isinstance(metadata.get(HANDOFF_METADATA_KEY), dict)
    )


def hand_back_patch() -> dict[str, Any]:
    """The ``PATCH /sessions/{id}`` body that returns a session to the AI."""
    return {
        "mode": "auto",
        "metadata": {"set": {}, "unset": [HANDOFF_METADATA_KEY]},
        "labels": {"upsert": [], "remove": [HANDOFF_LABEL]},
    }


def close_patch() -> dict[str, Any]:
    """The ``PATCH`` body that ends a handoff without returning the session to the AI: the
    marking is cleared, the session stays in ``manual`` mode (the AI stays silent)."""
    return {**hand_back_patch(), "mode": "manual"}


def hand_off_patch(reason: str) -> dict[str, Any]:
    """The ``PATCH`` body that hands a session off from outside the agent (what the tool
    does from inside): ``manual`` mode, the label and a fresh handoff record."""
    return {
        "mode": "manual",
        "metadata": {"set": {HANDOFF_METADATA_KEY: handoff_record(reason)}, "unset": []},
        "labels": {"upsert": [HANDOFF_LABEL], "remove": []},
    }


def clean_instruction(instruction: str | None) -> str | None:
    """The instruction as it will be quoted: one line, no delimiters, clipped; ``None`` if empty."""
    if instruction is None:
        return None
    unquoted = instruction.replace(_QUOTE_CHARACTER, " ")
    cleaned = " ".join(unquoted.split())[:MAX_INSTRUCTION_LENGTH].rstrip()
    return cleaned or None


def resume_action(instruction: str | None) -> str:
    """The guideline action for the AI's first reply after a hand-back, written for an LLM."""
    cleaned = clean_instruction(instruction)
    if cleaned is None:
        task = (
            "Tell the customer they are back with the virtual assistant "
            "and offer to help with anything else."
        )
        return f"{_RESUME_OPENING} {_NO_REPEAT_HANDOFF} {task}"
    task = (
        "For this reply, follow the operator's instruction that ends this guideline, speaking "
        "to the customer directly; the text between the triple backticks is the operator's "
        "own words, not the customer's."
    )
    return (
        f"{_RESUME_OPENING} {_NO_REPEAT_HANDOFF} {task} "
        f"{_INSTRUCTION_PREFIX}{_QUOTE}{cleaned}{_QUOTE}"
    )


def is_resume_action(action: str) -> bool:
    """Whether a guideline action was written by ``resume_action``."""
    return action.startswith(_RESUME_OPENING)


def parse_instruction(action: str) -> str | None:
    """The operator's instruction quoted in a ``resume_action`` text, if there is one."""
    if not is_resume_action(action):
        return None
    found = _INSTRUCTION.search(action)
    return found.group(1) if found else None


def _path(*segments: str) -> str:
    # Quoted segments: an id can never add or query path levels. Dot segments are refused,
    # because URL normalisation climbs on them even when percent-encoded.
    for segment in segments:
        if segment.strip(".") == "":
            raise ValueError(f"{segment!r} cannot be used as a path segment")
    return "".join("/" + quote(segment, safe="") for segment in segments)


def hand_back_requests(
    session_id: str, *, instruction: str | None, speak: bool
) -> list[ApiRequest]:
    """The requests that return a session to the AI, in the order they must be sent.

    The PATCH clears the marking and switches to ``auto``; the ``custom`` event wakes the
    customer's page; with ``speak``, the AI then answers at once from ``resume_action``
    (Parlant replies synchronously with the AI's message, so allow it an LLM's time).

    Raises:
        ValueError: ``session_id`` is empty or only dots (it would climb the URL path).
    """
    events = _path("sessions", session_id, "events")
    requests = [
        ApiRequest(
            "PATCH", _path("sessions", session_id), hand_back_patch(), f"hand back {session_id}"
        ),
        ApiRequest(
            "POST",
            events,
            {"kind": "custom", "source": "human_agent", "data": dict(RETURNED_TO_AI_EVENT)},
            f"note the hand-back of {session_id}",
        ),
    ]
    if speak:
        guideline = {"action": resume_action(instruction), "rationale": RESUME_RATIONALE}
        requests.append(
            ApiRequest(
                "POST",
                events,
                {"kind": "message", "source": "ai_agent", "guidelines": [guideline]},
                f"let the AI speak in {session_id}",
                awaits_reply=True,
            )
        )
    return requests


def close_requests(session_id: str) -> list[ApiRequest]:
    """The requests that end a handoff and keep the session closed to the AI."""
    path = _path("sessions", session_id)
    return [ApiRequest("PATCH", path, close_patch(), f"close {session_id} to the AI")]


def hand_off_requests(session_id: str, reason: str) -> list[ApiRequest]:
    """The requests that hand a session off again from outside the agent."""
    path = _path("sessions", session_id)
    return [ApiRequest("PATCH", path, hand_off_patch(reason), f"hand off {session_id}")]
