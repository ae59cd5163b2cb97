"""The bridge's memory, in SQLite (aiosqlite): what must survive a restart.

* ``conversations``: Parlant session ↔ Slack thread, its short reference, the offset of
  the next session event to mirror into the thread, and the case's state and owner.
* ``slack_messages``: every operator message taken from a thread or a command, keyed by
  its Slack id, with its delivery state (``pending``, ``held: …``, ``delivered``,
  ``dropped: …``) — the guard against Slack's retries, duplicate deliveries and the
  start-up catch-up relaying anything twice (``store_messages``).
* ``bridge_events``: the Parlant events the bridge created, never mirrored back.
* ``operator_activity``: the thread each operator replied in most recently.
* ``bridge_state``: until when the bridge was listening to Slack.
"""

import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import aiosqlite

from slack_bridge.cases import Case, CaseState
from slack_bridge.conversation_cache import ConversationCache
from slack_bridge.ids import ChannelId, SessionId, Ts, UserId, short_ref
from slack_bridge.migrations import migrate
from slack_bridge.store_messages import OperatorMessages
from slack_bridge.store_records import (
    COMMAND_ORIGIN,
    CONVERSATION_COLUMNS,
    HANDED_OFF_STATES,
    HELD,
    HELD_AS_INTERNAL,
    HELD_FOR_OWNER,
    OPEN_STATES,
    THREAD_ORIGIN,
    Conversation,
    OperatorMessage,
    StoredMessage,
    conversation_of,
)

__all__ = [
    "COMMAND_ORIGIN",
    "HELD",
    "HELD_AS_INTERNAL",
    "HELD_FOR_OWNER",
    "THREAD_ORIGIN",
    "Conversation",
    "HandoffStore",
    "OperatorMessage",
    "StoredMessage",
]


class HandoffStore(OperatorMessages):
    def __init__(self, db: aiosqlite.Connection) -> None:
        super().__init__(db)
        self._cache = ConversationCache()

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

    # ---- conversations -------------------------------------------------------------

    async def conversation(self, session_id: SessionId) -> Conversation | None:
        if (cached := self._cache.get(session_id)) is not None:
            return cached
        return await self._read_conversation("session_id = ?", session_id)

    async def conversation_by_ref(self, ref: str) -> Conversation | None:
        row = await self._one(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE ref = ?", ref
        )
        return conversation_of(row) if row else None

    async def conversation_by_thread(
        self, channel: ChannelId, thread_ts: Ts
    ) -> Conversation | None:
        if (cached := self._cache.by_thread(channel, thread_ts)) is not None:
            return cached
        return await self._read_conversation("channel = ? AND thread_ts = ?", channel, thread_ts)

    async def _read_conversation(self, where: str, *args: object) -> Conversation | None:
        generation = self._cache.generation
        row = await self._one(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {where}", *args
        )
        if row is None:
            return None
        conversation = conversation_of(row)
        self._cache.keep(conversation, generation)
        return conversation

    async def _write_conversation(
        self,
        session_id: SessionId,
        sql: str,
        *args: object,
        same_in_memory: Callable[[Conversation], Conversation] | None = None,
    ) -> int:
        """Every change to a conversation's row goes through here: the cache forgets the
        row, or applies ``same_in_memory`` (the change the SQL made, for frequent ones)."""
        changed = await self._write(sql, *args)
        if same_in_memory is None:
            self._cache.forget(session_id)
        else:
            self._cache.revise(session_id, same_in_memory)
        return changed

    async def conversations(
        self, *, handed_off: bool = False, mirrored: bool = False
    ) -> list[Conversation]:
        """All conversations, or only those handed off now, or those whose thread follows
        its session (handed off, or back with the AI and not yet resolved)."""
        states = HANDED_OFF_STATES if handed_off else OPEN_STATES if mirrored else ()
        where = f"WHERE state IN ({', '.join('?' for _ in states)})" if states else ""
        rows = await self._all(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations {where} ORDER BY opened_at",
            *states,
        )
        return [conversation_of(row) for row in rows]

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
        """A new, active conversation with a reference no other session has: the shortest
        free one, decided by the table's unique index (two sessions may share a prefix)."""
        now = time.time()
        for length in range(4, 13):
            try:
                await self._write(
                    "INSERT INTO conversations (session_id, ref, customer_name, reason,"
                    " requested_at, opened_at, state, state_since, channel, route)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    session_id,
                    short_ref(session_id, length),
                    customer_name,
                    reason,
                    requested_at,
                    now,
                    CaseState.WAITING.value,
                    now,
                    channel,
                    route,
                )
                break
            except sqlite3.IntegrityError as error:
                # Only the statement failed (SQLite undoes it alone): no rollback, which on
                # this shared connection would also undo other writers' pending work.
                if "conversations.ref" not in str(error):
                    raise
        self._cache.forget(session_id)
        created = await self.conversation(session_id)
        assert created is not None
        return created

    async def set_thread(self, session_id: SessionId, channel: ChannelId, thread_ts: Ts) -> None:
        await self._write_conversation(
            session_id,
            "UPDATE conversations SET channel = ?, thread_ts = ? WHERE session_id = ?",
            channel,
            thread_ts,
            session_id,
        )

    async def set_cursor(
        self,
        session_id: SessionId,
        cursor: int,
        last_post_ts: Ts | None = None,
        *,
        settled: bool = False,
    ) -> None:
        """Events before offset ``cursor`` are in the thread (``last_post_ts`` the newest);
        ``settled``: no post of the thread is on its way any more."""
        await self._write_conversation(
            session_id,
            "UPDATE conversations SET cursor = MAX(cursor, ?),"
            " last_post_ts = COALESCE(?, last_post_ts),"
            " posting = CASE WHEN ? THEN 0 ELSE posting END WHERE session_id = ?",
            cursor,
            last_post_ts,
            settled,
            session_id,
            same_in_memory=lambda before: replace(
                before,
                cursor=max(before.cursor, cursor),
                last_post_ts=last_post_ts or before.last_post_ts,
                posting=False if settled else before.posting,
            ),
        )

    async def mark_posting(self, session_id: SessionId) -> None:
        """Posts of the thread are about to go out (until ``set_cursor(settled=True)``)."""
        await self._write_conversation(
            session_id,
            "UPDATE conversations SET posting = 1 WHERE session_id = ? AND posting = 0",
            session_id,
            same_in_memory=lambda before: replace(before, posting=True),
        )

    async def reopen(self, session_id: SessionId, reason: str, requested_at: str) -> None:
        """Handed off again: a fresh, unclaimed case in the same thread."""
        await self._write_conversation(
            session_id,
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
        await self._write_conversation(
            session_id,
            "UPDATE conversations SET state = ?, owner = ?, state_by = ?, state_since = ?"
            f" WHERE session_id = ? AND state IN (?, ?) AND {owned_by_other}",
            CaseState.CLAIMED.value,
            user_id,
            user_id,
            time.time(),
            session_id,
            *HANDED_OFF_STATES,
            *args,
        )
        conversation = await self.conversation(session_id)
        return conversation.case if conversation is not None else None

    async def release(self, session_id: SessionId, user_id: UserId) -> bool:
        """The owner gives the case up: it waits for someone again."""
        return (
            await self._write_conversation(
                session_id,
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
            await self._write_conversation(
                session_id,
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
            await self._write_conversation(
                session_id,
                "UPDATE conversations SET dormant = 0 WHERE session_id = ? AND dormant = 1",
                session_id,
            )
            == 1
        )

    async def mark_alerted(self, conversation: Conversation, now: float) -> bool:
        """Record a reminder for a waiting case; ``False`` if one was recorded since
        ``conversation`` was read, or the case no longer waits."""
        return (
            await self._write_conversation(
                conversation.session_id,
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
        await self._write_conversation(
            session_id,
            "UPDATE conversations SET root_reaction = ? WHERE session_id = ?",
            reaction,
            session_id,
        )

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
