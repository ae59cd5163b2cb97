"""``python -m slack_bridge.combined`` (the README's run command): agent and bridge together."""

import asyncio
import sys
from pathlib import Path

import httpx
from parlant.client import AsyncParlantClient

from agent.customer_access import CUSTOMER_TOKEN_HEADER
from agent.insurance_agent import AGENT_ID
from tests.bridge.helpers import operator_messages, root_of
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.parlant import Chat
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess, wait_http_ok


async def test_one_process_runs_the_agent_and_the_bridge(
    slack_emulator: SlackEmulator, tmp_path: Path
) -> None:
    parlant_port, tool_port = free_port(), free_port()
    settings = BridgeProcess(slack_emulator, f"http://127.0.0.1:{parlant_port}", tmp_path)
    env = settings.env() | {
        "PARLANT_NLP": "offline",
        "PARLANT_HOME": str(tmp_path / "parlant"),
        "PARLANT_PORT": str(parlant_port),
        "PARLANT_TOOL_PORT": str(tool_port),
        "PARLANT_LOG_LEVEL": "info",
    }
    del env["PARLANT_URL"]  # derived from PARLANT_PORT
    del env["PARLANT_API_TOKEN"]  # generated at start-up and shared by both parts
    process = ManagedProcess(
        [sys.executable, "-m", "slack_bridge.combined"], env, tmp_path, tmp_path / "combined.log"
    )
    process.start()
    try:
        await asyncio.to_thread(wait_http_ok, f"http://127.0.0.1:{parlant_port}/healthz", process)
        slack_emulator.use_http(f"{settings.url}/slack/events")
        # A customer's browser: a guest session, no operator token anywhere.
        async with httpx.AsyncClient(timeout=30) as http:
            created = await http.post(
                f"http://127.0.0.1:{parlant_port}/sessions", json={"agent_id": AGENT_ID}
            )
            http.headers[CUSTOMER_TOKEN_HEADER] = created.headers[CUSTOMER_TOKEN_HEADER]
            client = AsyncParlantClient(
                base_url=f"http://127.0.0.1:{parlant_port}", httpx_client=http
            )
            chat = Chat(client, created.json()["id"], created.json()["customer_id"])
            await chat.say("I want to talk to a human")
            await slack_emulator.wait_until(
                lambda: root_of(slack_emulator, chat.session_id) is not None, 20
            )
            root = root_of(slack_emulator, chat.session_id)
            assert root is not None
            await slack_emulator.post_message(
                ids.ALICE, HANDOFF_CHANNEL, "Hello Kim", thread_ts=root.ts
            )
            [event] = await operator_messages(chat, 1)
            assert event.data["message"] == "Hello Kim"
    finally:
        code = await asyncio.to_thread(process.stop)
    log = process.log()
    assert code == 0  # SIGINT: a clean stop of both parts
    assert "Traceback" not in log
    assert log.count("Server is ready to accept requests") == 1  # Parlant's lines once
    # The handoff tool told the bridge at once (BRIDGE_URL is set by the combined run).
    assert f"handoff notice for {chat.session_id}" in log
