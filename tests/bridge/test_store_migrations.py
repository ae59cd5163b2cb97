"""The bridge's store upgrades a database made by an earlier release in place."""

import sqlite3
from pathlib import Path

from slack_bridge.ids import ChannelId, SessionId, Ts, UserId
from slack_bridge.migrations import MIGRATIONS
from slack_bridge.store import HandoffStore, OperatorMessage


def _first_release_database(path: Path) -> None:
    """The tables exactly as the first release created them (no version recorded)."""
    with sqlite3.connect(path) as db:
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute(
            "INSERT INTO conversations (session_id, ref, customer_name, reason, requested_at,"
            " channel, thread_ts, cursor, opened_at) VALUES"
            " ('s1', 'H-AAAA', 'Jo', 'help', '2026-01-01T00:00:00+00:00', 'C0H', '1.1', 7, 1.0)"
        )
        db.execute(
            "INSERT INTO slack_messages (channel, ts, session_id, user_id, as_ai, text, origin,"
            " received_at) VALUES ('C0H', '1.2', 's1', 'U0A', 0, 'pending reply', 'thread', 2.0)"
        )


async def test_a_first_release_database_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "handoff.db"
    _first_release_database(path)

    store = await HandoffStore.open(path)
    try:
        conversation = await store.conversation(SessionId("s1"))
        assert conversation is not None
        assert (conversation.ref, conversation.cursor, conversation.thread_ts) == (
            "H-AAAA",
            7,
            "1.1",
        )
        [pending] = await store.pending_operator_messages()
        assert (pending.text, pending.user_team) == ("pending reply", None)
        connect_reply = OperatorMessage(
            ChannelId("C0H"),
            Ts("1.3"),
            SessionId("s1"),
            UserId("U0X"),
            False,
            "hi",
            "thread",
            user_team="T0OTHER",
        )
        assert await store.take_operator_message(connect_reply)
        assert [m.user_team for m in await store.pending_operator_messages()] == [None, "T0OTHER"]
    finally:
        await store.close()

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    reopened = await HandoffStore.open(path)  # nothing left to apply: opens as it is
    await reopened.close()
