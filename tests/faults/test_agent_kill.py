"""The agent killed (SIGKILL) mid-conversation and restarted on the same data: what it
acknowledged survives, and the bridge, which kept running, loses and repeats nothing."""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from parlant.client import AsyncParlantClient

from tests.bridge.helpers import hand_off, wait_for_thread_text
from tests.faults.helpers import OPERATOR_SOURCES, Conversation, finish, log_tail
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import BridgeProcess
from tests.support.processes import AgentServer, operator_headers

pytestmark = pytest.mark.faults

PACE = 0.15


@pytest.fixture
def own_agent(tmp_path: Path) -> Iterator[AgentServer]:
    """An agent of this test alone (the module's shared one must not be killed), on a fresh
    home with the default store (SQLite)."""
    with AgentServer(home=tmp_path / "agent-home") as server:
        yield server


@pytest_asyncio.fixture
async def own_customers(own_agent: AgentServer) -> AsyncIterator[AsyncParlantClient]:
    async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
        yield AsyncParlantClient(base_url=own_agent.url, httpx_client=http)


@pytest_asyncio.fixture
async def own_bridge(
    slack_emulator: SlackEmulator, own_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    process = BridgeProcess(slack_emulator, own_agent.url, tmp_path / "bridge")
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def kill_agent(agent: AgentServer) -> None:
    assert agent.process is not None and agent.process.process is not None
    popen = agent.process.process
    os.killpg(popen.pid, signal.SIGKILL)
    await asyncio.to_thread(popen.wait)
    agent.process = None


async def test_agent_killed_mid_conversation_loses_nothing_from_its_store(
    own_bridge: BridgeProcess,
    own_agent: AgentServer,
    slack_emulator: SlackEmulator,
    own_customers: AsyncParlantClient,
) -> None:
    bridge, agent = own_bridge, own_agent
    handoff = await hand_off(slack_emulator, own_customers)
    await wait_for_thread_text(slack_emulator, handoff, "A person will reply")
    talk = Conversation(slack_emulator, handoff)
    kills: list[str] = []

    async def pairs(count: int) -> None:
        for _ in range(count):
            await talk.customer_says()
            await asyncio.sleep(PACE)
            await talk.operator_says()
            await asyncio.sleep(PACE)

    async def operator_replies(count: int) -> None:
        for _ in range(count):
            await talk.operator_says()
            await asyncio.sleep(PACE)

    async def operator_replies_in_parlant() -> int:
        events = await talk.parlant_messages()
        return sum(1 for e in events if e.source in OPERATOR_SOURCES)

    await pairs(12)

    # Kill 1: right after Parlant acknowledged a customer message (the bridge has likely not
    # mirrored it yet; the agent must have it on disk). The operator keeps answering while
    # the agent is down: the bridge must hold those replies until it is back.
    await talk.customer_says()
    await kill_agent(agent)
    kills.append("right after a customer message was acknowledged")
    await asyncio.gather(asyncio.to_thread(agent.start), operator_replies(4))

    await pairs(12)

    # Kill 2: right after an operator reply reached Parlant's store (the bridge may not have
    # its answer yet: it must find the reply, not post it again).
    before = await operator_replies_in_parlant()
    await talk.operator_says()
    deadline = time.monotonic() + 15
    while await operator_replies_in_parlant() <= before and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    await kill_agent(agent)
    kills.append("right after an operator reply was stored")
    await asyncio.gather(asyncio.to_thread(agent.start), operator_replies(2))

    await pairs(12)

    report = await talk.settled_report(timeout=60)
    print("\nagent kills: " + "; ".join(kills))
    finish(report, talk.messages, len(kills), 0, talk.evidence(report) + log_tail(bridge.log()))
