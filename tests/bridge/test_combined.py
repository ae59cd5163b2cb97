"""``python -m slack_bridge.combined`` (the README's run command): agent and bridge together."""

import asyncio
import sys
from pathlib import Path

import httpx
from parlant.client import AsyncParlantClient

from tests.bridge.helpers import hand_off, operator_messages
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess, operator_headers, wait_http_ok


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
        "PARLANT_LOG_LEVEL": "warning",
    }
    del env["PARLANT_URL"]  # derived from PARLANT_PORT
    process = ManagedProcess(
        [sys.executable, "-m", "slack_bridge.combined"], env, tmp_path, tmp_path / "combined.log"
    )
    process.start()
    try:
        await asyncio.to_thread(wait_http_ok, f"http://127.0.0.1:{parlant_port}/healthz", process)
        slack_emulator.use_http(f"{settings.url}/slack/events")
        async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
            customers = AsyncParlantClient(
                base_url=f"http://127.0.0.1:{parlant_port}", httpx_client=http
            )
            handoff = await hand_off(slack_emulator, customers, "Kim Lee")
            await slack_emulator.post_message(
                ids.ALICE, HANDOFF_CHANNEL, "Hello Kim", thread_ts=handoff.thread_ts
            )
            [event] = await operator_messages(handoff.chat, 1)
            assert event.data["message"] == "Hello Kim"
    finally:
        await asyncio.to_thread(process.stop)
    log = process.log()
    assert "Traceback" not in log
    # The handoff tool told the bridge at once (BRIDGE_URL is set by the combined run).
    assert f"handoff notice for {handoff.chat.session_id}" in log
