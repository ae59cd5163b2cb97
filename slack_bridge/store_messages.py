"""Operator messages bound for customers, keyed by their Slack id, and what became of them;
the Parlant events the bridge created; which thread each operator answered last."""

import time
from collections.abc import Sequence

from slack_bridge.ids import ChannelId, EventId, SessionId, Ts, UserId
from slack_bridge.store_records import (
    MESSAGE_COLUMNS,
    THREAD_ORIGIN,
    OperatorMessage,
    StoredMessage,
    message_of,
)
from slack_bridge.store_tables import SqliteTables

NOTE_ACTIVITY = (
    "INSERT INTO operator_activity (user_id, session_id, at) VALUES (?, ?, ?)"
    " ON CONFLICT (user_id, session_id) DO UPDATE SET at = excluded.at"
)


class OperatorMessages(SqliteTables):
    # ---- operator messages -----------------------------------------------------------

    async def take_operator_message(self, message: OperatorMessage, state: str = "pending") -> bool:
        """Remember a message to deliver (or hold); ``False`` if it was taken before. A
        thread reply also records, in the same transaction, that its author was active in
        that thread (``sessions_of_operator``)."""
        async with self._db.execute(
            f"INSERT OR IGNORE INTO slack_messages ({MESSAGE_COLUMNS}, received_at, state)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
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
            ),
        ) as cursor:
            taken = cursor.rowcount == 1
        if taken and message.origin == THREAD_ORIGIN:
            await self._db.execute_fetchall(
                NOTE_ACTIVITY, (message.user_id, message.session_id, time.time())
            )
        await self._db.commit()
        return taken

    async def operator_message(self, channel: ChannelId, ts: Ts) -> StoredMessage | None:
        row = await self._one(
            f"SELECT {MESSAGE_COLUMNS}, state FROM slack_messages WHERE channel = ? AND ts = ?",
            channel,
            ts,
        )
        return StoredMessage(message_of(row), row[9]) if row else None

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
            f"SELECT {MESSAGE_COLUMNS} FROM slack_messages WHERE state = 'pending'"
            " ORDER BY received_at, ts"
        )
        return [message_of(row) for row in rows]

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

    async def sessions_of_operator(self, user_id: UserId) -> list[SessionId]:
        """The sessions whose threads the operator replied in, most recent first."""
        rows = await self._all(
            "SELECT session_id FROM operator_activity WHERE user_id = ? ORDER BY at DESC", user_id
        )
        return [SessionId(row[0]) for row in rows]
