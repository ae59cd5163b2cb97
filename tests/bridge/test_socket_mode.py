"""The main path over Socket Mode: no public URL, events over the emulator's websocket."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from parlant.client import AsyncParlantClient

from slack_bridge.ids import short_ref
from tests.bridge.helpers import Handoff, hand_off, operator_messages, wait_for_thread_text
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.parlant import Chat
from tests.support.polling import stays_false
from tests.support.processes import AgentServer
from tests.support.stack import running_beating_bridge, running_bridge, seen_so_far


@pytest_asyncio.fixture
async def socket_bridge(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    async with running_bridge(
        slack_emulator, bridge_agent, tmp_path / "bridge", socket_mode=True
    ) as process:
        yield process


async def test_handoff_reply_and_as_ai_over_socket_mode(
    socket_bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers, "Ana Silva")
    await wait_for_thread_text(slack_emulator, handoff, "Conversation so far")

    await slack_emulator.post_message(
        ids.BOB, HANDOFF_CHANNEL, "Hi Ana, Bob here.", thread_ts=handoff.thread_ts
    )
    await operator_messages(handoff.chat, 1)
    answer = await slack_emulator.run_slash_command(
        ids.BOB, HANDOFF_CHANNEL, "/as-ai", f"{short_ref(handoff.chat.session_id)} Done!"
    )
    assert "Sending as the AI" in str(answer)
    events = await operator_messages(handoff.chat, 2)
    assert [(e.source, e.data["message"]) for e in events] == [
        ("human_agent", "Hi Ana, Bob here."),
        ("human_agent_on_behalf_of_ai_agent", "Done!"),
    ]
    assert events[0].data["participant"] == {"id": ids.BOB, "display_name": "bob"}

    await handoff.chat.say("Great, thank you")
    await wait_for_thread_text(slack_emulator, handoff, "Great, thank you")
    await slack_emulator.drain()
    assert all(d.delivered for d in slack_emulator.deliveries)


async def test_replies_missed_while_socket_mode_was_disconnected_are_relayed_once(
    socket_bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await _reply_while_disconnected(slack_emulator, handoff, "Sent during the disconnection")

    await _reconnect(slack_emulator)
    [event] = await operator_messages(handoff.chat, 1, timeout=30)
    assert event.data["message"] == "Sent during the disconnection"
    await stays_false(lambda: _more_operator_messages(handoff.chat), 1.5)


async def _reply_while_disconnected(emulator: SlackEmulator, handoff: Handoff, text: str) -> None:
    """Socket Mode drops and stays down; Alice replies in the thread; Slack gives up."""
    emulator.refuse_socket_connections()
    await emulator.disconnect_socket_clients()
    await emulator.post_message(ids.ALICE, HANDOFF_CHANNEL, text, thread_ts=handoff.thread_ts)
    await emulator.drain()
    assert not emulator.deliveries[-1].delivered


async def _reconnect(emulator: SlackEmulator) -> None:
    emulator.refuse_socket_connections(False)
    await emulator.wait_for_socket_connection(timeout=30)


async def _more_operator_messages(chat: Chat) -> bool:
    return len([m for m in await chat.messages() if m.source == "human_agent"]) > 1


@pytest_asyncio.fixture
async def beating_socket_bridge(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    async with running_beating_bridge(
        slack_emulator, bridge_agent, tmp_path / "bridge", socket_mode=True
    ) as process:
        yield process


async def test_a_missed_reply_is_relayed_although_the_bridge_posted_after_it(
    beating_socket_bridge: BridgeProcess,
    slack_emulator: SlackEmulator,
    customers: AsyncParlantClient,
) -> None:
    """While Socket Mode reconnects the bridge goes on mirroring the customer: the thread's
    newest reply is then the bridge's own, and the operator's missed reply sits before it."""
    handoff = await hand_off(slack_emulator, customers)
    await wait_for_thread_text(slack_emulator, handoff, "Conversation so far")
    await seen_so_far()
    await _reply_while_disconnected(slack_emulator, handoff, "Missed, then buried")
    await handoff.chat.say("Hello? Anyone there?")
    await wait_for_thread_text(slack_emulator, handoff, "Anyone there?")

    await _reconnect(slack_emulator)
    [event] = await operator_messages(handoff.chat, 1, timeout=30)
    assert event.data["message"] == "Missed, then buried"
    await stays_false(lambda: _more_operator_messages(handoff.chat), 1.5)
