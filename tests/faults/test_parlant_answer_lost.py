"""Parlant stores an operator's reply but the bridge never gets the answer (a 502 from a
proxy, a dropped connection): the reply must not be posted a second time."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from parlant.client import AsyncParlantClient

from tests.bridge.helpers import hand_off, wait_for_thread_text
from tests.faults.helpers import Conversation, finish, log_tail
from tests.faults.lossy_proxy import Loss, LossyProxy
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import BridgeProcess
from tests.support.processes import AgentServer

pytestmark = pytest.mark.faults

PAIRS = 24
PACE = 0.15
LOSSES = {  # before operator reply n: the answers lost
    3: [Loss.BAD_GATEWAY],
    6: [Loss.DROP],
    10: [Loss.BAD_GATEWAY, Loss.BAD_GATEWAY],  # o-010 and o-011
    15: [Loss.DROP, Loss.BAD_GATEWAY],  # o-015 and o-016
    20: [Loss.DROP],
}


@pytest_asyncio.fixture
async def proxy(bridge_agent: AgentServer) -> AsyncIterator[LossyProxy]:
    lossy = await LossyProxy(bridge_agent.url).start()
    try:
        yield lossy
    finally:
        await lossy.stop()


@pytest_asyncio.fixture
async def bridge_behind_proxy(
    slack_emulator: SlackEmulator, proxy: LossyProxy, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    process = BridgeProcess(
        slack_emulator,
        proxy.url,
        tmp_path / "bridge",
        extra_env={"BRIDGE_POLL_SECONDS": "0.5"},
    )
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def test_parlant_stores_but_the_answer_is_lost(
    bridge_behind_proxy: BridgeProcess,
    proxy: LossyProxy,
    slack_emulator: SlackEmulator,
    customers: AsyncParlantClient,
) -> None:
    bridge = bridge_behind_proxy
    handoff = await hand_off(slack_emulator, customers)
    await wait_for_thread_text(slack_emulator, handoff, "A person will reply")
    talk = Conversation(slack_emulator, handoff)

    for n in range(1, PAIRS + 1):
        for how in LOSSES.get(n, []):
            proxy.lose_next_answers(how)
        await talk.customer_says(n)
        await asyncio.sleep(PACE)
        await talk.operator_says(n)
        await asyncio.sleep(PACE)

    report = await talk.settled_report(timeout=60)
    planned = sum(len(losses) for losses in LOSSES.values())
    print(f"\nanswers lost: {[(lost.how.value, lost.upstream_status) for lost in proxy.lost]}")
    print(f"event posts through the proxy: {proxy.event_posts}")
    logs = talk.evidence(report) + log_tail(bridge.log(), 120)
    finish(report, talk.messages, 0, len(proxy.lost), logs)
    # Every planned loss happened, each after Parlant had stored the event.
    assert len(proxy.lost) == planned and proxy.planned == 0, proxy.lost
    assert all(lost.upstream_status in (200, 201) for lost in proxy.lost), proxy.lost
    # How the bridge avoided repeats: it looked before posting again, so each reply was
    # posted to Parlant once.
    assert proxy.event_posts == PAIRS, f"{proxy.event_posts} posts for {PAIRS} replies"
