"""Slack → Parlant: thread replies, ``!ai``, notes, ``/as-ai``, the modal and hand-back."""

from parlant.client import AsyncParlantClient

from slack_bridge.ids import short_ref
from tests.bridge.helpers import (
    bot_replies,
    hand_back_from_slack,
    hand_off,
    operator_messages,
    replies,
    wait_for_thread_text,
)
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.polling import stays_false


async def test_a_thread_reply_reaches_the_customer_decoded_and_attributed(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers, "Jo Park")
    reply_ts = await slack_emulator.post_message(
        ids.ALICE,
        HANDOFF_CHANNEL,
        "Hi Jo, <@U0BOB> & I checked <https://docs.example/claims|the claim guide> "
        "and <#C0GENERAL|general>, <!here>",
        thread_ts=handoff.thread_ts,
        raw=True,
    )
    [event] = await operator_messages(handoff.chat, 1)

    assert event.source == "human_agent"
    assert event.data["participant"] == {"id": ids.ALICE, "display_name": "alice"}
    assert event.data["message"] == (
        "Hi Jo, @bob & I checked the claim guide (https://docs.example/claims) and #general, @here"
    )
    await slack_emulator.wait_until(
        lambda: "white_check_mark" in slack_emulator.reactions(HANDOFF_CHANNEL, reply_ts)
    )
    # The reply came from the thread: it is never mirrored back into it.
    await stays_false(
        lambda: _async([m for m in bot_replies(slack_emulator, handoff) if "Jo, @" in m.text]),
        1.5,
    )


async def _async(value: object) -> object:
    return value


async def test_as_ai_from_the_thread_and_private_notes(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    note_ts = await slack_emulator.post_message(
        ids.BOB, HANDOFF_CHANNEL, "note: customer sounds upset", thread_ts=handoff.thread_ts
    )
    ai_ts = await slack_emulator.post_message(
        ids.BOB, HANDOFF_CHANNEL, "!ai Your claim is being reviewed.", thread_ts=handoff.thread_ts
    )
    [event] = await operator_messages(handoff.chat, 1)

    assert event.source == "human_agent_on_behalf_of_ai_agent"
    assert event.data["message"] == "Your claim is being reviewed."
    await slack_emulator.wait_until(
        lambda: (
            "robot_face" in slack_emulator.reactions(HANDOFF_CHANNEL, ai_ts)
            and "memo" in slack_emulator.reactions(HANDOFF_CHANNEL, note_ts)
        )
    )
    messages = await handoff.chat.messages()
    assert not any("upset" in str(m.data) for m in messages)


async def test_as_ai_slash_command_with_and_without_a_reference(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers, "Lee Chan")
    ref = short_ref(handoff.chat.session_id)

    # Alice's first reply claims the case; her commands then reach its customer.
    await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "Looking into it", thread_ts=handoff.thread_ts
    )
    await operator_messages(handoff.chat, 1)
    answer = await slack_emulator.run_slash_command(
        ids.ALICE, HANDOFF_CHANNEL, "/as-ai", f"{ref.lower()} We have your documents."
    )
    assert "Sending as the AI" in str(answer)
    await wait_for_thread_text(slack_emulator, handoff, "Sent as the AI")
    shown = await wait_for_thread_text(slack_emulator, handoff, "We have your documents.")
    assert f"<@{ids.ALICE}>" in shown.text

    # Without a reference: the thread Alice replied in most recently.
    await slack_emulator.run_slash_command(ids.ALICE, HANDOFF_CHANNEL, "/as-ai", "All sorted!")
    events = await operator_messages(handoff.chat, 3)
    assert [(e.source, e.data["message"]) for e in events] == [
        ("human_agent", "Looking into it"),
        ("human_agent_on_behalf_of_ai_agent", "We have your documents."),
        ("human_agent_on_behalf_of_ai_agent", "All sorted!"),
    ]
    # The customer sees the AI; Parlant stamps the agent as the participant.
    assert events[1].data["participant"]["display_name"] == "Insurance Support Agent"
    assert events[0].data["participant"]["display_name"] == "alice"


async def test_as_ai_refusals_are_private_and_send_nothing(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    ref = short_ref(handoff.chat.session_id)

    async def answer(text: str) -> str:
        before = len(slack_emulator.ephemerals(ids.BOB))
        await slack_emulator.run_slash_command(ids.BOB, HANDOFF_CHANNEL, "/as-ai", text)
        await slack_emulator.wait_until(lambda: len(slack_emulator.ephemerals(ids.BOB)) > before)
        return slack_emulator.ephemerals(ids.BOB)[-1].text

    assert "not clear which customer" in await answer("hello there")
    assert ref in await answer("hello there")
    assert "No handoff has the reference `H-ZZZZ`" in await answer("H-ZZZZ hello")
    assert "Nothing to send" in await answer(ref)
    await stays_false(lambda: _operator_events(handoff.chat), 1.0)


async def _operator_events(chat: object) -> list[object]:
    from tests.support.parlant import Chat

    assert isinstance(chat, Chat)
    return [m for m in await chat.messages() if m.source.startswith("human_agent")]


async def test_reply_as_ai_modal_and_hand_back(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    await slack_emulator.click_button(ids.ALICE, HANDOFF_CHANNEL, handoff.thread_ts, "reply_as_ai")
    await slack_emulator.wait_until(lambda: bool(slack_emulator.views_opened(ids.ALICE)))
    view = slack_emulator.views_opened(ids.ALICE)[-1]
    await slack_emulator.submit_view(
        ids.ALICE, view.id, {"message": {"text": {"type": "plain_text_input", "value": "A & <b>"}}}
    )
    [event] = await operator_messages(handoff.chat, 1)
    assert (event.source, event.data["message"]) == ("human_agent_on_behalf_of_ai_agent", "A & <b>")

    await hand_back_from_slack(slack_emulator, handoff, ids.ALICE)
    await wait_for_thread_text(slack_emulator, handoff, "Returned to the AI")
    await wait_for_thread_text(slack_emulator, handoff, "back with our virtual assistant")
    await slack_emulator.wait_until(
        lambda: "Back with the AI" in _root_text(slack_emulator, handoff.thread_ts)
    )
    assert "hand_back" not in str(slack_emulator.message(HANDOFF_CHANNEL, handoff.thread_ts))
    session = await customers.sessions.retrieve(handoff.chat.session_id)
    assert session.mode == "auto" and "handoff" not in (session.labels or [])

    late_ts = await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "one more thing", thread_ts=handoff.thread_ts
    )
    await slack_emulator.wait_until(
        lambda: any("no longer handed off" in e.text for e in slack_emulator.ephemerals(ids.ALICE))
    )
    assert "white_check_mark" not in slack_emulator.reactions(HANDOFF_CHANNEL, late_ts)

    # A second handoff reuses the thread.
    asked = await handoff.chat.say("Actually, I need a person again")
    await wait_for_thread_text(slack_emulator, handoff, "Handed off again")
    await wait_for_thread_text(slack_emulator, handoff, "I need a person again")
    await slack_emulator.wait_until(
        lambda: "Waiting" in _root_text(slack_emulator, handoff.thread_ts)
    )
    await handoff.chat.turn_finished(asked)
    roots = [m for m in slack_emulator.messages(HANDOFF_CHANNEL) if m.blocks and m.bot_id]
    assert len(roots) == 1
    assert len([m for m in replies(slack_emulator, handoff) if "Handed off again" in m.text]) == 1


async def test_the_bridge_ignores_what_is_not_an_operator_reply_in_its_threads(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers)
    other_root = await slack_emulator.post_message(ids.ALICE, HANDOFF_CHANNEL, "lunch?")
    await slack_emulator.post_message(ids.BOB, HANDOFF_CHANNEL, "sure", thread_ts=other_root)
    await slack_emulator.post_message(ids.ALICE, HANDOFF_CHANNEL, "top-level chatter")
    await slack_emulator.post_bot_message(
        ids.OTHER_BOT_USER_ID, HANDOFF_CHANNEL, "bot noise", thread_ts=handoff.thread_ts
    )
    slack_emulator.duplicate_deliveries = True
    await slack_emulator.post_message(
        ids.ALICE, HANDOFF_CHANNEL, "only once", thread_ts=handoff.thread_ts
    )
    [event] = await operator_messages(handoff.chat, 1)
    assert event.data["message"] == "only once"
    await slack_emulator.drain()
    await stays_false(lambda: eventually_more(handoff.chat), 1.5)


async def eventually_more(chat: object) -> bool:
    return len(await _operator_events(chat)) > 1


def _root_text(emulator: SlackEmulator, thread_ts: str) -> str:
    root = emulator.message(HANDOFF_CHANNEL, thread_ts)
    return root.text if root is not None else ""
