"""The conversations kept in memory never disagree with the store's rows."""

import asyncio
from pathlib import Path

from slack_bridge.cases import CaseState
from slack_bridge.conversation_cache import ConversationCache
from slack_bridge.ids import ChannelId, SessionId, Ts, UserId
from slack_bridge.store import THREAD_ORIGIN, HandoffStore, OperatorMessage
from slack_bridge.store_records import CONVERSATION_COLUMNS, conversation_of

CHANNEL = ChannelId("C0H")


async def _store_with_threads(path: Path, count: int) -> HandoffStore:
    store = await HandoffStore.open(path)
    for n in range(count):
        session = SessionId(f"s{n}")
        await store.create_conversation(session, "Jo", "help", "2026-11-01")
        await store.set_thread(session, CHANNEL, Ts(f"100.{n:06d}"))
    return store


async def test_a_read_conversation_is_served_from_memory_until_its_row_changes(
    tmp_path: Path,
) -> None:
    store = await _store_with_threads(tmp_path / "handoff.db", 1)
    try:
        first = await store.conversation_by_thread(CHANNEL, Ts("100.000000"))
        assert first is not None
        assert await store.conversation(SessionId("s0")) is first  # no second read

        case = await store.claim(SessionId("s0"), UserId("U0A"))
        assert case is not None and case.owner == UserId("U0A")
        claimed = await store.conversation_by_thread(CHANNEL, Ts("100.000000"))
        assert claimed is not None and claimed.case.state is CaseState.CLAIMED

        await store.set_cursor(SessionId("s0"), 7)
        moved = await store.conversation(SessionId("s0"))
        assert moved is not None and moved.cursor == 7
    finally:
        await store.close()


async def test_a_read_racing_a_write_is_not_kept(tmp_path: Path) -> None:
    store = await _store_with_threads(tmp_path / "handoff.db", 1)
    try:
        session = SessionId("s0")
        # Started together: whichever the read saw, the next read sees the claim.
        await asyncio.gather(store.conversation(session), store.claim(session, UserId("U0A")))
        now = await store.conversation(session)
        assert now is not None and now.case.owner == UserId("U0A")
    finally:
        await store.close()


async def test_resolved_cases_are_not_kept_in_memory(tmp_path: Path) -> None:
    store = await _store_with_threads(tmp_path / "handoff.db", 2)
    try:
        await store.set_state(SessionId("s1"), CaseState.RESOLVED, UserId("U0A"))
        for session in (SessionId("s0"), SessionId("s1")):
            assert await store.conversation(session) is not None
        assert len(store._cache) == 1
    finally:
        await store.close()


async def test_a_thread_reply_is_taken_with_its_authors_activity_once(tmp_path: Path) -> None:
    store = await _store_with_threads(tmp_path / "handoff.db", 1)
    try:
        reply = OperatorMessage(
            CHANNEL, Ts("100.000009"), SessionId("s0"), UserId("U0B"), False, "hi", THREAD_ORIGIN
        )
        assert await store.take_operator_message(reply)
        assert not await store.take_operator_message(reply)
        assert await store.sessions_of_operator(UserId("U0B")) == [SessionId("s0")]
    finally:
        await store.close()


def _conversation_row(session: str, thread: str) -> tuple[object, ...]:
    return (session, session[:4], "Jo", "help", "2026-11-01", "C0H", thread, 0, 0.0, None,
            "waiting", 0.0, None, None, None, None, None, 0)  # fmt: skip


def test_the_cache_holds_at_most_its_capacity_least_recently_used_first_out() -> None:
    cache = ConversationCache(capacity=2)
    for n in range(3):
        cache.keep(conversation_of(_conversation_row(f"s{n}", f"1.{n}")), cache.generation)
        if n == 1:
            assert cache.get(SessionId("s0")) is not None  # s0 used: s1 is the oldest
    assert cache.get(SessionId("s1")) is None
    assert cache.by_thread(CHANNEL, Ts("1.1")) is None
    assert cache.by_thread(CHANNEL, Ts("1.0")) is not None
    assert len(cache) == 2


def test_a_read_begun_before_a_write_is_not_kept() -> None:
    cache = ConversationCache()
    began = cache.generation
    cache.forget(SessionId("s0"))
    cache.keep(conversation_of(_conversation_row("s0", "1.0")), began)
    assert cache.get(SessionId("s0")) is None


async def test_cursor_moves_keep_the_entry_and_match_the_row(tmp_path: Path) -> None:
    store = await _store_with_threads(tmp_path / "handoff.db", 1)
    session = SessionId("s0")

    async def row() -> object:
        found = await store._one(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE session_id = ?", session
        )
        assert found is not None
        return conversation_of(found)

    try:
        assert await store.conversation(session) is not None
        for step in (
            store.mark_posting(session),
            store.set_cursor(session, 5, Ts("100.000005")),
            store.set_cursor(session, 3),  # never backwards
            store.set_cursor(session, 6, settled=True),
            store.mark_posting(session),
        ):
            await step
            assert len(store._cache) == 1
            assert await store.conversation(session) == await row()
    finally:
        await store.close()
