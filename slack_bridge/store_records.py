"""What the bridge's store holds, as frozen records, and how its rows map onto them."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_bridge.cases import Case, CaseState
from slack_bridge.ids import ChannelId, SessionId, Ts, UserId


@dataclass(frozen=True)
class Conversation:
    session_id: SessionId
    ref: str
    customer_name: str
    reason: str
    requested_at: str
    channel: ChannelId | None
    thread_ts: Ts | None
    cursor: int
    opened_at: float
    """When the bridge first saw the handoff (epoch seconds)."""
    last_post_ts: Ts | None
    """The thread's newest post whose offsets are counted in ``cursor``."""
    case: Case
    root_reaction: str | None
    """The state reaction the bridge put on the root message."""
    route: str | None
    """The routing rule that placed the case (``None``: the default, or an earlier release)."""
    alerted_at: float | None
    """When its channel was last reminded that the case waits unclaimed."""
    posting: bool
    """Posts may have been on their way when the cursor was last written."""

    @property
    def active(self) -> bool:
        """Handed off now: operators' replies reach the customer."""
        return self.case.state.handed_off

    @property
    def mirrored(self) -> bool:
        """The thread follows the session (until the case is resolved)."""
        return self.case.state.open


THREAD_ORIGIN = "thread"
COMMAND_ORIGIN = "command"


@dataclass(frozen=True)
class OperatorMessage:
    """An operator's message bound for a customer, as stored until Parlant has it."""

    channel: ChannelId
    ts: Ts
    session_id: SessionId
    user_id: UserId
    as_ai: bool
    text: str
    origin: str
    """``thread`` (a reply in the thread) or ``command`` (``/as-ai``, the modal)."""
    user_team: str | None = None
    """The author's own workspace when Slack said (it differs for Slack Connect users)."""
    reply_to: Ts | None = None
    """A correction: the thread reply it corrects (its receipt goes there)."""


@dataclass(frozen=True)
class StoredMessage:
    message: OperatorMessage
    state: str
    """``pending``, ``held: owner``, ``held: internal``, ``delivered`` or ``dropped: …``."""

    @property
    def held(self) -> bool:
        return self.state.startswith(HELD)


HELD = "held: "
HELD_FOR_OWNER = HELD + "owner"
HELD_AS_INTERNAL = HELD + "internal"


def conversation_of(row: Sequence[Any]) -> Conversation:
    return Conversation(
        session_id=SessionId(row[0]),
        ref=row[1],
        customer_name=row[2],
        reason=row[3],
        requested_at=row[4],
        channel=ChannelId(row[5]) if row[5] else None,
        thread_ts=Ts(row[6]) if row[6] else None,
        cursor=int(row[7]),
        opened_at=float(row[8]),
        last_post_ts=Ts(row[9]) if row[9] else None,
        case=Case(
            state=CaseState(row[10]),
            since=float(row[11] if row[11] is not None else row[8]),
            owner=UserId(row[12]) if row[12] else None,
            by=UserId(row[13]) if row[13] else None,
        ),
        root_reaction=row[14],
        route=row[15],
        alerted_at=float(row[16]) if row[16] is not None else None,
        posting=bool(row[17]),
    )


CONVERSATION_COLUMNS = (
    "session_id, ref, customer_name, reason, requested_at, channel, thread_ts, cursor,"
    " opened_at, last_post_ts, state, state_since, owner, state_by, root_reaction, route,"
    " alerted_at, posting"
)
MESSAGE_COLUMNS = "channel, ts, session_id, user_id, as_ai, text, origin, user_team, reply_to"
OPEN_STATES = tuple(state.value for state in CaseState if state.open)
HANDED_OFF_STATES = tuple(state.value for state in CaseState if state.handed_off)


def message_of(row: Sequence[Any]) -> OperatorMessage:
    return OperatorMessage(
        channel=ChannelId(row[0]),
        ts=Ts(row[1]),
        session_id=SessionId(row[2]),
        user_id=UserId(row[3]),
        as_ai=bool(row[4]),
        text=row[5],
        origin=row[6],
        user_team=row[7],
        reply_to=Ts(row[8]) if row[8] else None,
    )
