"""What keeps the bridge's costs flat: pruning past the retention period without breaking
dedup, and pacing Web API calls within Slack's tiers."""

import asyncio
import time
from pathlib import Path

from slack_bridge.cases import CaseState
from slack_bridge.ids import ChannelId, EventId, SessionId, Ts, UserId
from slack_bridge.paced_client import MethodPacer
from slack_bridge.store import THREAD_ORIGIN, HandoffStore, OperatorMessage

DAY = 86_400.0


def _reply(session: str, ts: str) -> OperatorMessage:
    return OperatorMessage(
        ChannelId("C0H"),
        Ts(ts),
        SessionId(session),
        UserId("U0A"),
        False,
        f"text {ts}",
        THREAD_ORIGIN,
    )


async def test_pruning_forgets_old_closed_cases_and_keeps_what_dedup_needs(
    tmp_path: Path,
) -> None:
    store = await HandoffStore.open(tmp_path / "handoff.db")
    try:
        for session in ("open", "closed"):
            await store.create_conversation(SessionId(session), "Jo", "help", "2026-11-01")
        old = {"open": _reply("open", "1000.000001"), "closed": _reply("closed", "1000.000002")}
        for message in old.values():
            assert await store.take_operator_message(message)
            await store.mark_delivered(message, EventId(f"evt-{message.session_id}"))
        pending = _reply("open", "1000.000003")
        assert await store.take_operator_message(pending)
        await store._db.execute(
            "UPDATE slack_messages SET received_at = ?", (time.time() - 40 * DAY,)
        )
        await store._db.commit()
        await store.set_state(SessionId("closed"), CaseState.RESOLVED, UserId("U0A"))
        await store._db.execute(
            "UPDATE conversations SET state_since = ? WHERE session_id = 'closed'",
            (time.time() - 35 * DAY,),
        )
        await store._db.commit()
        recent = _reply("open", "2000.000001")  # inside Slack's retry window
        assert await store.take_operator_message(recent)

        assert await store.prune(time.time() - 30 * DAY) > 0

        # Dedup still holds where it matters: an open case's old reply and a recent one are
        # refused again; the pending one keeps its text for delivery.
        assert not await store.take_operator_message(old["open"])
        assert not await store.take_operator_message(recent)
        [still_pending] = [m for m in await store.pending_operator_messages() if m.ts == pending.ts]
        assert still_pending.text == pending.text
        kept = await store.operator_message(ChannelId("C0H"), old["open"].ts)
        assert kept is not None and kept.message.text == ""  # its text is gone
        # The case resolved 35 days ago is forgotten (its thread is never read again).
        assert await store.operator_message(ChannelId("C0H"), old["closed"].ts) is None
        assert not await store.created_by_bridge(EventId("evt-closed"))
        assert await store.created_by_bridge(EventId("evt-open"))
        recent_row = await store.operator_message(ChannelId("C0H"), recent.ts)
        assert recent_row is not None and recent_row.message.text == recent.text
    finally:
        await store.close()


async def test_a_method_waits_for_its_turn_past_its_burst() -> None:
    pacer = MethodPacer({"conversations.replies": 120})  # 2 a second, a burst of 60
    waited = [await pacer.take("conversations.replies") for _ in range(62)]
    assert waited[:60] == [0.0] * 60
    assert 0.4 <= waited[60] <= 0.6 and 0.4 <= waited[61] <= 0.6
    assert await pacer.take("chat.postMessage") == 0.0  # paced per channel elsewhere


async def test_urgent_calls_go_before_waiting_ones_and_a_cancelled_wait_loses_nothing() -> None:
    pacer = MethodPacer({"reactions.add": 1200})  # 20 a second, a burst of 600
    for _ in range(600):
        await pacer.take("reactions.add")  # the burst used up: every call now waits 50 ms
    order: list[str] = []

    async def call(name: str, urgent: bool) -> None:
        await pacer.take("reactions.add", urgent=urgent)
        order.append(name)

    backlog = [asyncio.create_task(call(f"root {n}", False)) for n in range(4)]
    await asyncio.sleep(0)  # the backlog queues first
    given_up = asyncio.create_task(call("cancelled", True))
    receipt = asyncio.create_task(call("receipt", True))
    await asyncio.sleep(0)
    given_up.cancel()
    await asyncio.gather(*backlog, receipt)
    # The first root call already held the turn; the receipt goes next, the rest after it.
    assert order == ["root 0", "receipt", "root 1", "root 2", "root 3"]
    assert given_up.cancelled()
