from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from parlant.client import AsyncParlantClient

from tests.support.processes import AgentServer, operator_headers

# The Slack emulator's fixtures (``slack_emulator``, ``slack_client``) for every test.
pytest_plugins = ["tests.slack_emulator.fixtures"]


@pytest.fixture(scope="session")
def agent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentServer]:
    """One offline agent server shared by the tests that only read or open new sessions."""
    with AgentServer(home=tmp_path_factory.mktemp("parlant-home")) as server:
        yield server


@pytest.fixture
async def parlant(agent_server: AgentServer) -> AsyncIterator[AsyncParlantClient]:
    """Parlant as an operator tool sees it (with the token): creates customers, reads all."""
    async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
        yield AsyncParlantClient(base_url=agent_server.url, httpx_client=http)


@pytest.fixture
def fresh_home(tmp_path: Path) -> Path:
    home = tmp_path / "parlant-home"
    home.mkdir()
    return home
