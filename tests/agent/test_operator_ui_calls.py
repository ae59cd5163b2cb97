"""The calls the tutorial's Streamlit operator UI makes still work on Parlant 3.3.2."""

from parlant.client import AsyncParlantClient

from tests.support.parlant import open_chat


async def test_operator_reads_incrementally_and_replies_as_human_and_as_ai(
    parlant: AsyncParlantClient,
) -> None:
    chat = await open_chat(parlant, customer_name="Sam Carter")
    asked = await chat.say("Please get me a representative")
    await chat.next_ai_reply(asked)
    await chat.turn_finished(asked)

    # The UI's fetch: message events from its last offset, long-polling up to 5 s.
    seen = await parlant.sessions.list_events(
        chat.session_id, kinds="message", min_offset=0, wait_for_data=5
    )
    assert [e.source for e in seen] == ["customer", "ai_agent"]
    last_offset = max(e.offset for e in seen) + 1

    human = await parlant.sessions.create_event(
        chat.session_id,
        kind="message",
        source="human_agent",
        message="Hi Sam, this is Dana from Tier-2.",
        participant={"id": "operator-001", "display_name": "Dana"},
    )
    as_ai = await parlant.sessions.create_event(
        chat.session_id,
        kind="message",
        source="human_agent_on_behalf_of_ai_agent",
        message="I have reopened your claim.",
    )

    fresh = await parlant.sessions.list_events(
        chat.session_id, kinds="message", min_offset=last_offset, wait_for_data=5
    )
    assert [e.id for e in fresh] == [human.id, as_ai.id]
    assert fresh[0].source == "human_agent"
    assert fresh[0].data["message"] == "Hi Sam, this is Dana from Tier-2."
    assert fresh[0].data["participant"] == {"id": "operator-001", "display_name": "Dana"}
    assert fresh[1].source == "human_agent_on_behalf_of_ai_agent"
    assert fresh[1].data["participant"]["display_name"] == "Insurance Support Agent"
    assert all(e.creation_utc is not None for e in fresh)
    assert fresh[0].offset < fresh[1].offset
