"""After a restart the bridge reads only the threads with replies it has not seen, within
Slack's rate limits (issue: "1,000 live handoffs … catch-up within Slack's limits")."""

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from parlant.client import AsyncParlantClient

from agent.handoff_protocol import hand_off_patch
from tests.bridge.helpers import operator_messages, root_of
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.parlant import Chat, open_chat
from tests.support.processes import AgentServer, operator_headers
from tests.support.stack import running_beating_bridge, seen_so_far

OPEN_THREADS = 20


@pytest_asyncio.fixture
async def beating_bridge(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    async with running_beating_bridge(slack_emulator, bridge_agent, tmp_path / "bridge") as process:
        yield process


async def _handed_off_chats(
    customers: AsyncParlantClient, agent_url: str, count: int
) -> list[Chat]:
    """Sessions handed off through the REST API (as an operator tool would), no AI turns."""
    chats = [await open_chat(customers, f"Waiting {n}") for n in range(count)]
    async with httpx.AsyncClient(headers=operator_headers(), timeout=30) as http:
        for chat in chats:
            response = await http.patch(
                f"{agent_url}/sessions/{chat.session_id}",
                json=hand_off_patch("wants a person"),
            )
            response.raise_for_status()
    return chats


async def test_after_a_restart_only_threads_with_unseen_replies_are_read(
    beating_bridge: BridgeProcess,
    slack_emulator: SlackEmulator,
    customers: AsyncParlantClient,
    bridge_agent: AgentServer,
) -> None:
    emulator = slack_emulator
    assert emulator.rate_limits
    chats = await _handed_off_chats(customers, bridge_agent.url, OPEN_THREADS)
    await emulator.wait_until(
        lambda: all(root_of(emulator, c.session_id) is not None for c in chats), 60
    )
    roots = [root_of(emulator, c.session_id) for c in chats]
    await seen_so_far()

    await beating_bridge.stop()
    missed = {0: "first missed", 11: "second missed", 19: "third missed"}
    for n, text in missed.items():
        root = roots[n]
        assert root is not None
        await emulator.post_message(ids.ALICE, HANDOFF_CHANNEL, text, thread_ts=root.ts)
    await emulator.drain()
    calls_before = len(emulator.calls)
    restarted = time.monotonic()
    await beating_bridge.start()

    for n, text in missed.items():
        [event] = await operator_messages(chats[n], 1, timeout=30)
        assert event.data["message"] == text
    print(f"\nthree missed replies relayed {time.monotonic() - restarted:.1f} s after the start")
    calls = emulator.calls[calls_before:]
    # Only the three threads are read (each once for its missed reply, and once more when
    # the bridge mirrors its first event there after the restart and reads back what the
    # thread already shows); the other 17 open threads are not.
    threads_read = {c.params.get("ts") for c in calls if c.method == "conversations.replies"}
    assert threads_read == {roots[n].ts for n in missed}  # type: ignore[union-attr]
    assert len([c for c in calls if c.method == "conversations.history"]) >= 1
    assert not [c for c in calls if c.http_status == 429], "a call went over Slack's limits"

    # The threads the catch-up did not need to read were released at once.
    other = roots[5]
    assert other is not None
    await emulator.post_message(ids.BOB, HANDOFF_CHANNEL, "live reply", thread_ts=other.ts)
    [event] = await operator_messages(chats[5], 1)
    assert event.data["message"] == "live reply"
