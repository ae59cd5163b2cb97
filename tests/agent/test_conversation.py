"""The journeys and guidelines behave as the tutorial describes, with the offline model."""

from parlant.client import AsyncParlantClient

from tests.support.parlant import open_chat
from tests.support.polling import eventually


async def test_claim_journey_asks_for_details_then_files_the_claim(
    parlant: AsyncParlantClient,
) -> None:
    chat = await open_chat(parlant)
    start = await chat.say("I need to file a claim")
    ask = await chat.next_ai_reply(start)
    assert "what happened" in ask.data["message"]
    await chat.turn_finished(start)
    assert await chat.tool_events(start.offset) == []

    details = await chat.say("My car was rear-ended yesterday on Main Street")
    tool_events = await eventually(lambda: chat.tool_events(details.offset), what="file_claim")
    call = tool_events[0].data["tool_calls"][0]
    assert call["tool_id"] == "built-in:file_claim"
    assert call["arguments"] == {"claim_details": "My car was rear-ended yesterday on Main Street"}
    confirmation = await chat.next_ai_reply(details)
    assert confirmation.data["message"].startswith("Your claim has been submitted.")
    assert "rear-ended yesterday on Main Street" in confirmation.data["message"]


async def test_policy_journey_explains_coverage(parlant: AsyncParlantClient) -> None:
    chat = await open_chat(parlant)
    question = await chat.say("What does my policy cover?")
    reply = await chat.next_ai_reply(question)
    assert "POL-7788" in reply.data["message"]
    assert "$50,000" in reply.data["message"]
    tools = await chat.tool_events(question.offset)
    assert tools[0].data["tool_calls"][0]["tool_id"] == "built-in:get_policy_details"


async def test_unrelated_topics_are_redirected(parlant: AsyncParlantClient) -> None:
    chat = await open_chat(parlant)
    question = await chat.say("Can you tell me a joke about the weather?")
    reply = await chat.next_ai_reply(question)
    assert reply.data["message"].startswith("I can only help with insurance questions")


async def test_legal_interpretation_is_declined(parlant: AsyncParlantClient) -> None:
    chat = await open_chat(parlant)
    question = await chat.say("Legally, does my coverage mean I can sue the other driver?")
    reply = await chat.next_ai_reply(question)
    assert reply.data["message"].startswith("I'm not able to give legal advice")


async def test_glossary_answers_contact_questions(parlant: AsyncParlantClient) -> None:
    chat = await open_chat(parlant)
    question = await chat.say("What is your phone number and opening hours?")
    reply = await chat.next_ai_reply(question)
    assert "+1-555-INSURE" in reply.data["message"]
    assert "Mon-Fri, 9AM-6PM" in reply.data["message"]
