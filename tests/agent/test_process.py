"""Running ``python -m agent``: settings, restarts, side-by-side servers."""

import subprocess
import sys
from pathlib import Path

import httpx
from parlant.client import AsyncParlantClient

from agent.handoff import HANDOFF_METADATA_KEY
from tests.support.parlant import Chat, open_chat
from tests.support.ports import free_port
from tests.support.processes import AgentServer, clean_env


def _run_agent(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    defaults = {
        "PARLANT_HOME": str(tmp_path / "home"),
        "PARLANT_PORT": str(free_port()),
        "PARLANT_TOOL_PORT": str(free_port()),
    }
    env = clean_env(**{**defaults, **settings})
    return subprocess.run(
        [sys.executable, "-m", "agent"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_openai_without_a_key_exits_with_one_line(tmp_path: Path) -> None:
    result = _run_agent(tmp_path, PARLANT_NLP="openai")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "OPENAI_API_KEY" in lines[0]
    assert "PARLANT_NLP=offline" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_default_provider_is_openai(tmp_path: Path) -> None:
    result = _run_agent(tmp_path)
    assert result.returncode != 0
    assert "OPENAI_API_KEY" in result.stderr


def test_unknown_provider_is_named(tmp_path: Path) -> None:
    result = _run_agent(tmp_path, PARLANT_NLP="gpt-local")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "PARLANT_NLP='gpt-local'" in lines[0]
    assert "offline" in lines[0]


def test_bad_port_is_named(tmp_path: Path) -> None:
    result = _run_agent(tmp_path, PARLANT_NLP="offline", PARLANT_PORT="eighty")
    assert result.returncode != 0
    assert result.stderr.strip() == "agent: PARLANT_PORT must be a port number, got 'eighty'"


async def test_restart_keeps_session_events_and_mode(fresh_home: Path) -> None:
    server = AgentServer(home=fresh_home).start()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            client = AsyncParlantClient(base_url=server.url, httpx_client=http)
            chat = await open_chat(client, "Riley Restart")
            asked = await chat.say("I want to speak to a person")
            await chat.next_ai_reply(asked)
            await chat.turn_finished(asked)
            before = [(e.id, e.source) for e in await chat.messages()]
    finally:
        server.stop()

    restarted = AgentServer(home=fresh_home).start()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            client = AsyncParlantClient(base_url=restarted.url, httpx_client=http)
            session = await client.sessions.retrieve(chat.session_id)
            assert session.mode == "manual"
            assert session.metadata[HANDOFF_METADATA_KEY]["reason"] == (
                "I want to speak to a person"
            )
            reopened = Chat(client, chat.session_id, chat.customer_id)
            after = [(e.id, e.source) for e in await reopened.messages()]
            assert after == before
            customer = await client.customers.retrieve(chat.customer_id)
            assert customer.name == "Riley Restart"
    finally:
        restarted.stop()


async def test_two_servers_side_by_side(tmp_path: Path) -> None:
    first = AgentServer(home=tmp_path / "a").start()
    second = AgentServer(home=tmp_path / "b").start()
    try:
        assert {first.port, first.tool_port}.isdisjoint({second.port, second.tool_port})
        async with httpx.AsyncClient(timeout=30) as http:
            for server in (first, second):
                client = AsyncParlantClient(base_url=server.url, httpx_client=http)
                chat = await open_chat(client)
                question = await chat.say("What does my policy cover?")
                reply = await chat.next_ai_reply(question)
                assert "POL-7788" in reply.data["message"]
    finally:
        first.stop()
        second.stop()
