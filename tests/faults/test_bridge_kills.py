"""The bridge killed (SIGKILL) again and again, or stopped (SIGTERM) in the middle of a burst:
every message is still delivered exactly once, in order, both ways."""

import asyncio
import json
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from parlant.client import AsyncParlantClient

from tests.bridge.helpers import hand_off, wait_for_thread_text
from tests.faults.helpers import (
    Conversation,
    Report,
    finish,
    kill_bridge,
    latency_summary,
    log_tail,
    recovery_evidence,
    sigterm_bridge,
)
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.records import Answer
from tests.support.bridge import BridgeProcess

pytestmark = pytest.mark.faults

SEED = 20250917
PAIRS = 100
"""Customer messages, and as many operator replies: 200 messages in all."""
PACE = 0.2
"""Seconds between two messages of the conversation (either side)."""
LONG_EVERY = 20
"""Every 20th customer message (c-010, c-030 …) is long enough to go out in two parts."""


@dataclass
class BridgeKiller:
    """SIGKILLs the bridge at chosen moments and starts it again on the same store and port."""

    bridge: BridgeProcess
    emulator: SlackEmulator
    rng: random.Random
    kills: int = 0
    faults: int = 0
    log: list[str] = field(default_factory=list)

    def _ok_posts(self) -> int:
        return sum(1 for call in self.emulator.calls_to("chat.postMessage") if call.ok)

    async def _kill(self, why: str) -> None:
        await kill_bridge(self.bridge)
        self.kills += 1
        self.log.append(f"{time.monotonic():.2f} kill #{self.kills}: {why}")

    async def right_after_a_post_was_accepted(self) -> None:
        """Slack stored a post and answered; the bridge may not have moved its cursor yet."""
        before = self._ok_posts()
        await self.emulator.wait_until(
            lambda: self._ok_posts() > before, 20, interval=0.001, message="no post accepted"
        )
        await self._kill("right after Slack accepted a post")

    async def right_after_the_first_part_of_a_long_message(self) -> None:
        """A long customer message goes out in parts: Slack took the first, not the rest."""
        before = len(self.emulator.calls_to("chat.postMessage"))

        def first_part_taken() -> bool:
            return any(
                call.ok
                and _payload(call.params).get("part") == 1
                and _payload(call.params).get("parts", 1) > 1
                for call in self.emulator.calls_to("chat.postMessage")[before:]
            )

        await self.emulator.wait_until(first_part_taken, 20, interval=0.001, message="no parts")
        await self._kill("right after Slack took the first part of a long message")

    async def while_the_bridge_records_a_combined_post(self, thread_ts: str) -> None:
        """Slack took a post showing several messages; the bridge is part-way through
        recording that (its stored cursor has moved past some of them, not all).

        Watches the bridge's store (``HANDOFF_DB``) and kills between those writes; when a
        post's writes all land before the kill can, tries the next combined post.
        """
        with closing(sqlite3.connect(self.bridge.db_path)) as db:
            for _ in range(8):
                before = len(self.emulator.calls_to("chat.postMessage"))
                found: list[tuple[str, int]] = []

                def combined_post_taken(before: int = before, found: list[Any] = found) -> bool:
                    for call in self.emulator.calls_to("chat.postMessage")[before:]:
                        payload = _payload(call.params)
                        several = payload.get("first", 0) < payload.get("last", 0)
                        if call.ok and several and not payload.get("transcript"):
                            found.append((str(call.response["ts"]), int(payload["last"])))
                            return True
                    return False

                try:
                    await self.emulator.wait_until(combined_post_taken, 20, interval=0.001)
                except AssertionError:
                    break  # no messages piled up this time: the kill below still lands
                post_ts, last = found[0]
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline:
                    cursor, recorded_ts = db.execute(
                        "SELECT cursor, last_post_ts FROM conversations WHERE thread_ts = ?",
                        (thread_ts,),
                    ).fetchone()
                    if recorded_ts == post_ts:
                        break
                    await asyncio.sleep(0.0005)
                if recorded_ts == post_ts and cursor <= last:
                    await self._kill(
                        f"while the bridge recorded a combined post (cursor {cursor},"
                        f" the post shows offsets up to {last})"
                    )
                    return
        await self._kill("after posts (no combined post, or the window between its writes missed)")

    async def while_a_post_answer_is_on_its_way(self) -> None:
        """Slack stored the post, its answer is delayed: the bridge dies not knowing."""
        before = len(self.emulator.calls_to("chat.postMessage"))
        self.emulator.lose_response_after_write("chat.postMessage", 1, status=None, delay=3.0)
        self.faults += 1

        def delayed() -> bool:
            calls = self.emulator.calls_to("chat.postMessage")[before:]
            return any(call.answer is Answer.DELAYED for call in calls)

        await self.emulator.wait_until(delayed, 20, interval=0.001, message="no delayed post")
        await self._kill("after Slack stored a post whose answer was still on its way")

    async def right_after_an_operator_reply_was_acknowledged(self) -> None:
        """Slack delivered an operator's reply and the bridge acknowledged it (so Slack will
        not deliver it again); the bridge may not have passed it to Parlant yet."""
        start = len(self.emulator.deliveries)

        def acked() -> bool:
            return any(
                d.delivered and d.event.get("user") == ids.ALICE and not d.event.get("bot_id")
                for d in self.emulator.deliveries[start:]
            )

        await self.emulator.wait_until(acked, 20, interval=0.001, message="no reply acked")
        await self._kill("right after the bridge acknowledged an operator reply")

    async def at_a_random_moment(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.2, 2.0))
        await self._kill("at a random moment")

    async def restart(self, *, slow_slack_reads: bool = False) -> None:
        """Down for a while (operator replies posted meanwhile are never delivered by Slack:
        the catch-up must find them), then started again on the same store and port.

        ``slow_slack_reads``: Slack takes 2 s to answer the first two reads of the thread
        (``conversations.replies``: the start-up catch-up, the check of what the thread
        shows), as it does under load or near its rate limit; the operator keeps replying
        meanwhile, and those live replies must not overtake the ones being caught up.
        """
        await asyncio.sleep(self.rng.uniform(0.5, 1.2))
        if slow_slack_reads:
            self.emulator.delay_next("conversations.replies", 2.0, n=2)
            self.faults += 1
        await self.bridge.start()
        slow = " (Slack slow to answer conversations.replies)" if slow_slack_reads else ""
        self.log.append(f"{time.monotonic():.2f} restarted{slow}")


def _payload(params: dict[str, Any]) -> dict[str, Any]:
    """The bridge's Slack message metadata payload of a chat.postMessage call."""
    metadata = params.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    payload = metadata.get("event_payload") or {}
    return payload if isinstance(payload, dict) else {}


def store_evidence(bridge: BridgeProcess, report: Report) -> str:
    """For a failure: how the bridge's store recorded the operator replies concerned (when
    each was taken, in what state), around the ones repeated or out of order."""
    suspects = {t for tally in report.tallies for t in tally.duplicated + tally.reordered}
    numbers = {int(t[2:5]) for t in suspects if t.startswith("o-")}
    if not numbers:
        return ""
    near = {f"o-{n:03d}" for k in numbers for n in range(k - 4, k + 5)}
    with closing(sqlite3.connect(bridge.db_path)) as db:
        rows = db.execute(
            "SELECT text, ts, received_at, state FROM slack_messages ORDER BY ts"
        ).fetchall()
    lines = [
        f"  {text} slack ts {ts} taken at {received:.3f} ({state})"
        for text, ts, received, state in rows
        if text in near
    ]
    return "operator replies in the bridge's store (HANDOFF_DB):\n" + "\n".join(lines) + "\n"


async def test_bridge_killed_repeatedly_during_a_two_way_conversation(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await wait_for_thread_text(slack_emulator, handoff, "A person will reply")
    talk = Conversation(slack_emulator, handoff)
    killer = BridgeKiller(bridge, slack_emulator, random.Random(SEED))

    kills_done = asyncio.Event()

    async def converse() -> None:
        for n in range(1, PAIRS + 1):
            if n == PAIRS:
                await kills_done.wait()  # every kill lands inside the conversation
            await talk.customer_says(n, long=n % LONG_EVERY == LONG_EVERY // 2)
            await asyncio.sleep(PACE)
            await talk.operator_says(n)
            await asyncio.sleep(PACE)

    started = time.monotonic()
    conversation = asyncio.create_task(converse())
    plan: list[tuple[Callable[[], Awaitable[None]], bool]] = [  # (kill, slow Slack reads)
        (killer.right_after_a_post_was_accepted, True),
        (killer.right_after_the_first_part_of_a_long_message, False),
        (killer.right_after_an_operator_reply_was_acknowledged, False),
        (partial(killer.while_the_bridge_records_a_combined_post, handoff.thread_ts), False),
        (killer.while_a_post_answer_is_on_its_way, False),
        (killer.right_after_an_operator_reply_was_acknowledged, True),
        (killer.at_a_random_moment, False),
    ]
    try:
        for kill, slow_slack_reads in plan:
            if conversation.done():
                break
            await kill()
            await killer.restart(slow_slack_reads=slow_slack_reads)
            # Let it work a little before the next kill (it must catch up each time; after
            # slow reads, past the end of the catch-up while the operator keeps replying).
            await asyncio.sleep(4.0 if slow_slack_reads else killer.rng.uniform(0.3, 1.0))
        kills_done.set()
        await conversation
    finally:
        conversation.cancel()

    talked = time.monotonic()
    report = await talk.settled_report(timeout=120)
    print(f"\nconversation {talked - started:.1f}s, settled {time.monotonic() - talked:.1f}s later")
    print("\n" + "\n".join(killer.log) + "\n" + recovery_evidence(bridge.log()))
    print(latency_summary(await talk.operator_latencies()))
    logs = talk.evidence(report) + store_evidence(bridge, report) + log_tail(bridge.log(), 120)
    finish(report, talk.messages, killer.kills, killer.faults, logs)
    assert killer.kills >= 4


async def test_sigterm_during_a_burst(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await wait_for_thread_text(slack_emulator, handoff, "A person will reply")
    talk = Conversation(slack_emulator, handoff)

    for _ in range(30):
        await talk.customer_says()
    replies = [await talk.operator_says() for _ in range(10)]
    # Once the bridge has taken a few replies: the others' events are on their way to it,
    # the taken ones on their way to Parlant, and the customer messages mostly not in Slack
    # yet (one post a second, combined).
    await slack_emulator.wait_until(
        lambda: sum(1 for delivery in replies if delivery.delivered) >= 3, 15, interval=0.001
    )
    acked = sum(1 for delivery in replies if delivery.delivered)
    posts = len(talk.bot_posts())
    code, seconds = await sigterm_bridge(bridge)
    print(
        f"\nSIGTERM with {posts} posts in the thread and {acked} of 10 replies"
        f" acknowledged: exit status {code} after {seconds:.1f}s"
    )
    assert code == 0 and seconds < 15, (
        f"exit status {code} after {seconds:.1f}s\n{log_tail(bridge.log())}"
    )

    await bridge.start()
    report = await talk.settled_report(timeout=60)
    print(recovery_evidence(bridge.log()))
    finish(report, talk.messages, 1, 0, talk.evidence(report) + log_tail(bridge.log(), 120))
