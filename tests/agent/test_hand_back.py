"""Handing a session back to the AI: the protocol as data, and on the real engine."""

import subprocess
import sys
from typing import Any

import aiohttp
import pytest
from parlant.client import AsyncParlantClient
from parlant.client.types.event import Event

from agent.handoff import hand_back
from agent.handoff_protocol import (
    HANDOFF_LABEL,
    HANDOFF_METADATA_KEY,
    MAX_INSTRUCTION_LENGTH,
    RESUME_RATIONALE,
    RETURNED_TO_AI_EVENT,
    clean_instruction,
    hand_back_patch,
    hand_back_requests,
    is_handed_off,
    is_resume_action,
    parse_instruction,
    resume_action,
)
from agent.offline.utterances import WELCOME_BACK
from tests.support.parlant import Chat, open_chat
from tests.support.polling import stays_false
from tests.support.processes import OPERATOR_TOKEN, REPO_ROOT, AgentServer

INSTRUCTION = "the claim was approved; confirm it and close politely"
SETTLE_SECONDS = 2.0

# The protocol as data.


def test_hand_back_is_a_patch_then_a_custom_event_then_the_ai_speaking() -> None:
    patch, note, speak = hand_back_requests("s-1", instruction=INSTRUCTION, speak=True)

    assert (patch.method, patch.path, patch.body) == ("PATCH", "/sessions/s-1", hand_back_patch())
    assert patch.body["mode"] == "auto"
    assert patch.body["metadata"]["unset"] == [HANDOFF_METADATA_KEY]
    assert patch.body["labels"]["remove"] == [HANDOFF_LABEL]
    assert (note.method, note.path) == ("POST", "/sessions/s-1/events")
    assert note.body == {"kind": "custom", "source": "human_agent", "data": RETURNED_TO_AI_EVENT}
    assert (speak.method, speak.path) == ("POST", "/sessions/s-1/events")
    assert speak.body == {
        "kind": "message",
        "source": "ai_agent",
        "guidelines": [{"action": resume_action(INSTRUCTION), "rationale": RESUME_RATIONALE}],
    }
    assert speak.awaits_reply and not patch.awaits_reply and not note.awaits_reply
    assert all(r.what.endswith("s-1") for r in (patch, note, speak))


def test_without_speaking_the_ai_is_not_asked() -> None:
    requests = hand_back_requests("s-1", instruction=INSTRUCTION, speak=False)
    assert [r.method for r in requests] == ["PATCH", "POST"]
    assert requests[1].body["kind"] == "custom"


def test_a_hostile_session_id_stays_one_path_segment() -> None:
    for request in hand_back_requests("../x?y", instruction=None, speak=True):
        assert request.path.startswith("/sessions/..%2Fx%3Fy")
        assert "?" not in request.path
        assert request.path.count("/") in (2, 3)


@pytest.mark.parametrize("session_id", ["", ".", ".."])
def test_ids_that_climb_the_path_are_refused(session_id: str) -> None:
    with pytest.raises(ValueError):
        hand_back_requests(session_id, instruction=None, speak=False)


@pytest.mark.parametrize(
    "instruction",
    [INSTRUCTION, "say ```hi``` then `bye`", "  several\n\nlines\tof  text  ", 'é — «quoted» "x"'],
)
def test_the_instruction_survives_the_round_trip_cleaned(instruction: str) -> None:
    action = resume_action(instruction)
    assert is_resume_action(action)
    parsed = parse_instruction(action)
    assert parsed == clean_instruction(instruction)
    assert parsed is not None and "`" not in parsed and "\n" not in parsed
    assert "  " not in parsed and parsed == parsed.strip()


def test_the_instruction_is_clipped() -> None:
    parsed = parse_instruction(resume_action("word " * MAX_INSTRUCTION_LENGTH))
    assert parsed is not None
    assert len(parsed) <= MAX_INSTRUCTION_LENGTH
    assert parsed.startswith("word word")


@pytest.mark.parametrize("instruction", [None, "", "  \n ", "``` ```"])
def test_no_instruction_means_welcoming_the_customer_back(instruction: str | None) -> None:
    action = resume_action(instruction)
    assert is_resume_action(action)
    assert parse_instruction(action) is None
    assert "back with the virtual assistant" in action
    assert "hand the customer off to a human again" in action


def test_other_guidelines_carry_no_instruction() -> None:
    assert parse_instruction("Operator's instruction: ```do it```") is None
    assert not is_resume_action("Tell the customer you will be right back.")


def test_the_protocol_imports_neither_parlant_nor_aiohttp() -> None:
    # Importing parlant.sdk creates PARLANT_HOME: the bridge must be able to avoid it.
    probe = (
        "import sys, agent.handoff_protocol; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'parlant', 'aiohttp'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# On the real engine with the offline model.


async def _hand_off(chat: Chat) -> Event:
    asked = await chat.say("I want to talk to a human")
    await chat.next_ai_reply(asked)
    await chat.turn_finished(asked)
    return asked


async def _session_json(server: AgentServer, session_id: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{server.url}/sessions/{session_id}",
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        ) as response,
    ):
        response.raise_for_status()
        body: dict[str, Any] = await response.json()
        return body


async def _events_after(chat: Chat, offset: int) -> list[Event]:
    return await chat.client.sessions.list_events(
        chat.session_id, min_offset=offset + 1, wait_for_data=0
    )


def _data(event: Event) -> dict[str, Any]:
    assert isinstance(event.data, dict), event
    return event.data


def _text(event: Event) -> str:
    return str(_data(event)["message"])


def _ai_messages(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == "message" and e.source == "ai_agent"]


def _handoff_calls(events: list[Event]) -> list[dict[str, Any]]:
    return [
        call
        for e in events
        if e.kind == "tool"
        for call in _data(e)["tool_calls"]
        if call["tool_id"].endswith("initiate_human_handoff")
    ]


async def _last_offset(chat: Chat) -> int:
    events = await chat.client.sessions.list_events(chat.session_id, wait_for_data=0)
    return max(e.offset for e in events)


async def _hand_back(server: AgentServer, chat: Chat, **options: Any) -> None:
    # A bare HTTP session: the operator token travels only as ``token``.
    async with aiohttp.ClientSession() as http:
        await hand_back(http, server.url, chat.session_id, **options)


async def _stays_returned(server: AgentServer, chat: Chat, after: int, ai_messages: int) -> None:
    """Nothing hands the session off again, and the AI says no more than ``ai_messages``."""

    async def relapse() -> list[str]:
        events = await _events_after(chat, after)
        problems = [f"handoff call {c}" for c in _handoff_calls(events)]
        if len(_ai_messages(events)) != ai_messages:
            problems.append(f"AI messages: {[e.data for e in _ai_messages(events)]}")
        if is_handed_off(await _session_json(server, chat.session_id)):
            problems.append("handed off again")
        return problems

    await stays_false(relapse, duration=SETTLE_SECONDS)


async def test_hand_back_with_an_instruction_relays_it_once(
    parlant: AsyncParlantClient, agent_server: AgentServer
) -> None:
    chat = await open_chat(parlant)
    await _hand_off(chat)
    assert is_handed_off(await _session_json(agent_server, chat.session_id))
    before = await _last_offset(chat)

    await _hand_back(agent_server, chat, token=OPERATOR_TOKEN, instruction=INSTRUCTION)

    session = await _session_json(agent_server, chat.session_id)
    assert session["mode"] == "auto"
    assert HANDOFF_LABEL not in (session.get("labels") or [])
    assert HANDOFF_METADATA_KEY not in (session.get("metadata") or {})
    events = await _events_after(chat, before)
    notes = [e for e in events if e.kind == "custom"]
    assert [e.data for e in notes] == [RETURNED_TO_AI_EVENT]
    (said,) = _ai_messages(events)
    assert INSTRUCTION in _text(said).lower()
    assert "support team" not in _text(said)
    assert notes[0].offset < said.offset
    await _stays_returned(agent_server, chat, before, ai_messages=1)


async def test_hand_back_without_an_instruction_welcomes_the_customer_back(
    parlant: AsyncParlantClient, agent_server: AgentServer
) -> None:
    chat = await open_chat(parlant)
    await _hand_off(chat)
    before = await _last_offset(chat)

    await _hand_back(agent_server, chat, token=OPERATOR_TOKEN)

    (said,) = _ai_messages(await _events_after(chat, before))
    assert _text(said) == WELCOME_BACK
    await _stays_returned(agent_server, chat, before, ai_messages=1)


async def test_hand_back_without_speaking_leaves_the_ai_silent(
    parlant: AsyncParlantClient, agent_server: AgentServer
) -> None:
    chat = await open_chat(parlant)
    await _hand_off(chat)
    before = await _last_offset(chat)

    await _hand_back(agent_server, chat, token=OPERATOR_TOKEN, instruction=INSTRUCTION, speak=False)

    assert (await _session_json(agent_server, chat.session_id))["mode"] == "auto"
    events = await _events_after(chat, before)
    assert [e.data for e in events if e.kind == "custom"] == [RETURNED_TO_AI_EVENT]
    await _stays_returned(agent_server, chat, before, ai_messages=0)


async def test_the_next_customer_message_gets_a_normal_answer(
    parlant: AsyncParlantClient, agent_server: AgentServer
) -> None:
    chat = await open_chat(parlant)
    await _hand_off(chat)
    await _hand_back(agent_server, chat, token=OPERATOR_TOKEN, instruction=INSTRUCTION)

    question = await chat.say("what does my policy cover?")
    reply = await chat.next_ai_reply(question)
    await chat.turn_finished(question)

    assert "POL-7788" in _text(reply)
    assert not _handoff_calls(await _events_after(chat, question.offset))
    await _stays_returned(agent_server, chat, question.offset, ai_messages=1)


async def test_hand_back_without_the_operator_token_is_refused(
    parlant: AsyncParlantClient, agent_server: AgentServer
) -> None:
    chat = await open_chat(parlant)
    await _hand_off(chat)
    before = await _last_offset(chat)

    with pytest.raises(aiohttp.ClientResponseError) as refused:
        await _hand_back(agent_server, chat, instruction=INSTRUCTION)

    assert refused.value.status in (401, 403)
    assert is_handed_off(await _session_json(agent_server, chat.session_id))
    assert [e for e in await _events_after(chat, before) if e.kind != "status"] == []
