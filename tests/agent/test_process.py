"""Running ``python -m agent``: settings, restarts, side-by-side servers."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from parlant.client import AsyncParlantClient

from agent.handoff import HANDOFF_METADATA_KEY
from tests.support.parlant import Chat, open_chat
from tests.support.ports import free_port
from tests.support.processes import OPERATOR_TOKEN, AgentServer, clean_env, operator_headers


def _run_agent(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    defaults = {
        "PARLANT_HOME": str(tmp_path / "home"),
        "PARLANT_PORT": str(free_port()),
        "PARLANT_TOOL_PORT": str(free_port()),
        "PARLANT_API_TOKEN": OPERATOR_TOKEN,
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


def test_without_a_token_the_agent_refuses_production_mode(tmp_path: Path) -> None:
    result = _run_agent(tmp_path, PARLANT_NLP="offline", PARLANT_API_TOKEN="")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("agent: PARLANT_API_TOKEN is not set")
    assert "PARLANT_ENV=development" in line


def test_a_weak_token_is_refused_without_echoing_it(tmp_path: Path) -> None:
    result = _run_agent(tmp_path, PARLANT_NLP="offline", PARLANT_API_TOKEN="hunter2 hunter2")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("agent: PARLANT_API_TOKEN must be at least 32")
    assert "hunter2" not in result.stderr


def test_bad_port_is_named(tmp_path: Path) -> None:
    result = _run_agent(tmp_path, PARLANT_NLP="offline", PARLANT_PORT="eighty")
    assert result.returncode != 0
    assert result.stderr.strip() == "agent: PARLANT_PORT must be a port number, got 'eighty'"


async def test_restart_keeps_session_events_and_mode(fresh_home: Path) -> None:
    server = AgentServer(home=fresh_home).start()
    try:
        async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
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
        async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
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
        async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
            for server in (first, second):
                client = AsyncParlantClient(base_url=server.url, httpx_client=http)
                chat = await open_chat(client)
                question = await chat.say("What does my policy cover?")
                reply = await chat.next_ai_reply(question)
                assert "POL-7788" in reply.data["message"]
    finally:
        first.stop()
        second.stop()


def _stop_with(server: AgentServer, *signals: signal.Signals) -> tuple[int | None, float]:
    assert server.process is not None and server.process.process is not None
    child = server.process.process
    started = time.monotonic()
    for number in signals:
        os.killpg(child.pid, number)
    code = child.wait(20)
    server.process = None
    return code, time.monotonic() - started


def test_sigterm_and_sigint_stop_the_agent_cleanly_with_status_0(tmp_path: Path) -> None:
    for number in (signal.SIGTERM, signal.SIGINT):
        server = AgentServer(home=tmp_path / number.name).start()
        code, seconds = _stop_with(server, number)
        assert code == 0, (number, server.home)
        assert seconds < 15
        assert "Traceback" not in (tmp_path / number.name / "agent.log").read_text()


def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    server = AgentServer(home=tmp_path / "twice").start()
    code, seconds = _stop_with(server, signal.SIGINT, signal.SIGINT)
    assert code is not None
    assert seconds < 5


def test_a_busy_port_is_named_and_leaves_no_folder(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_agent(tmp_path, PARLANT_NLP="offline", PARLANT_TOOL_PORT=str(port))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"agent: PARLANT_TOOL_PORT: port {port} on 127.0.0.1 is already in use")
    assert not (tmp_path / "home").exists()


def test_a_provider_that_fails_its_check_leaves_no_folder(tmp_path: Path) -> None:
    result = _run_agent(tmp_path, PARLANT_NLP="openai")
    assert result.returncode != 0
    assert not (tmp_path / "home").exists()
