"""``POST /parlant/handoff`` tried as an attacker would: token, path traversal, unknown ids."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio

from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import BridgeProcess
from tests.support.processes import OPERATOR_TOKEN, AgentServer, operator_headers
from tests.support.proxy import ParlantProxy


@pytest_asyncio.fixture
async def proxied(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[tuple[BridgeProcess, ParlantProxy]]:
    # The stream is hidden so the proxy sees only short requests (the bridge then polls).
    proxy = await ParlantProxy(bridge_agent.url, frozenset({"/handoff/stream"})).start()
    process = BridgeProcess(slack_emulator, proxy.url, tmp_path / "bridge")
    try:
        await process.start()
        yield process, proxy
    finally:
        await process.stop()
        await proxy.stop()


async def _notice(bridge: BridgeProcess, body: Any, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{bridge.url}/parlant/handoff", json=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_the_notice_needs_the_token(proxied: tuple[BridgeProcess, ParlantProxy]) -> None:
    bridge, proxy = proxied
    for headers in ({}, {"Authorization": "Bearer " + "y" * 40}, {"Authorization": OPERATOR_TOKEN}):
        status, body = await _notice(bridge, {"session_id": "abcdefghij"}, headers)
        assert status == 401, headers
        assert OPERATOR_TOKEN not in body
    await asyncio.sleep(0.5)
    assert not any("abcdefghij" in request for request in proxy.requests)


async def test_path_traversal_and_junk_ids_are_refused_before_parlant_sees_them(
    proxied: tuple[BridgeProcess, ParlantProxy],
) -> None:
    bridge, proxy = proxied
    for bad in ("../agents", "..%2Fagents", "a/b", "x" * 65, "", " ", "é", 42, None, ["x"]):
        status, body = await _notice(bridge, {"session_id": bad}, operator_headers())
        assert status == 400, (bad, body)
        assert "Traceback" not in body
    status, _ = await _notice(bridge, "not an object", operator_headers())
    assert status == 400
    await asyncio.sleep(0.5)
    assert not any("agents" in request for request in proxy.requests)
    assert "Traceback" not in bridge.log()


async def test_an_unknown_session_is_checked_once_and_given_up(
    proxied: tuple[BridgeProcess, ParlantProxy],
) -> None:
    bridge, proxy = proxied
    status, _ = await _notice(bridge, {"session_id": "no-such-session"}, operator_headers())
    assert status == 202
    await asyncio.sleep(4)  # longer than a reconcile round and the retry delays
    reads = [r for r in proxy.requests if "no-such-session" in r]
    assert reads == ["GET /sessions/no-such-session"]
    assert "Traceback" not in bridge.log()
