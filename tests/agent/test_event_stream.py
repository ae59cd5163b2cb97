"""The agent pushes every session event and session change on /handoff/stream."""

import asyncio
import json
from typing import Any

import aiohttp
from parlant.client import AsyncParlantClient

from agent.event_stream import STREAM_PATH
from tests.support.parlant import open_chat
from tests.support.processes import AgentServer, operator_headers


async def _read_until(
    response: aiohttp.ClientResponse, done: Any, timeout: float = 30.0
) -> list[dict[str, Any]]:
    notices: list[dict[str, Any]] = []

    async def read() -> None:
        async for raw in response.content:
            notices.append(json.loads(raw))
            if done(notices):
                return

    await asyncio.wait_for(read(), timeout)
    return notices


async def test_stream_pushes_customer_ai_tool_and_session_changes(
    parlant: AsyncParlantClient, agent_server: AgentServer
) -> None:
    async with (
        aiohttp.ClientSession(headers=operator_headers()) as http,
        http.get(f"{agent_server.url}{STREAM_PATH}?kinds=message,tool") as response,
    ):
        assert response.status == 200
        hello = json.loads(await response.content.readline())
        assert hello["type"] == "hello"

        chat = await open_chat(parlant)
        await chat.say("Can I talk to a human please")

        def handed_off(notices: list[dict[str, Any]]) -> bool:
            return any(
                n["type"] == "event"
                and n["event"]["source"] == "ai_agent"
                and n["event"]["kind"] == "message"
                and n["session_id"] == chat.session_id
                for n in notices
            )

        notices = await _read_until(response, handed_off)

    mine = [n for n in notices if n.get("session_id") == chat.session_id]
    events = [n["event"] for n in mine if n["type"] == "event"]
    assert [(e["source"], e["kind"]) for e in events] == [
        ("customer", "message"),
        ("ai_agent", "tool"),
        ("ai_agent", "message"),
    ]
    assert events[0]["data"]["message"] == "Can I talk to a human please"
    assert [e["offset"] for e in events] == sorted(e["offset"] for e in events)
    assert any(n["type"] == "session" for n in mine)
    assert all(e["kind"] != "status" for e in events)
