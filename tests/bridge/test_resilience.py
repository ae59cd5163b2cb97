"""Outages and restarts lose nothing and repeat nothing; bursts keep their order."""

import asyncio
import re
import sqlite3

from parlant.client import AsyncParlantClient

from tests.bridge.helpers import (
    bot_replies,
    hand_off,
    operator_messages,
    root_of,
    wait_for_thread_text,
)
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.parlant import open_chat
from tests.support.polling import stays_false
from tests.support.processes import AgentServer


def thread_lines(emulator: SlackEmulator, thread_ts: str) -> list[str]:
    """Every line the bridge posted in the thread (combined posts split back, quotes and
    speaker lines taken off)."""
    lines: list[str] = []
    for message in emulator.thread(HANDOFF_CHANNEL, thread_ts)[1:]:
        if message.bot_id:
            lines.extend(
                re.sub(r"^> ?", "", line)
                for line in message.text.splitlines()
                if not re.fullmatch(r"\*[^*]+:\*", line)
            )
    return lines


async def test_fifty_rapid_customer_messages_arrive_in_order_exactly_once(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await wait_for_thread_text(slack_emulator, handoff, "Conversation so far")
    sent = [f"rapid message {n:02d}" for n in range(1, 51)]
    for text in sent:
        await handoff.chat.say(text)

    def mirrored() -> list[str]:
        pattern = re.compile(r"^rapid message \d\d$")
        return [
            line for line in thread_lines(slack_emulator, handoff.thread_ts) if pattern.match(line)
        ]

    await slack_emulator.wait_until(lambda: len(mirrored()) >= 50, 60, message=f"{mirrored()}")
    await asyncio.sleep(1.0)
    assert mirrored() == sent
    posts = [m for m in bot_replies(slack_emulator, handoff) if "rapid message" in m.text]
    print(f"50 customer messages went out in {len(posts)} Slack posts")
    assert len(posts) < 50


async def test_an_operator_reply_waits_for_parlant_to_come_back(
    bridge: BridgeProcess,
    slack_emulator: SlackEmulator,
    customers: AsyncParlantClient,
    bridge_agent: AgentServer,
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await asyncio.to_thread(bridge_agent.stop)
    try:
        await slack_emulator.post_message(
            ids.ALICE, HANDOFF_CHANNEL, "Sorry for the wait", thread_ts=handoff.thread_ts
        )
        await slack_emulator.wait_until(
            lambda: any("unreachable" in e.text for e in slack_emulator.ephemerals(ids.ALICE)),
            15,
        )
    finally:
        await asyncio.to_thread(bridge_agent.start)
    [event] = await operator_messages(handoff.chat, 1, timeout=30)
    assert event.data["message"] == "Sorry for the wait"
    await stays_false(lambda: _more_than(handoff.chat, 1), 2.0)

    # The push stream came back too: new customer messages reach the thread again.
    await handoff.chat.say("Thanks, I'm still here")
    await wait_for_thread_text(slack_emulator, handoff, "I'm still here")


async def _more_than(chat: object, count: int) -> bool:
    from tests.support.parlant import Chat

    assert isinstance(chat, Chat)
    messages = await chat.messages()
    return len([m for m in messages if m.source == "human_agent"]) > count


async def test_a_restarted_bridge_neither_loses_nor_repeats(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers, before=("Hello there",))
    await wait_for_thread_text(slack_emulator, handoff, "Conversation so far")
    await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "Before the restart", thread_ts=handoff.thread_ts
    )
    await operator_messages(handoff.chat, 1)
    await wait_for_thread_text(slack_emulator, handoff, "A person will reply")

    await bridge.stop()
    newcomer = await open_chat(customers, "Handed Off While Down")
    asked = await newcomer.say("Can I speak to a person?")
    await newcomer.turn_finished(asked)
    await handoff.chat.say("Are you still there?")
    await handoff.chat.say("Hello??")
    slack_emulator.retry_delays = (0.05, 0.05, 0.05)
    await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "Written while the bridge was down", thread_ts=handoff.thread_ts
    )
    await slack_emulator.drain()
    missed = slack_emulator.deliveries[-1]
    assert missed.payload["event"]["text"] == "Written while the bridge was down"
    assert not missed.delivered and len(missed.attempts) == 4

    await bridge.start()
    await slack_emulator.wait_until(
        lambda: root_of(slack_emulator, newcomer.session_id) is not None
    )
    events = await operator_messages(handoff.chat, 2, timeout=20)
    assert [e.data["message"] for e in events] == [
        "Before the restart",
        "Written while the bridge was down",
    ]
    await wait_for_thread_text(slack_emulator, handoff, "Hello??")
    await handoff.chat.say("After the restart")
    await wait_for_thread_text(slack_emulator, handoff, "After the restart")
    await asyncio.sleep(1.0)

    lines = thread_lines(slack_emulator, handoff.thread_ts)
    for text in ("Are you still there?", "Hello??", "After the restart"):
        assert lines.count(text) == 1, lines
    assert sum("A person will reply" in line for line in lines) == 1
    roots = [m for m in slack_emulator.messages(HANDOFF_CHANNEL) if m.bot_id]
    assert len(roots) == 2  # this session's and the newcomer's
    assert len(await operator_messages(handoff.chat, 2)) == 2


async def test_a_slack_outage_delays_posts_without_losing_or_repeating_them(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await wait_for_thread_text(slack_emulator, handoff, "A person will reply")
    with slack_emulator.outage():
        await handoff.chat.say("During the outage 1")
        await handoff.chat.say("During the outage 2")
        await asyncio.sleep(2.0)
        assert "During the outage 1" not in thread_lines(slack_emulator, handoff.thread_ts)
    await wait_for_thread_text(slack_emulator, handoff, "During the outage 2", timeout=30)
    await asyncio.sleep(1.0)
    lines = [line for line in thread_lines(slack_emulator, handoff.thread_ts) if "outage" in line]
    assert lines == ["During the outage 1", "During the outage 2"]
    secrets = (slack_emulator.bot_token, slack_emulator.signing_secret)
    assert not any(secret in bridge.log() for secret in secrets)


async def test_a_root_message_whose_ts_was_never_stored_is_found_not_posted_again(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await wait_for_thread_text(slack_emulator, handoff, "A person will reply")
    await bridge.stop()
    # As if the bridge had stopped right after Slack took the root message.
    with sqlite3.connect(bridge.db_path) as db:
        db.execute("UPDATE conversations SET channel = NULL, thread_ts = NULL")
    await bridge.start()
    await handoff.chat.say("Still the same thread?")
    await wait_for_thread_text(slack_emulator, handoff, "Still the same thread?")
    roots = [m for m in slack_emulator.messages(HANDOFF_CHANNEL) if m.bot_id]
    assert [m.ts for m in roots] == [handoff.thread_ts]
