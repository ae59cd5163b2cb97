"""Only operators speak to customers: guests, Slack Connect users and non-operators are held
back everywhere — thread replies, ``/as-ai``, buttons, the modal and the start-up catch-up."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from parlant.client import AsyncParlantClient

from slack_bridge.ids import short_ref
from tests.bridge.helpers import Handoff, hand_off, operator_messages
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.parlant import Chat
from tests.support.polling import stays_false
from tests.support.processes import AgentServer
from tests.support.stack import running_bridge

HELD_BACK = "no_entry_sign"
OUTSIDERS = (ids.GUEST, ids.SINGLE_GUEST, ids.EXTERNAL)


async def _operator_events(chat: Chat) -> list[str]:
    return [
        str(e.data["message"]) for e in await chat.messages() if e.source.startswith("human_agent")
    ]


async def _reply_is_held_back(emulator: SlackEmulator, handoff: Handoff, user: str) -> None:
    ts = await emulator.post_message(
        user, HANDOFF_CHANNEL, f"reply from {user}", thread_ts=handoff.thread_ts
    )
    await emulator.wait_until(
        lambda: HELD_BACK in emulator.reactions(HANDOFF_CHANNEL, ts),
        message=f"no held-back reaction for {user}",
    )
    await emulator.wait_until(
        lambda: any("Not sent to the customer" in e.text for e in emulator.ephemerals(user)),
        message=f"{user} was not told",
    )


async def _command_is_refused(
    emulator: SlackEmulator, user: str, channel: str, text: str, customer: str
) -> None:
    before = len(emulator.ephemerals(user))
    result = await emulator.run_slash_command(user, channel, "/as-ai", text)
    if result.error is not None:
        return  # Slack itself refused (e.g. the app is not in the user's own workspace)
    await emulator.wait_until(lambda: len(emulator.ephemerals(user)) > before)
    answer = emulator.ephemerals(user)[-1].text
    assert "Nothing was sent" in answer, answer
    assert customer not in answer  # no listing of open handoffs for outsiders


async def test_guests_connect_users_and_non_members_cannot_reach_the_customer(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers, "Priya Secret")
    ref = short_ref(handoff.chat.session_id)

    for user in OUTSIDERS:
        await _reply_is_held_back(slack_emulator, handoff, user)
        await slack_emulator.post_message(
            user, HANDOFF_CHANNEL, "!ai approved", thread_ts=handoff.thread_ts
        )
        for channel in (HANDOFF_CHANNEL, ids.dm_id(user)):
            await _command_is_refused(
                slack_emulator, user, channel, f"{ref} as the AI", "Priya Secret"
            )
            await _command_is_refused(slack_emulator, user, channel, "hello", "Priya Secret")
    await _command_is_refused(
        slack_emulator, ids.DAVE, ids.dm_id(ids.DAVE), f"{ref} hi", "Priya Secret"
    )

    # Buttons on the root message do nothing for a guest.
    await slack_emulator.click_button(ids.GUEST, HANDOFF_CHANNEL, handoff.thread_ts, "hand_back")
    await slack_emulator.click_button(ids.GUEST, HANDOFF_CHANNEL, handoff.thread_ts, "reply_as_ai")
    await slack_emulator.drain()
    assert slack_emulator.views_opened(ids.GUEST) == []
    await stays_false(lambda: _operator_events(handoff.chat), 1.5)
    session = await customers.sessions.retrieve(handoff.chat.session_id)
    assert session.mode == "manual"

    # An operator still gets through, and even an operator's /as-ai works only in the channel.
    await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "Alice here", thread_ts=handoff.thread_ts
    )
    [event] = await operator_messages(handoff.chat, 1)
    assert event.data["message"] == "Alice here"
    await slack_emulator.run_slash_command(ids.ALICE, ids.dm_id(ids.ALICE), "/as-ai", f"{ref} hi")
    await slack_emulator.wait_until(
        lambda: any(
            "works only in a handoff channel" in e.text
            for e in slack_emulator.ephemerals(ids.ALICE)
        )
    )
    assert await _operator_events(handoff.chat) == ["Alice here"]


@pytest_asyncio.fixture
async def group_bridge(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    async with running_bridge(
        slack_emulator,
        bridge_agent,
        tmp_path / "bridge",
        extra_env={"SLACK_OPERATORS": f"{ids.SUPPORT_GROUP}, {ids.CAROL}"},
    ) as process:
        yield process


async def test_slack_operators_names_who_answers_even_after_a_restart(
    group_bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    """Alice and Bob through the support group, Carol by id; Dave joins the channel but is
    not listed. Replies posted while the bridge was down go through the same check."""
    handoff = await hand_off(slack_emulator, customers)
    slack_emulator.state.workspace.join(HANDOFF_CHANNEL, ids.DAVE)
    await _reply_is_held_back(slack_emulator, handoff, ids.DAVE)
    await slack_emulator.post_message(
        ids.CAROL, HANDOFF_CHANNEL, "Carol", thread_ts=handoff.thread_ts
    )
    await operator_messages(handoff.chat, 1)

    await group_bridge.stop()
    await slack_emulator.post_message(
        ids.GUEST, HANDOFF_CHANNEL, "guest while down", thread_ts=handoff.thread_ts
    )
    await slack_emulator.post_message(
        ids.CAROL, HANDOFF_CHANNEL, "Carol while down", thread_ts=handoff.thread_ts
    )
    bob_ts = await slack_emulator.post_message(
        ids.BOB, HANDOFF_CHANNEL, "Bob while down", thread_ts=handoff.thread_ts
    )
    await slack_emulator.drain()
    await group_bridge.start()
    await operator_messages(handoff.chat, 2)
    # Bob is an operator (through the group), but Carol owns the case: held, not refused.
    await slack_emulator.wait_until(
        lambda: "raised_hand" in slack_emulator.reactions(HANDOFF_CHANNEL, bob_ts)
    )
    await stays_false(lambda: _more_than(handoff.chat, 2), 1.5)
    assert await _operator_events(handoff.chat) == ["Carol", "Carol while down"]
    assert "no_entry_sign" not in slack_emulator.reactions(HANDOFF_CHANNEL, bob_ts)


async def _more_than(chat: Chat, count: int) -> bool:
    return len(await _operator_events(chat)) > count
