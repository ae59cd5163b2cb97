"""How a Parlant event reads in a handoff thread: who speaks, with which icon, what text.
Pure; events the bridge itself created are never shown (they came from Slack)."""

from slack_bridge.formatting import Line
from slack_bridge.ids import EventKind, EventSource
from slack_bridge.parlant_client import ParlantEvent

BRIDGE_METADATA_KEY = "slack_ts"
"""Set on every Parlant event the bridge creates: such events are never mirrored back."""

ICONS = {
    EventSource.CUSTOMER: ":bust_in_silhouette:",
    EventSource.CUSTOMER_UI: ":bust_in_silhouette:",
    EventSource.AI_AGENT: ":robot_face:",
    EventSource.AS_AI: ":robot_face:",
    EventSource.HUMAN_AGENT: ":headphones:",
}


def author_of(event: ParlantEvent, customer_name: str) -> str | None:
    """Who the thread shows as the speaker of an event (``None``: not shown)."""
    operator = event.participant_name or "an operator"
    match event.source:
        case EventSource.CUSTOMER | EventSource.CUSTOMER_UI:
            return f"{customer_name} (customer)"
        case EventSource.AI_AGENT:
            return "AI agent"
        case EventSource.HUMAN_AGENT:
            return f"{event.participant_name or 'Operator'} (operator)"
        case EventSource.AS_AI:
            return f"AI agent (sent by {operator})"
        case _:
            return None


def from_bridge(event: ParlantEvent) -> bool:
    return BRIDGE_METADATA_KEY in event.metadata


def line_of(event: ParlantEvent, customer_name: str) -> Line | None:
    """The thread line of a message event (``None``: not a message, or not shown)."""
    if event.kind != EventKind.MESSAGE or not event.message.strip():
        return None
    author = author_of(event, customer_name)
    return Line(author=author, text=event.message) if author else None
