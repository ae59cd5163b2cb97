"""Slack failing: bursts of 500/503/429, answers lost after Slack stored a post, a thread
that refuses replies. Messages are delayed, never dropped or repeated, and stay in order."""

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from parlant.client import AsyncParlantClient

from agent.handoff import hand_back
from tests.bridge.helpers import hand_off, wait_for_thread_text
from tests.faults.helpers import (
    Conversation,
    finish,
    log_tail,
    recovery_evidence,
    settled_reports,
)
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.records import Answer
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.processes import AgentServer, operator_headers

pytestmark = pytest.mark.faults

PACE = 0.15


@dataclass(frozen=True)
class Burst:
    """Faults injected at once; spent once the emulator has answered ``calls`` more calls
    of each method (``fail_next`` takes the very next calls) and lost the answers of
    ``lost_posts`` more posts it stored."""

    label: str
    inject: Callable[[SlackEmulator], None]
    calls: dict[str, int]
    lost_posts: int = 0

    @property
    def faults(self) -> int:
        return sum(self.calls.values()) + self.lost_posts


def fail(method: str, n: int, status: int) -> Burst:
    return Burst(
        f"{n} x {status} on {method}",
        lambda e: e.fail_next(method, n, status=status, retry_after=1 if status == 429 else None),
        {method: n},
    )


def post_stored_answer_lost(
    status: int | None, then_reads_fail: int = 0, read_status: int = 503
) -> Burst:
    """Slack stores a post but the bridge gets ``status`` (None: the connection drops); the
    bridge's look in the thread (``conversations.replies``) then fails ``then_reads_fail``
    times with ``read_status``."""

    def inject(emulator: SlackEmulator) -> None:
        if then_reads_fail:
            emulator.fail_next(
                "conversations.replies",
                then_reads_fail,
                status=read_status,
                retry_after=1 if read_status == 429 else None,
            )
        emulator.lose_response_after_write("chat.postMessage", 1, status=status)

    how = "dropped connection" if status is None else f"{status}"
    label = f"post stored, answer lost ({how})"
    calls = {}
    if then_reads_fail:
        label += f", then {then_reads_fail} x {read_status} on conversations.replies"
        calls["conversations.replies"] = then_reads_fail
    return Burst(label, inject, calls, lost_posts=1)


BURSTS = [
    fail("chat.postMessage", 3, 500),
    fail("reactions.add", 3, 500),
    post_stored_answer_lost(500),
    fail("chat.postMessage", 2, 503),
    post_stored_answer_lost(None, then_reads_fail=2, read_status=503),
    fail("reactions.add", 2, 503),
    fail("chat.postMessage", 2, 429),
    post_stored_answer_lost(503, then_reads_fail=2, read_status=429),
    fail("reactions.add", 2, 429),
    post_stored_answer_lost(200),  # HTTP 200 {"ok": false, "error": "fatal_error"}
    post_stored_answer_lost(None, then_reads_fail=1, read_status=500),
    post_stored_answer_lost(500),
]


@dataclass
class SlackChaos:
    emulator: SlackEmulator
    faults: int = 0
    log: list[str] = field(default_factory=list)

    def lost_answers(self) -> int:
        calls = self.emulator.calls_to("chat.postMessage")
        return sum(1 for call in calls if call.answer is not Answer.SENT)

    async def run(self, bursts: list[Burst]) -> None:
        """Each burst in turn, once the previous one has been spent."""
        for burst in bursts:
            before = {method: len(self.emulator.calls_to(method)) for method in burst.calls}
            lost_before = self.lost_answers()
            burst.inject(self.emulator)

            def spent(
                burst: Burst = burst,
                before: dict[str, int] = before,
                lost_before: int = lost_before,
            ) -> bool:
                return self.lost_answers() >= lost_before + burst.lost_posts and all(
                    len(self.emulator.calls_to(method)) >= before[method] + n
                    for method, n in burst.calls.items()
                )

            await self.emulator.wait_until(
                spent, 30, message=f"the bridge never made the calls to spend: {burst.label}"
            )
            self.faults += burst.faults
            self.log.append(f"{time.monotonic():.2f} {burst.label}")
            await asyncio.sleep(0.3)


async def test_slack_500_503_429_bursts_delay_but_do_not_drop_or_repeat(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await wait_for_thread_text(slack_emulator, handoff, "A person will reply")
    talk = Conversation(slack_emulator, handoff)
    chaos = SlackChaos(slack_emulator)
    injecting = asyncio.create_task(chaos.run(BURSTS))

    n = 0
    try:
        # Messages flow until every burst was spent (they are what the bridge spends them on).
        # One reply for two customer messages: each reply costs a reactions.add (its ✅),
        # which Slack allows 50 times a minute, and the bridge delivers replies at that pace.
        while not injecting.done() and n < 200:
            n += 1
            await talk.customer_says(n, long=n % 25 == 0)
            await asyncio.sleep(PACE)
            if n % 2 == 0:
                await talk.operator_says(n // 2)
                await asyncio.sleep(PACE)
        await injecting
    finally:
        injecting.cancel()

    report = await talk.settled_report(timeout=90)
    lost_answers = [
        c for c in slack_emulator.calls_to("chat.postMessage") if c.answer is not Answer.SENT
    ]
    print("\n" + "\n".join(chaos.log))
    print(f"posts stored with their answer lost: {len(lost_answers)}")
    print(recovery_evidence(bridge.log()))
    logs = talk.evidence(report) + log_tail(bridge.log(), 120)
    finish(report, talk.messages, 0, chaos.faults, logs)


# ---- a refused thread -------------------------------------------------------------------------


def _ref(root_text: str) -> str:
    found = re.search(r"Handoff (\S+):", root_text)
    assert found, root_text
    return found.group(1)


async def test_one_refused_thread_does_not_stop_the_others(
    bridge: BridgeProcess,
    slack_emulator: SlackEmulator,
    customers: AsyncParlantClient,
    bridge_agent: AgentServer,
) -> None:
    emulator = slack_emulator
    refused = Conversation(emulator, await hand_off(emulator, customers, "Ann Refused"), "A-")
    await wait_for_thread_text(emulator, refused.handoff, "A person will reply")
    flowing = Conversation(emulator, await hand_off(emulator, customers, "Bo Flowing"), "B-")
    await wait_for_thread_text(emulator, flowing.handoff, "A person will reply")
    ref = _ref(refused.handoff.root.text)

    emulator.refuse_thread(HANDOFF_CHANNEL, refused.thread_ts)
    shown_before = list(refused.bot_posts())
    posts_before = len(emulator.calls_to("chat.postMessage"))
    for n in range(1, 16):
        await refused.customer_says(n)
        await flowing.customer_says(n)
        if n % 3 == 0:  # operators still answer in both threads
            await refused.operator_says(n // 3)
            await flowing.operator_says(n // 3)
        await asyncio.sleep(PACE)

    def notice_shown() -> bool:
        return any(
            m.bot_id and ref in m.text and "no longer accepts" in m.text
            for m in emulator.messages(HANDOFF_CHANNEL)
        )

    await emulator.wait_until(
        notice_shown,
        15,
        message=f"no notice about {ref} in the channel: "
        f"{[m.text for m in emulator.messages(HANDOFF_CHANNEL)]}",
    )
    # The other thread got everything, in order, while this one was refused.
    flowing_report = await flowing.settled_report(timeout=60)
    flowing_clean = (flowing_report.lost, flowing_report.duplicated, flowing_report.reordered)
    assert flowing_clean == (0, 0, 0), (
        f"while {ref} was refused, the other thread did not get its messages:\n  "
        + flowing_report.details()
        + "\n"
        + log_tail(bridge.log(), 100)
    )
    assert refused.bot_posts() == shown_before, "a refused thread showed new posts"
    refused_calls = [
        c
        for c in emulator.calls_to("chat.postMessage")[posts_before:]
        if c.params.get("thread_ts") == refused.thread_ts
    ]
    print(f"\nposts tried in the refused thread: {len(refused_calls)}")

    # The thread takes replies again; the session goes back to the AI, then to a person.
    emulator.accept_thread(HANDOFF_CHANNEL, refused.thread_ts)
    async with aiohttp.ClientSession(headers=operator_headers()) as http:
        await hand_back(http, bridge_agent.url, refused.chat.session_id, speak=False)

    def root_says_returned() -> bool:
        root = emulator.message(HANDOFF_CHANNEL, refused.thread_ts)
        return root is not None and "Back with the AI" in root.text

    await emulator.wait_until(root_says_returned, 15, message="the hand-back was not noticed")
    asked = await refused.chat.say("Please let me talk to a human again")
    await refused.chat.turn_finished(asked)
    await wait_for_thread_text(emulator, refused.handoff, "Handed off again", timeout=20)
    for n in range(16, 21):
        await refused.customer_says(n)
        await refused.operator_says(n - 10)
        await asyncio.sleep(PACE)

    report = await settled_reports([refused, flowing], timeout=60)
    messages = refused.messages + flowing.messages
    logs = refused.evidence(report) + flowing.evidence(report) + log_tail(bridge.log(), 120)
    finish(report, messages, 0, 1, logs)
