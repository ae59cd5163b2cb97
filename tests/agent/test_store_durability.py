"""The sqlite store on a real agent process: kill -9, restart, and the import of the json store."""

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from parlant.client import AsyncParlantClient
from parlant.client.types.event import Event
from parlant.core.customers import CustomerStore
from parlant.core.tags import TagId

from agent.event_stream import EventHub
from agent.handoff import HANDOFF_LABEL, HANDOFF_METADATA_KEY
from agent.session_store import (
    CUSTOMERS_FILE,
    PENDING_RENAMES,
    SESSIONS_FILE,
    SQLITE_FILE,
    open_stores,
)
from agent.settings import ConfigError
from agent.sqlite_database import SQLiteFile
from tests.support.parlant import Chat, open_chat
from tests.support.processes import AgentServer, operator_headers

SQLITE = {"PARLANT_STORE": "sqlite"}


@contextlib.asynccontextmanager
async def client_for(server: AgentServer) -> AsyncIterator[AsyncParlantClient]:
    async with httpx.AsyncClient(timeout=30, headers=operator_headers()) as http:
        yield AsyncParlantClient(base_url=server.url, httpx_client=http)


def kill_9(server: AgentServer) -> None:
    """SIGKILL the agent's whole process group: no shutdown code runs."""
    assert server.process is not None and server.process.process is not None
    os.killpg(server.process.process.pid, signal.SIGKILL)
    server.process.process.wait(10)
    server.stop()


async def turn(chat: Chat, text: str) -> Event:
    said = await chat.say(text)
    await chat.next_ai_reply(said)
    await chat.turn_finished(said)
    return said


async def handed_off_chat(client: AsyncParlantClient, name: str) -> Chat:
    chat = await open_chat(client, name)
    await turn(chat, "What does my policy cover?")
    await turn(chat, "I want to speak to a person")
    return chat


@dataclass(frozen=True)
class Snapshot:
    """What an operator sees of a session: every event, mode, labels, metadata, customer."""

    events: list[tuple[str, int, str, str, Any]]
    mode: str
    labels: set[str]
    metadata: dict[str, Any]
    customer_name: str

    @classmethod
    async def of(cls, client: AsyncParlantClient, chat: Chat) -> "Snapshot":
        events = await client.sessions.list_events(chat.session_id, wait_for_data=0)
        session = await client.sessions.retrieve(chat.session_id)
        customer = await client.customers.retrieve(chat.customer_id)
        return cls(
            events=[(e.id, e.offset, e.kind, e.source, e.data) for e in events],
            mode=str(session.mode),
            labels=set(session.labels or []),
            metadata=dict(session.metadata or {}),
            customer_name=customer.name,
        )


async def test_kill_9_mid_conversation_loses_no_acknowledged_write(fresh_home: Path) -> None:
    server = AgentServer(home=fresh_home, extra_env=SQLITE).start()
    acknowledged: list[Event] = []
    try:
        async with client_for(server) as client:
            chat = await handed_off_chat(client, "Kim Killed")
            handed_off = await Snapshot.of(client, chat)
            assert handed_off.mode == "manual" and HANDOFF_LABEL in handed_off.labels

            # A second conversation the AI is busy answering when the process dies...
            busy = await open_chat(client, "Bo Busy")
            asked = await busy.say("What does my policy cover?")

            # ...while an operator's replies are being written to the first one.
            async def operator_reply(n: int) -> None:
                event = await client.sessions.create_event(
                    chat.session_id,
                    kind="message",
                    source="human_agent",
                    message=f"operator reply {n}",
                    participant={"id": "op", "display_name": "Operator"},
                )
                acknowledged.append(event)

            replies = [asyncio.create_task(operator_reply(n)) for n in range(40)]
            while len(acknowledged) < 10:
                await asyncio.sleep(0.002)
            kill_9(server)
            await asyncio.gather(*replies, return_exceptions=True)
    finally:
        server.stop()
    assert 10 <= len(acknowledged) < 40, "the kill should land while replies are in flight"
    assert (fresh_home / "offline" / f"{SQLITE_FILE}-wal").exists()  # no clean shutdown

    restarted = AgentServer(home=fresh_home, extra_env=SQLITE).start()
    try:
        async with client_for(restarted) as client:
            after = await Snapshot.of(client, chat)
            assert after.events[: len(handed_off.events)] == handed_off.events
            assert (after.mode, after.labels, after.metadata, after.customer_name) == (
                handed_off.mode,
                handed_off.labels,
                handed_off.metadata,
                "Kim Killed",
            )
            stored = {event_id for event_id, *_ in after.events}
            assert {e.id for e in acknowledged} <= stored
            offsets = [offset for _, offset, *_ in after.events]
            assert offsets == list(range(len(offsets)))

            busy_events = await client.sessions.list_events(busy.session_id, wait_for_data=0)
            assert asked.id in {e.id for e in busy_events}
            # The restarted agent goes on writing to the same file.
            resumed = Chat(client, busy.session_id, busy.customer_id)
            later = await resumed.say("What are your hours?")
            await resumed.next_ai_reply(later)
    finally:
        restarted.stop()
    assert not (fresh_home / "offline" / SESSIONS_FILE).exists()


async def test_json_store_is_imported_on_first_sqlite_start(fresh_home: Path) -> None:
    data = fresh_home / "offline"
    with AgentServer(home=fresh_home, extra_env={"PARLANT_STORE": "json"}) as server:
        async with client_for(server) as client:
            chat = await handed_off_chat(client, "Jo Json")
            before = await Snapshot.of(client, chat)
    assert (data / SESSIONS_FILE).is_file() and (data / CUSTOMERS_FILE).is_file()
    assert not (data / SQLITE_FILE).exists()

    with AgentServer(home=fresh_home, extra_env=SQLITE) as server:
        async with client_for(server) as client:
            assert await Snapshot.of(client, chat) == before
            assert before.mode == "manual"
            assert before.metadata[HANDOFF_METADATA_KEY]["reason"] == "I want to speak to a person"
            reopened = Chat(client, chat.session_id, chat.customer_id)
            more = await reopened.say("Still there?")  # manual mode: no AI reply, just stored
        log = server.process.log() if server.process else ""

    assert (data / SQLITE_FILE).is_file()
    assert not (data / SESSIONS_FILE).exists() and not (data / CUSTOMERS_FILE).exists()
    assert (data / f"{SESSIONS_FILE}.migrated").is_file()
    assert (data / f"{CUSTOMERS_FILE}.migrated").is_file()
    assert [line for line in log.splitlines() if "imported the json store" in line], log

    with AgentServer(home=fresh_home, extra_env=SQLITE) as server:  # once only
        async with client_for(server) as client:
            events = await client.sessions.list_events(chat.session_id, wait_for_data=0)
            assert [e.id for e in events] == [e[0] for e in before.events] + [more.id]


# -- the import, without a server ----------------------------------------------------------


async def test_a_broken_json_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    (tmp_path / CUSTOMERS_FILE).write_text(json.dumps({"customers": []}))
    broken = '{"sessions": [{"id": "s1", "creation_utc": "2026-'  # cut off mid-write
    (tmp_path / SESSIONS_FILE).write_text(broken)

    async with contextlib.AsyncExitStack() as stack:
        with pytest.raises(ConfigError) as raised:
            await open_stores(stack, "sqlite", tmp_path, EventHub())
    message = str(raised.value)
    assert "\n" not in message
    assert "PARLANT_STORE" in message and str(tmp_path / SESSIONS_FILE) in message
    assert not (tmp_path / SQLITE_FILE).exists()
    assert (tmp_path / SESSIONS_FILE).read_text() == broken
    assert (tmp_path / CUSTOMERS_FILE).exists()


async def test_a_crash_between_import_and_rename_is_finished_on_the_next_start(
    tmp_path: Path,
) -> None:
    (tmp_path / SESSIONS_FILE).write_text("{}")
    (tmp_path / f"{SESSIONS_FILE}.migrated").write_text("an older import, kept")
    pending = {PENDING_RENAMES: json.dumps([SESSIONS_FILE])}
    async with SQLiteFile(tmp_path / SQLITE_FILE, seed=dict, seed_properties=pending):
        pass  # imported, then "crashed" before renaming

    async with contextlib.AsyncExitStack() as stack:
        await open_stores(stack, "sqlite", tmp_path, EventHub())
    assert not (tmp_path / SESSIONS_FILE).exists()
    assert (tmp_path / f"{SESSIONS_FILE}.migrated").read_text() == "an older import, kept"
    assert (tmp_path / f"{SESSIONS_FILE}.migrated.1").read_text() == "{}"

    (tmp_path / SESSIONS_FILE).write_text("{}")  # written later by a json-store run: left alone
    async with contextlib.AsyncExitStack() as stack:
        await open_stores(stack, "sqlite", tmp_path, EventHub())
    assert (tmp_path / SESSIONS_FILE).exists()


async def test_a_customer_created_after_a_restart_gets_an_id_of_its_own(tmp_path: Path) -> None:
    # Parlant's ids restart with the process: without care the second "Jane Doe" would
    # get the first one's id (the json store has this problem).
    created = []
    for _ in range(2):
        async with contextlib.AsyncExitStack() as stack:
            stores = await open_stores(stack, "sqlite", tmp_path, EventHub())
            assert isinstance(stores.customers, CustomerStore)
            created.append(await stores.customers.create_customer("Jane Doe", tags=[TagId("t")]))
            listing = await stores.customers.list_customers()
    assert created[0].id != created[1].id
    assert {c.id for c in listing.items} >= {c.id for c in created}
