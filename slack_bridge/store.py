"""The bridge's memory, in SQLite (aiosqlite): what must survive a restart.

* ``conversations``: Parlant session ↔ Slack thread, its short reference, the offset of
  the next session event to mirror into the thread, and the case's state and owner.
* ``slack_messages``: every operator message taken from a thread or a command, keyed by
  its Slack id, with its delivery state (``pending``, ``held: …``, ``delivered``,
  ``dropped: …``) — the guard against Slack's retries, duplicate deliveries and the
  start-up catch-up relaying anything twice.
* ``bridge_events``: the Parlant events the bridge created, never mirrored back.
* ``operator_activity``: the thread each operator replied in most recently.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from slack_bridge.cases import Case, CaseState
from slack_bridge.ids import ChannelId, EventId, SessionId, Ts, UserId, short_ref
from slack_bridge.migrations import migrate


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


def _conversation(row: Sequence[Any]) -> Conversation:
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
    )


_CONVERSATION_COLUMNS = (
    "session_id, ref, customer_name, reason, requested_at, channel, thread_ts, cursor,"
    " opened_at, last_post_ts, state, state_since, owner, state_by, root_reaction, route,"
    " alerted_at"
)
_MESSAGE_COLUMNS = "channel, ts, session_id, user_id, as_ai, text, origin, user_team, reply_to"
_OPEN_STATES = tuple(state.value for state in CaseState if state.open)
_HANDED_OFF_STATES = tuple(state.value for state in CaseState if state.handed_off)


def _message(row: Sequence[Any]) -> OperatorMessage:
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


class HandoffStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path | str) -> "HandoffStore":
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path))
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await migrate(db)
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def _one(self, sql: str, *args: object) -> Sequence[Any] | None:
        async with self._db.execute(sql, args) as cursor:
            return await cursor.fetchone()

    async def _all(self, sql: str, *args: object) -> list[Sequence[Any]]:
        async with self._db.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    async def _write(self, sql: str, *args: object) -> int:
        async with self._db.execute(sql, args) as cursor:
            changed = cursor.rowcount
        await self._db.commit()
        return changed

    # ---- conversations -------------------------------------------------------------

    async def conversation(self, session_id: SessionId) -> Conversation | None:
        row = await self._one(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE session_id = ?", session_id
        )
        return _conversation(row) if row else None

    async def conversation_by_ref(self, ref: str) -> Conversation | None:
        row = await self._one(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE ref = ?", ref
        )
        return _conversation(row) if row else None

    async def conversation_by_thread(
        self, channel: ChannelId, thread_ts: Ts
    ) -> Conversation | None:
        row = await self._one(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations"
            " WHERE channel = ? AND thread_ts = ?",
            channel,
            thread_ts,
        )
        return _conversation(row) if row else None

    async def conversations(
        self, *, handed_off: bool = False, mirrored: bool = False
    ) -> list[Conversation]:
        """All conversations, or only those handed off now, or those whose thread follows
        its session (handed off, or back with the AI and not yet resolved)."""
        states = _HANDED_OFF_STATES if handed_off else _OPEN_STATES if mirrored else ()
        where = f"WHERE state IN ({', '.join('?' for _ in states)})" if states else ""
        rows = await self._all(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations {where} ORDER BY opened_at",
            *states,
        )
        return [_conversation(row) for row in rows]

    async def create_conversation(
        self,
        session_id: SessionId,
        customer_name: str,
        reason: str,
        requested_at: str,
        *,
        channel: ChannelId | None = None,
        route: str | None = None,
    ) -> Conversation:
        """A new, active conversation with a reference no other session has."""
        for length in range(4, 9):
            ref = short_ref(session_id, length)
            if await self._one("SELECT 1 FROM conversations WHERE ref = ?", ref) is None:
                break
        now = time.time()
        await self._write(
            "INSERT INTO conversations (session_id, ref, customer_name, reason, requested_at,"
            " opened_at, state, state_since, channel, route) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            session_id,
            ref,
            customer_name,
            reason,
            requested_at,
            now,
            CaseState.WAITING.value,
            now,
            channel,
            route,
        )
        created = await self.conversation(session_id)
        assert created is not None
        return created

    async def set_thread(self, session_id: SessionId, channel: ChannelId, thread_ts: Ts) -> None:
        await self._write(
            "UPDATE conversations SET channel = ?, thread_ts = ? WHERE session_id = ?",
            channel,
            thread_ts,
            session_id,
        )

    async def set_cursor(
        self, session_id: SessionId, cursor: int, last_post_ts: Ts | None = None
    ) -> None:
        """Events before offset ``cursor`` are in the thread (``last_post_ts`` the newest)."""
        await self._write(
            "UPDATE conversations SET cursor = MAX(cursor, ?),"
            " last_post_ts = COALESCE(?, last_post_ts) WHERE session_id = ?",
            cursor,
            last_post_ts,
            session_id,
        )

    async def reopen(self, session_id: SessionId, reason: str, requested_at: str) -> None:
        """Handed off again: a fresh, unclaimed case in the same thread."""
        await self._write(
            "UPDATE conversations SET state = ?, state_since = ?, state_by = NULL, owner = NULL,"
            " dormant = 0, alerted_at = NULL, reason = ?, requested_at = ? WHERE session_id = ?",
            CaseState.WAITING.value,
            time.time(),
            reason,
            requested_at,
            session_id,
        )

    # ---- cases -----------------------------------------------------------------------

    async def claim(
        self, session_id: SessionId, user_id: UserId, *, take_over: bool = False
    ) -> Case | None:
        """Make ``user_id`` the owner of a handed-off case nobody owns (or, with
        ``take_over``, owned by someone else); returns the case as it then is.

        One conditional UPDATE decides: of two operators claiming at once, exactly one
        owns the case, whatever the timing.
        """
        owned_by_other = "(owner IS NULL OR owner != ?)" if take_over else "owner IS NULL"
        args: tuple[object, ...] = (user_id,) if take_over else ()
        await self._write(
            "UPDATE conversations SET state = ?, owner = ?, state_by = ?, state_since = ?"
            f" WHERE session_id = ? AND state IN (?, ?) AND {owned_by_other}",
            CaseState.CLAIMED.value,
            user_id,
            user_id,
            time.time(),
            session_id,
            *_HANDED_OFF_STATES,
            *args,
        )
        conversation = await self.conversation(session_id)
        return conversation.case if conversation is not None else None

    async def release(self, session_id: SessionId, user_id: UserId) -> bool:
        """The owner gives the case up: it waits for someone again."""
        return (
            await self._write(
                "UPDATE conversations SET state = ?, owner = NULL, state_by = ?, state_since = ?"
                " WHERE session_id = ? AND state = ? AND owner = ?",
                CaseState.WAITING.value,
                user_id,
                time.time(),
                session_id,
                CaseState.CLAIMED.value,
                user_id,
            )
            == 1
        )

    async def set_state(
        self, session_id: SessionId, state: CaseState, by: UserId | None, *, dormant: bool = False
    ) -> bool:
        """Back with the AI or resolved; ``False`` if the case already was. A ``dormant``
        resolved case is handed off again when its customer writes."""
        return (
            await self._write(
                "UPDATE conversations SET state = ?, owner = NULL, state_by = ?, state_since = ?,"
                " dormant = ? WHERE session_id = ? AND state != ?",
                state.value,
                by,
                time.time(),
                int(dormant),
                session_id,
                state.value,
            )
            == 1
        )

    async def dormant_sessions(self) -> list[SessionId]:
        rows = await self._all("SELECT session_id FROM conversations WHERE dormant = 1")
        return [SessionId(row[0]) for row in rows]

    async def wake(self, session_id: SessionId) -> bool:
        """A dormant case's customer wrote; ``False`` if it was not dormant (any more)."""
        return (
            await self._write(
                "UPDATE conversations SET dormant = 0 WHERE session_id = ? AND dormant = 1",
                session_id,
            )
            == 1
        )

    async def mark_alerted(self, conversation: Conversation, now: float) -> bool:
        """Record a reminder for a waiting case; ``False`` if one was recorded since
        ``conversation`` was read, or the case no longer waits."""
        return (
            await self._write(
                "UPDATE conversations SET alerted_at = ?"
                " WHERE session_id = ? AND state = ? AND alerted_at IS ?",
                now,
                conversation.session_id,
                CaseState.WAITING.value,
                conversation.alerted_at,
            )
            == 1
        )

    async def set_root_reaction(self, session_id: SessionId, reaction: str) -> None:
        await self._write(
            "UPDATE conversations SET root_reaction = ? WHERE session_id = ?", reaction, session_id
        )

    # ---- operator messages -----------------------------------------------------------

    async def take_operator_message(self, message: OperatorMessage, state: str = "pending") -> bool:
        """Remember a message to deliver (or hold); ``False`` if it was taken before."""
        changed = await self._write(
            f"INSERT OR IGNORE INTO slack_messages ({_MESSAGE_COLUMNS}, received_at, state)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            message.channel,
            message.ts,
            message.session_id,
            message.user_id,
            int(message.as_ai),
            message.text,
            message.origin,
            message.user_team,
            message.reply_to,
            time.time(),
            state,
        )
        return changed == 1

    async def operator_message(self, channel: ChannelId, ts: Ts) -> StoredMessage | None:
        row = await self._one(
            f"SELECT {_MESSAGE_COLUMNS}, state FROM slack_messages WHERE channel = ? AND ts = ?",
            channel,
            ts,
        )
        return StoredMessage(_message(row), row[9]) if row else None

    async def hold(self, message: OperatorMessage, why: str) -> None:
        """Not sent for now: waits for its author's choice (``HELD_FOR_OWNER`` …)."""
        await self._set_message_state(message, why)

    async def unhold(self, message: OperatorMessage) -> bool:
        """A held message goes out after all; ``False`` if it was not held (any more)."""
        return (
            await self._write(
                "UPDATE slack_messages SET state = 'pending'"
                " WHERE channel = ? AND ts = ? AND state LIKE 'held: %'",
                message.channel,
                message.ts,
            )
            == 1
        )

    async def keep_internal(self, message: OperatorMessage) -> bool:
        """A held message stays in Slack; ``False`` if it was not held (any more)."""
        return (
            await self._write(
                "UPDATE slack_messages SET state = 'dropped: kept internal'"
                " WHERE channel = ? AND ts = ? AND state LIKE 'held: %'",
                message.channel,
                message.ts,
            )
            == 1
        )

    async def edit_held(self, message: OperatorMessage, text: str) -> bool:
        """The author edited a message still held: it will go out as edited."""
        return (
            await self._write(
                "UPDATE slack_messages SET text = ?"
                " WHERE channel = ? AND ts = ? AND state LIKE 'held: %'",
                text,
                message.channel,
                message.ts,
            )
            == 1
        )

    async def known_slack_messages(self, channel: ChannelId, ts: Sequence[Ts]) -> set[Ts]:
        if not ts:
            return set()
        marks = ", ".join("?" for _ in ts)
        rows = await self._all(
            f"SELECT ts FROM slack_messages WHERE channel = ? AND ts IN ({marks})", channel, *ts
        )
        return {Ts(row[0]) for row in rows}

    async def pending_operator_messages(self) -> list[OperatorMessage]:
        rows = await self._all(
            f"SELECT {_MESSAGE_COLUMNS} FROM slack_messages WHERE state = 'pending'"
            " ORDER BY received_at, ts"
        )
        return [_message(row) for row in rows]

    async def mark_delivered(self, message: OperatorMessage, event_id: EventId) -> None:
        await self._db.execute(
            "UPDATE slack_messages SET state = 'delivered', event_id = ?"
            " WHERE channel = ? AND ts = ?",
            (event_id, message.channel, message.ts),
        )
        await self._db.execute(
            "INSERT OR IGNORE INTO bridge_events (event_id, session_id) VALUES (?, ?)",
            (event_id, message.session_id),
        )
        await self._db.commit()

    async def mark_dropped(self, message: OperatorMessage, why: str) -> None:
        await self._set_message_state(message, f"dropped: {why}")

    async def _set_message_state(self, message: OperatorMessage, state: str) -> None:
        await self._write(
            "UPDATE slack_messages SET state = ? WHERE channel = ? AND ts = ?",
            state,
            message.channel,
            message.ts,
        )

    async def created_by_bridge(self, event_id: EventId) -> bool:
        return (
            await self._one("SELECT 1 FROM bridge_events WHERE event_id = ?", event_id) is not None
        )

    # ---- operators -------------------------------------------------------------------

    async def note_operator_activity(self, user_id: UserId, session_id: SessionId) -> None:
        await self._write(
            "INSERT INTO operator_activity (user_id, session_id, at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id, session_id) DO UPDATE SET at = excluded.at",
            user_id,
            session_id,
            time.time(),
        )

    async def sessions_of_operator(self, user_id: UserId) -> list[SessionId]:
        """The sessions whose threads the operator replied in, most recent first."""
        rows = await self._all(
            "SELECT session_id FROM operator_activity WHERE user_id = ? ORDER BY at DESC", user_id
        )
        return [SessionId(row[0]) for row in rows]

    # ---- the bridge itself -----------------------------------------------------------

    async def listening_until(self) -> float | None:
        """Until when the bridge last knew it received Slack's events (epoch seconds)."""
        row = await self._one("SELECT value FROM bridge_state WHERE key = 'listening_until'")
        return float(row[0]) if row else None

    async def set_listening_until(self, when: float) -> None:
        await self._write(
            "INSERT INTO bridge_state (key, value) VALUES ('listening_until', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            repr(when),
        )

    async def prune(self, before: float) -> int:
        """Forget what is older than ``before`` and no longer needed; returns rows changed.

        Kept whatever its age: messages still pending or held, and the keys of every message
        of an open case (Slack may deliver it again; a catch-up may read it again). Their text
        is dropped once delivered or dropped. A resolved case's messages and events go once
        it has been resolved for the retention period; operators' activity too.
        """
        closed = "SELECT session_id FROM conversations WHERE state = ? AND state_since < ?"
        changed = 0
        for sql, args in (
            (
                f"DELETE FROM slack_messages WHERE received_at < ? AND session_id IN ({closed})"
                " AND state NOT IN ('pending') AND state NOT LIKE 'held: %'",
                (before, CaseState.RESOLVED.value, before),
            ),
            (
                f"DELETE FROM bridge_events WHERE session_id IN ({closed})",
                (CaseState.RESOLVED.value, before),
            ),
            (
                "UPDATE slack_messages SET text = '' WHERE received_at < ? AND text != ''"
                " AND state NOT IN ('pending') AND state NOT LIKE 'held: %'",
                (before,),
            ),
            ("DELETE FROM operator_activity WHERE at < ?", (before,)),
        ):
            async with self._db.execute(sql, args) as cursor:
                changed += max(0, cursor.rowcount)
        await self._db.commit()
        return changed
