"""Operators run a case from its thread: claim, collisions, take over, hand back with an
instruction, resolve, edits carried through, internal remarks held (issue: "Operators own a
case from Slack"). Real agent (offline model), real bridge, the Slack emulator."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from parlant.client import AsyncParlantClient

from tests.bridge.helpers import (
    Handoff,
    hand_back_from_slack,
    hand_off,
    operator_messages,
    replies,
    wait_for_thread_text,
)
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.records import Ephemeral
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.polling import stays_false
from tests.support.processes import AgentServer
from tests.support.stack import running_bridge


def _root_text(emulator: SlackEmulator, handoff: Handoff) -> str:
    root = emulator.message(HANDOFF_CHANNEL, handoff.thread_ts)
    return f"{root.text} {root.blocks}" if root else ""


def _root_buttons(emulator: SlackEmulator, handoff: Handoff) -> set[str]:
    root = emulator.message(HANDOFF_CHANNEL, handoff.thread_ts)
    assert root is not None
    return {
        element["action_id"]
        for block in root.blocks or []
        if block.get("type") == "actions"
        for element in block["elements"]
    }


async def _wait_root(emulator: SlackEmulator, handoff: Handoff, fragment: str) -> None:
    await emulator.wait_until(
        lambda: fragment in _root_text(emulator, handoff),
        message=f"{fragment!r} not on the root: {_root_text(emulator, handoff)[:300]}",
    )


async def _ephemeral_with(emulator: SlackEmulator, user: str, action_id: str) -> Ephemeral:
    def find() -> Ephemeral | None:
        return next(
            (e for e in emulator.ephemerals(user) if action_id in str(e.blocks or "")), None
        )

    await emulator.wait_until(lambda: find() is not None, message=f"no {action_id} for {user}")
    found = find()
    assert found is not None
    return found


async def _texts(handoff: Handoff) -> list[str]:
    return [
        e.data["message"]
        for e in await handoff.chat.messages()
        if e.source in ("human_agent", "human_agent_on_behalf_of_ai_agent")
    ]


async def test_claim_by_button_holds_a_colleagues_reply_until_they_take_over(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await _wait_root(slack_emulator, handoff, "*Waiting*")
    assert "claim" in _root_buttons(slack_emulator, handoff)

    await slack_emulator.click_button(ids.ALICE, HANDOFF_CHANNEL, handoff.thread_ts, "claim")
    await _wait_root(slack_emulator, handoff, f"Claimed* by <@{ids.ALICE}>")
    assert {"take_over", "release", "resolve"} <= _root_buttons(slack_emulator, handoff)
    await slack_emulator.wait_until(
        lambda: "raising_hand" in slack_emulator.reactions(HANDOFF_CHANNEL, handoff.thread_ts)
    )

    bob_ts = await slack_emulator.post_message(
        ids.BOB, HANDOFF_CHANNEL, "Bob here, I can help", thread_ts=handoff.thread_ts
    )
    notice = await _ephemeral_with(slack_emulator, ids.BOB, "held_take_over")
    assert f"<@{ids.ALICE}>" in notice.text and "keep_internal" in str(notice.blocks)
    await slack_emulator.wait_until(
        lambda: "raised_hand" in slack_emulator.reactions(HANDOFF_CHANNEL, bob_ts)
    )
    await stays_false(lambda: _texts(handoff), 1.0)

    await slack_emulator.click_ephemeral_button(ids.BOB, notice, "held_take_over")
    [event] = await operator_messages(handoff.chat, 1)
    assert (event.data["message"], event.data["participant"]["id"]) == (
        "Bob here, I can help",
        ids.BOB,
    )
    await _wait_root(slack_emulator, handoff, f"Claimed* by <@{ids.BOB}>")
    await slack_emulator.wait_until(
        lambda: any("took over" in e.text for e in slack_emulator.ephemerals(ids.ALICE))
    )
    await slack_emulator.wait_until(
        lambda: (
            "white_check_mark" in slack_emulator.reactions(HANDOFF_CHANNEL, bob_ts)
            and "raised_hand" not in slack_emulator.reactions(HANDOFF_CHANNEL, bob_ts)
        )
    )
    assert any("on its way" in e.text for e in slack_emulator.ephemerals(ids.BOB))

    # Now Alice is the one held; she keeps hers internal. The owner can release.
    await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "ok all yours", thread_ts=handoff.thread_ts
    )
    kept = await _ephemeral_with(slack_emulator, ids.ALICE, "held_keep_internal")
    await slack_emulator.click_ephemeral_button(ids.ALICE, kept, "held_keep_internal")
    await slack_emulator.click_button(ids.BOB, HANDOFF_CHANNEL, handoff.thread_ts, "release")
    await _wait_root(slack_emulator, handoff, "*Waiting*")
    assert await _texts(handoff) == ["Bob here, I can help"]


async def test_two_first_replies_at_once_make_exactly_one_owner(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    alice_ts, bob_ts = await asyncio.gather(
        slack_emulator.post_message(
            ids.ALICE, HANDOFF_CHANNEL, "Alice answering", thread_ts=handoff.thread_ts
        ),
        slack_emulator.post_message(
            ids.BOB, HANDOFF_CHANNEL, "Bob answering", thread_ts=handoff.thread_ts
        ),
    )
    [event] = await operator_messages(handoff.chat, 1)
    owner, other, other_ts = (
        (ids.ALICE, ids.BOB, bob_ts)
        if event.data["participant"]["id"] == ids.ALICE
        else (ids.BOB, ids.ALICE, alice_ts)
    )
    await _wait_root(slack_emulator, handoff, f"Claimed* by <@{owner}>")
    notice = await _ephemeral_with(slack_emulator, other, "held_take_over")
    await slack_emulator.wait_until(
        lambda: "raised_hand" in slack_emulator.reactions(HANDOFF_CHANNEL, other_ts)
    )
    await stays_false(lambda: _more_than_one(handoff), 1.0)

    # Nothing lost: the held reply goes out when its author takes over.
    await slack_emulator.click_ephemeral_button(other, notice, "held_take_over")
    events = await operator_messages(handoff.chat, 2)
    assert {e.data["message"] for e in events} == {"Alice answering", "Bob answering"}
    await _wait_root(slack_emulator, handoff, f"Claimed* by <@{other}>")


async def _more_than_one(handoff: Handoff) -> bool:
    return len(await _texts(handoff)) > 1


async def test_states_in_order_hand_back_with_an_instruction_then_resolve(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers, "Mia Ng")
    seen: list[str] = []

    def state() -> str:
        text = _root_text(slack_emulator, handoff)
        for word in ("*Waiting*", "*Claimed*", "*Back with the AI*", "*Resolved*"):
            if word in text:
                if not seen or seen[-1] != word:
                    seen.append(word)
                return word
        return ""

    await slack_emulator.wait_until(lambda: state() == "*Waiting*")
    await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "Checking your claim now", thread_ts=handoff.thread_ts
    )
    await operator_messages(handoff.chat, 1)
    await slack_emulator.wait_until(lambda: state() == "*Claimed*")

    instruction = "the claim was approved; confirm it and close politely"
    ai_before = await _ai_messages(handoff)
    await hand_back_from_slack(slack_emulator, handoff, ids.ALICE, instruction)
    await slack_emulator.wait_until(lambda: state() == "*Back with the AI*")
    await wait_for_thread_text(slack_emulator, handoff, "the claim was approved", 30)
    await asyncio.sleep(1.5)  # time for a wrong second reply or a new handoff to show
    ai_after = await _ai_messages(handoff)
    [spoken] = ai_after[len(ai_before) :]
    assert instruction in spoken.lower()
    session = await customers.sessions.retrieve(handoff.chat.session_id)
    assert session.mode == "auto" and "handoff" not in (session.labels or [])
    assert not any("Handed off again" in m.text for m in replies(slack_emulator, handoff))

    # The thread still follows the conversation while the AI talks...
    asked = await handoff.chat.say("Thanks! What does my policy cover?")
    await wait_for_thread_text(slack_emulator, handoff, "What does my policy cover?")
    await handoff.chat.turn_finished(asked)
    await wait_for_thread_text(slack_emulator, handoff, "Your policy")

    # ...until the case is resolved.
    await slack_emulator.click_button(ids.ALICE, HANDOFF_CHANNEL, handoff.thread_ts, "resolve")
    await slack_emulator.wait_until(lambda: state() == "*Resolved*")
    await wait_for_thread_text(slack_emulator, handoff, "Resolved")
    assert _root_buttons(slack_emulator, handoff) == set()
    await slack_emulator.wait_until(  # the reaction is swapped right after the edit
        lambda: (
            "white_check_mark" in slack_emulator.reactions(HANDOFF_CHANNEL, handoff.thread_ts)
            and "robot_face" not in slack_emulator.reactions(HANDOFF_CHANNEL, handoff.thread_ts)
        )
    )
    shown = len(replies(slack_emulator, handoff))
    later = await handoff.chat.say("One more question about my deductible")
    await handoff.chat.turn_finished(later)
    await stays_false(lambda: _grew(slack_emulator, handoff, shown), 1.5)
    assert seen == ["*Waiting*", "*Claimed*", "*Back with the AI*", "*Resolved*"]

    # A new handoff reopens the same thread, waiting again.
    again = await handoff.chat.say("I need a person again please")
    await wait_for_thread_text(slack_emulator, handoff, "Handed off again", 30)
    await handoff.chat.turn_finished(again)
    await slack_emulator.wait_until(lambda: state() == "*Waiting*")
    assert "claim" in _root_buttons(slack_emulator, handoff)


async def _ai_messages(handoff: Handoff) -> list[str]:
    return [str(e.data["message"]) for e in await handoff.chat.messages() if e.source == "ai_agent"]


async def _grew(emulator: SlackEmulator, handoff: Handoff, count: int) -> bool:
    return len(replies(emulator, handoff)) > count


async def test_remarks_for_colleagues_wait_for_the_authors_choice(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    mention_ts = await slack_emulator.post_message(
        ids.ALICE,
        HANDOFF_CHANNEL,
        f"<@{ids.BOB}> can you check",
        thread_ts=handoff.thread_ts,
        raw=True,  # a mention, as Slack's client sends it
    )
    notes_ts = await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "Notes: customer sounds upset", thread_ts=handoff.thread_ts
    )
    await slack_emulator.wait_until(
        lambda: (
            len([e for e in slack_emulator.ephemerals(ids.ALICE) if "held_send" in str(e.blocks)])
            == 2
        )
    )
    for ts in (mention_ts, notes_ts):
        await slack_emulator.wait_until(
            lambda ts=ts: "lock" in slack_emulator.reactions(HANDOFF_CHANNEL, ts)
        )
    await stays_false(lambda: _texts(handoff), 1.5)

    first, second = [
        e for e in slack_emulator.ephemerals(ids.ALICE) if "held_send" in str(e.blocks)
    ]
    await slack_emulator.click_ephemeral_button(ids.ALICE, first, "held_send")
    [event] = await operator_messages(handoff.chat, 1)
    assert event.data["message"] == "@bob can you check"
    await slack_emulator.click_ephemeral_button(ids.ALICE, second, "held_keep_internal")
    await slack_emulator.wait_until(
        lambda: "memo" in slack_emulator.reactions(HANDOFF_CHANNEL, notes_ts)
    )
    await stays_false(lambda: _more_than_one(handoff), 1.0)


async def test_an_edit_within_the_window_sends_one_correction(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    ts = await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "Your deductible is $50", thread_ts=handoff.thread_ts
    )
    await operator_messages(handoff.chat, 1)
    await slack_emulator.edit_message(
        ids.ALICE, HANDOFF_CHANNEL, ts, "Your deductible is $500", duplicate=True
    )
    events = await operator_messages(handoff.chat, 2)
    assert [e.data["message"] for e in events] == [
        "Your deductible is $50",
        "Correction: Your deductible is $500",
    ]
    assert events[1].data["participant"]["id"] == ids.ALICE
    await slack_emulator.wait_until(
        lambda: "pencil2" in slack_emulator.reactions(HANDOFF_CHANNEL, ts)
    )
    await stays_false(lambda: _more_than(handoff, 2), 1.5)

    await slack_emulator.delete_message(HANDOFF_CHANNEL, ts)
    await slack_emulator.wait_until(
        lambda: any("already has" in e.text for e in slack_emulator.ephemerals(ids.ALICE))
    )


async def _more_than(handoff: Handoff, count: int) -> bool:
    return len(await _texts(handoff)) > count


@pytest_asyncio.fixture
async def strict_bridge(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    """Edits count only within 0 minutes: every edit is too late."""
    env = {"SLACK_EDIT_WINDOW_MINUTES": "0"}
    async with running_bridge(slack_emulator, bridge_agent, tmp_path, extra_env=env) as bridge:
        yield bridge


async def test_an_edit_outside_the_window_is_not_passed_on(
    strict_bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    ts = await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "See you Monday", thread_ts=handoff.thread_ts
    )
    await operator_messages(handoff.chat, 1)
    await slack_emulator.edit_message(ids.ALICE, HANDOFF_CHANNEL, ts, "See you Tuesday")
    await slack_emulator.wait_until(
        lambda: any("not passed on" in e.text for e in slack_emulator.ephemerals(ids.ALICE))
    )
    await stays_false(lambda: _more_than(handoff, 1), 1.5)


@pytest_asyncio.fixture
async def closing_bridge(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    """Resolved cases stay closed to the AI until their customer writes again."""
    env = {"RESOLVED_SESSIONS": "operators"}
    async with running_bridge(slack_emulator, bridge_agent, tmp_path, extra_env=env) as bridge:
        yield bridge


async def test_a_case_resolved_closed_to_the_ai_reopens_when_the_customer_writes(
    closing_bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers, "Ola Closed")
    await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "All done on our side", thread_ts=handoff.thread_ts
    )
    await operator_messages(handoff.chat, 1)
    await slack_emulator.click_button(ids.ALICE, HANDOFF_CHANNEL, handoff.thread_ts, "resolve")
    await _wait_root(slack_emulator, handoff, "*Resolved*")
    session = await customers.sessions.retrieve(handoff.chat.session_id)
    assert session.mode == "manual" and "handoff" not in (session.labels or [])
    ai_before = await _ai_messages(handoff)

    # Written while the bridge is away: found at its next start.
    await closing_bridge.stop()
    await handoff.chat.say("Sorry, one more thing about the invoice")
    await closing_bridge.start()
    await wait_for_thread_text(slack_emulator, handoff, "Handed off again", 30)
    await wait_for_thread_text(slack_emulator, handoff, "one more thing about the invoice")
    await _wait_root(slack_emulator, handoff, "*Waiting*")
    assert await _ai_messages(handoff) == ai_before  # the AI stayed silent
    again = await customers.sessions.retrieve(handoff.chat.session_id)
    assert again.mode == "manual" and "handoff" in (again.labels or [])

    # Resolved again, and this time the customer writes while the bridge listens.
    await slack_emulator.click_button(ids.ALICE, HANDOFF_CHANNEL, handoff.thread_ts, "resolve")
    await _wait_root(slack_emulator, handoff, "*Resolved*")
    await handoff.chat.say("And the receipt?")
    await wait_for_thread_text(slack_emulator, handoff, "And the receipt?", 30)
    await _wait_root(slack_emulator, handoff, "*Waiting*")
    handed_off_again = [m for m in replies(slack_emulator, handoff) if "Handed off again" in m.text]
    assert len(handed_off_again) == 2
    assert await _ai_messages(handoff) == ai_before


async def test_a_case_back_with_the_ai_and_quiet_is_resolved_by_itself(
    slack_emulator: SlackEmulator,
    bridge_agent: AgentServer,
    customers: AsyncParlantClient,
    tmp_path: Path,
) -> None:
    async with running_bridge(
        slack_emulator,
        bridge_agent,
        tmp_path / "bridge",
        extra_env={"HANDOFF_AUTO_RESOLVE_HOURS": "0.001"},  # 3.6 s
    ):
        handoff = await hand_off(slack_emulator, customers, "Quinn Quiet")
        await hand_back_from_slack(slack_emulator, handoff, ids.ALICE)
        await _wait_root(slack_emulator, handoff, "*Back with the AI*")
        await wait_for_thread_text(slack_emulator, handoff, "Resolved* automatically", 20)
        await _wait_root(slack_emulator, handoff, "*Resolved*")
        session = await customers.sessions.retrieve(handoff.chat.session_id)
        assert session.mode == "auto"  # still with the AI
