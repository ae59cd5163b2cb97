"""The bridge's store upgrades a database made by an earlier release in place."""

import asyncio
import sqlite3
from pathlib import Path

from slack_bridge.cases import CaseState
from slack_bridge.ids import ChannelId, EventId, SessionId, Ts, UserId
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


RELEASE_3_DATABASE = Path(__file__).parent / "data" / "handoff-release-3.db"
"""Made by the bridge's store before cases existed (schema version 3): an open thread with a
delivered and a pending reply, and a thread already returned to the AI."""


async def test_a_database_of_the_release_before_cases_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "handoff.db"
    path.write_bytes(RELEASE_3_DATABASE.read_bytes())
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3

    store = await HandoffStore.open(path)
    try:
        still_open = await store.conversation(SessionId("sess-open"))
        returned = await store.conversation(SessionId("sess-back"))
        assert still_open is not None and returned is not None
        assert (still_open.case.state, still_open.case.owner) == (CaseState.WAITING, None)
        assert still_open.active and still_open.mirrored
        assert (still_open.cursor, still_open.last_post_ts) == (5, "1763632805.000100")
        # Returned to the AI by the old release, whose threads stopped following: resolved.
        assert returned.case.state is CaseState.RESOLVED and not returned.mirrored
        assert [c.session_id for c in await store.conversations(mirrored=True)] == ["sess-open"]

        [pending] = await store.pending_operator_messages()
        assert (pending.text, pending.user_team, pending.reply_to) == (
            "still pending",
            "T0HOME",
            None,
        )
        delivered = await store.operator_message(ChannelId("C0HANDOFF"), Ts("1763632810.000200"))
        assert delivered is not None and delivered.state == "delivered"
        assert await store.created_by_bridge(EventId("evt-1"))
        assert await store.sessions_of_operator(UserId("U0ALICE")) == ["sess-open"]

        claimed = await store.claim(SessionId("sess-open"), UserId("U0BOB"))
        assert claimed is not None and claimed.owner == "U0BOB"
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_of_two_claims_at_once_exactly_one_wins(tmp_path: Path) -> None:
    store = await HandoffStore.open(tmp_path / "handoff.db")
    try:
        session = SessionId("s-race")
        await store.create_conversation(session, "Jo", "help", "2026-11-25T10:00:00+00:00")
        results = await asyncio.gather(
            *(store.claim(session, UserId(f"U0OP{n}")) for n in range(8))
        )
        owners = {case.owner for case in results if case is not None}
        assert len(owners) == 1
        [owner] = owners
        # A plain claim does not move ownership; taking over does; release needs the owner.
        late = await store.claim(session, UserId("U0LATE"))
        assert late is not None and late.owner == owner
        assert not await store.release(session, UserId("U0LATE"))
        taken = await store.claim(session, UserId("U0LATE"), take_over=True)
        assert taken is not None and (taken.owner, taken.by) == ("U0LATE", "U0LATE")
        assert await store.release(session, UserId("U0LATE"))
        back = await store.conversation(session)
        assert back is not None and back.case.state is CaseState.WAITING
        # A case with the AI cannot be claimed.
        assert await store.set_state(session, CaseState.WITH_AI, UserId("U0LATE"))
        after = await store.claim(session, UserId("U0OP1"))
        assert after is not None and (after.state, after.owner) == (CaseState.WITH_AI, None)
    finally:
        await store.close()


async def test_two_sessions_whose_short_references_collide_both_get_one(tmp_path: Path) -> None:
    from slack_bridge.ids import short_ref

    seen: dict[str, str] = {}
    for n in range(100_000):
        session = f"session-{n}"
        ref = short_ref(SessionId(session), 4)
        if ref in seen:
            first, second = SessionId(seen[ref]), SessionId(session)
            break
        seen[ref] = session
    store = await HandoffStore.open(tmp_path / "handoff.db")
    try:
        created = await asyncio.gather(
            *(store.create_conversation(s, "Jo", "help", "2026-11-25") for s in (first, second))
        )
        refs = {c.ref for c in created}
        assert len(refs) == 2 and short_ref(first, 4) in refs
    finally:
        await store.close()
