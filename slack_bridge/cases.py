"""A handoff as a case operators run: its state, its owner, and who changed it when.

Pure data and rules; the store keeps it and decides races (``HandoffStore.claim``).

    waiting ──claim / first reply──▶ claimed ──release──▶ waiting
       │                               │
       └────────hand back──────────────┴──▶ with_ai ──resolve──▶ resolved
                 (resolve from any open state)            new handoff ──▶ waiting
"""

import enum
from dataclasses import dataclass

from slack_bridge.ids import UserId


class CaseState(enum.StrEnum):
    WAITING = "waiting"
    """Handed off, nobody owns it yet."""
    CLAIMED = "claimed"
    """Handed off, one operator owns it: only their replies reach the customer."""
    WITH_AI = "with_ai"
    """Returned to the AI; the thread still mirrors the conversation until resolved."""
    RESOLVED = "resolved"
    """Ended: the thread no longer mirrors anything."""

    @property
    def handed_off(self) -> bool:
        return self in (CaseState.WAITING, CaseState.CLAIMED)

    @property
    def open(self) -> bool:
        """The thread mirrors the session."""
        return self is not CaseState.RESOLVED


@dataclass(frozen=True)
class Case:
    state: CaseState
    since: float
    """When the case entered this state (epoch seconds)."""
    owner: UserId | None = None
    """The operator who owns it (``claimed`` only)."""
    by: UserId | None = None
    """Who made the last change (``None``: the agent, or something outside Slack)."""
