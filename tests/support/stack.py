"""The real stack for end-to-end tests, as fixtures a conftest imports: an offline agent per
test module (production mode, operator token), the operator-side Parlant client, and the
bridge as a child process against the Slack emulator."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import pytest_asyncio
from parlant.client import AsyncParlantClient

from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import BridgeProcess
from tests.support.processes import AgentServer, operator_headers


@pytest.fixture(scope="module")
def bridge_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentServer]:
    """An offline agent for one test module (tests hand their sessions back when done)."""
    with AgentServer(home=tmp_path_factory.mktemp("bridge-agent")) as server:
        yield server


@pytest_asyncio.fixture
async def customers(bridge_agent: AgentServer) -> AsyncIterator[AsyncParlantClient]:
    """Parlant with the operator token: creates customers and sessions, reads them all."""
    async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
        yield AsyncParlantClient(base_url=bridge_agent.url, httpx_client=http)
    if bridge_agent.process is not None and bridge_agent.process.running:
        await hand_back_everything(bridge_agent.url)


async def hand_back_everything(parlant_url: str) -> None:
    """Leave no handed-off session behind for the next test's fresh bridge."""
    from agent.handoff import hand_back

    async with aiohttp.ClientSession(headers=operator_headers()) as http:
        async with http.get(f"{parlant_url}/sessions", params={"labels": "handoff"}) as response:
            sessions = await response.json()
        for session in sessions:
            await hand_back(http, parlant_url, session["id"], speak=False)


@contextlib.asynccontextmanager
async def running_bridge(
    emulator: SlackEmulator, agent: AgentServer, workdir: Path, **options: Any
) -> AsyncIterator[BridgeProcess]:
    """The bridge as a child process (``options``: ``BridgeProcess``'s, e.g. ``extra_env``)."""
    process = BridgeProcess(emulator, agent.url, workdir, **options)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


HEARTBEAT_SECONDS = 0.3
"""For catch-up tests: the bridge records every 0.3 s until when it listened to Slack."""


def running_beating_bridge(
    emulator: SlackEmulator, agent: AgentServer, workdir: Path, **options: Any
) -> contextlib.AbstractAsyncContextManager[BridgeProcess]:
    """``running_bridge`` recording often that it listened: after ``seen_so_far`` a
    catch-up reads only what came later."""
    return running_bridge(
        emulator,
        agent,
        workdir,
        extra_env={"SLACK_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)},
        **options,
    )


async def seen_so_far() -> None:
    """Wait until a ``running_beating_bridge`` has recorded that it saw every reply so far."""
    await asyncio.sleep(HEARTBEAT_SECONDS * 4)


@pytest_asyncio.fixture
async def bridge(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    async with running_bridge(slack_emulator, bridge_agent, tmp_path / "bridge") as process:
        yield process
