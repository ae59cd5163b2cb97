"""The handoff path on the real engine with the offline model."""

from datetime import datetime

import aiohttp
from parlant.client import AsyncParlantClient

from agent.handoff import HANDOFF_LABEL, HANDOFF_METADATA_KEY, hand_back, is_handed_off
from tests.support.parlant import Chat, open_chat
from tests.support.polling import eventually, stays_false
from tests.support.processes import AgentServer, operator_headers


async def _session_json(server: AgentServer, session_id: str) -> dict[str, object]:
    async with (
        aiohttp.ClientSession(headers=operator_headers()) as http,
        http.get(f"{server.url}/sessions/{session_id}") as response,
    ):
        response.raise_for_status()
        body: dict[str, object] = await response.json()
        return body


async def _hand_off(chat: Chat, text: str = "I want to talk to a human") -> None:
    asked = await chat.say(text)
    await chat.next_ai_reply(asked)
    await chat.turn_finished(asked)


async def test_asking_for_a_human_hands_the_session_off(
    parlant: AsyncParlantClient, agent_server: AgentServer
) -> None:
    chat = await open_chat(parlant)
    asked = await chat.say("I want to talk to a human")

    tool_events = await eventually(lambda: chat.tool_events(asked.offset), what="a tool event")
    calls = [call for event in tool_events for call in event.data["tool_calls"]]
    assert [c["tool_id"] for c in calls] == ["built-in:initiate_human_handoff"]
    assert calls[0]["arguments"] == {"reason": "I want to talk to a human"}
    assert calls[0]["result"]["control"] == {"mode": "manual"}

    reply = await chat.next_ai_reply(asked)
    assert "support team" in reply.data["message"]
    await chat.turn_finished(asked)
    assert len(await chat.ai_replies_after(asked)) == 1

    session = await parlant.sessions.retrieve(chat.session_id)
    assert session.mode == "manual"
    assert HANDOFF_LABEL in (session.labels or [])
    record = session.metadata[HANDOFF_METADATA_KEY]
    assert record["reason"] == "I want to talk to a human"
    assert datetime.fromisoformat(record["requested_at"]).tzinfo is not None
    assert is_handed_off(await _session_json(agent_server, chat.session_id))

    listed = await parlant.sessions.list(labels=[HANDOFF_LABEL])
    sessions = listed if isinstance(listed, list) else listed.items
    assert chat.session_id in {s.id for s in sessions}


async def test_no_ai_reply_after_handoff(parlant: AsyncParlantClient) -> None:
    chat = await open_chat(parlant)
    await _hand_off(chat)
    later = await chat.say("Hello? Is anyone there?")
    await stays_false(lambda: chat.ai_replies_after(later), duration=3.0)


async def test_second_handoff_keeps_one_record_of_the_same_shape(
    parlant: AsyncParlantClient, agent_server: AgentServer
) -> None:
    chat = await open_chat(parlant)
    await _hand_off(chat, "Can I speak to a manager please")
    first = (await parlant.sessions.retrieve(chat.session_id)).metadata[HANDOFF_METADATA_KEY]

    async with aiohttp.ClientSession(headers=operator_headers()) as http:
        await hand_back(http, agent_server.url, chat.session_id)
    await _hand_off(chat, "Actually I still need a person")

    session = await parlant.sessions.retrieve(chat.session_id)
    second = session.metadata[HANDOFF_METADATA_KEY]
    assert set(first) == set(second) == {"reason", "requested_at"}
    assert second["reason"] == "Actually I still need a person"
    assert (session.labels or []).count(HANDOFF_LABEL) == 1


async def test_handing_back_lets_the_ai_answer_again(
    parlant: AsyncParlantClient, agent_server: AgentServer
) -> None:
    chat = await open_chat(parlant)
    await _hand_off(chat)

    async with aiohttp.ClientSession(headers=operator_headers()) as http:
        await hand_back(http, agent_server.url, chat.session_id)

    session = await parlant.sessions.retrieve(chat.session_id)
    assert session.mode == "auto"
    assert HANDOFF_LABEL not in (session.labels or [])
    assert HANDOFF_METADATA_KEY not in (session.metadata or {})
    assert not is_handed_off(await _session_json(agent_server, chat.session_id))

    question = await chat.say("What does my policy cover?")
    reply = await chat.next_ai_reply(question)
    assert "POL-7788" in reply.data["message"]
