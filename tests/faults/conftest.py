"""Fixtures of the fault suite: an agent per module, the customers' client, the bridge.

Every test here is marked ``faults`` (``pytest -m faults`` runs only them); they run in the
normal suite too.
"""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest
import pytest_asyncio
from parlant.client import AsyncParlantClient

from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import BridgeProcess
from tests.support.processes import AgentServer, operator_headers

FAULTS_MARKER = "faults"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FAULTS_MARKER}: end-to-end fault injection (kills, Slack and Parlant failures):"
        " nothing lost, nothing repeated, nothing out of order",
    )


@pytest.fixture(scope="module")
def faults_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentServer]:
    """An offline agent for one test module (sessions are handed back after each test)."""
    with AgentServer(home=tmp_path_factory.mktemp("faults-agent")) as server:
        yield server


@pytest_asyncio.fixture
async def customers(faults_agent: AgentServer) -> AsyncIterator[AsyncParlantClient]:
    """Parlant as the customers' chat UI uses it (with the operator token: no rate limits)."""
    async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
        yield AsyncParlantClient(base_url=faults_agent.url, httpx_client=http)
    if faults_agent.process is not None and faults_agent.process.running:
        await hand_back_everything(faults_agent.url)


async def hand_back_everything(parlant_url: str) -> None:
    """Leave no handed-off session behind for the next test's fresh bridge."""
    from agent.handoff import hand_back

    async with aiohttp.ClientSession(headers=operator_headers()) as http:
        async with http.get(f"{parlant_url}/sessions", params={"labels": "handoff"}) as response:
            sessions = await response.json()
        for session in sessions:
            await hand_back(http, parlant_url, session["id"])


@pytest_asyncio.fixture
async def bridge(
    slack_emulator: SlackEmulator, faults_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    process = BridgeProcess(slack_emulator, faults_agent.url, tmp_path / "bridge")
    await process.start()
    try:
        yield process
    finally:
        await process.stop()
