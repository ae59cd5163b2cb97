"""Agents without the push stream still work: handoffs found by reconciling, messages polled."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from parlant.client import AsyncParlantClient

from tests.bridge.helpers import hand_off, operator_messages, wait_for_thread_text
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.processes import AgentServer
from tests.support.proxy import ParlantProxy


@pytest_asyncio.fixture
async def bridge_without_stream(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    proxy = await ParlantProxy(bridge_agent.url, frozenset({"/handoff/stream"})).start()
    process = BridgeProcess(
        slack_emulator,
        proxy.url,
        tmp_path / "bridge",
        extra_env={"BRIDGE_POLL_SECONDS": "0.5"},
    )
    try:
        await process.start()
        yield process
    finally:
        await process.stop()
        await proxy.stop()


async def test_polling_fallback_relays_both_ways(
    bridge_without_stream: BridgeProcess,
    slack_emulator: SlackEmulator,
    customers: AsyncParlantClient,
) -> None:
    handoff = await hand_off(slack_emulator, customers, "Pat Poll")
    await wait_for_thread_text(slack_emulator, handoff, "Conversation so far")
    await handoff.chat.say("Polled message")
    await wait_for_thread_text(slack_emulator, handoff, "Polled message")
    await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "Answer via polling", thread_ts=handoff.thread_ts
    )
    [event] = await operator_messages(handoff.chat, 1)
    assert event.data["message"] == "Answer via polling"
    assert "polling open threads" in bridge_without_stream.log()
