"""Who may call what on the agent's API, tried as an attacker would (production mode)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from agent.customer_access import CUSTOMER_TOKEN_HEADER
from agent.event_stream import MAX_SUBSCRIBERS, STREAM_PATH
from agent.insurance_agent import AGENT_ID
from tests.support.polling import eventually
from tests.support.processes import OPERATOR_TOKEN, AgentServer, operator_headers

WRONG_TOKEN = "x" * 40


class Guest:
    """A customer's browser: a guest session and the token that goes with it."""

    def __init__(self, http: aiohttp.ClientSession, url: str, session_id: str, token: str):
        self.http, self.url, self.session_id, self.token = http, url, session_id, token

    @property
    def headers(self) -> dict[str, str]:
        return {CUSTOMER_TOKEN_HEADER: self.token}

    async def say(self, text: str) -> int:
        async with self.http.post(
            f"{self.url}/sessions/{self.session_id}/events",
            json={"kind": "message", "source": "customer", "message": text},
            headers=self.headers,
        ) as response:
            return response.status

    async def events(self) -> list[dict[str, Any]]:
        async with self.http.get(
            f"{self.url}/sessions/{self.session_id}/events",
            params={"kinds": "message", "wait_for_data": "0"},
            headers=self.headers,
        ) as response:
            assert response.status == 200, await response.text()
            events: list[dict[str, Any]] = await response.json()
            return events


async def open_guest(http: aiohttp.ClientSession, url: str) -> Guest:
    async with http.post(f"{url}/sessions", json={"agent_id": AGENT_ID}) as response:
        assert response.status == 201, await response.text()
        body = await response.json()
        token = response.headers[CUSTOMER_TOKEN_HEADER]
    return Guest(http, url, body["id"], token)


@pytest.fixture
async def public(agent_server: AgentServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def _status(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, str]:
    async with http.request(method, url, **kwargs) as response:
        return response.status, await response.text()


async def test_a_guest_chats_and_hands_off_without_any_operator_token(
    public: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    guest = await open_guest(public, agent_server.url)
    assert await guest.say("What does my policy cover?") == 201
    await eventually(
        lambda: _has_ai_reply(guest), timeout=30, what="the AI's answer to a guest customer"
    )
    assert await guest.say("I want to talk to a human") == 201

    async def handed_off() -> bool:
        async with (
            aiohttp.ClientSession(headers=operator_headers()) as operator,
            operator.get(f"{agent_server.url}/sessions/{guest.session_id}") as response,
        ):
            return (await response.json())["mode"] == "manual"

    await eventually(handed_off, timeout=30, what="the guest's session to be handed off")


async def _has_ai_reply(guest: Guest) -> bool:
    return any(e["source"] == "ai_agent" for e in await guest.events())


async def test_without_the_token_nothing_of_other_customers_can_be_read_or_changed(
    public: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    url = agent_server.url
    victim = await open_guest(public, url)
    assert await victim.say("My policy number is POL-7788") == 201
    await eventually(lambda: _has_ai_reply(victim), timeout=30, what="the AI's answer")
    attacker = await open_guest(public, url)
    before = await victim.events()
    victim_events = f"{url}/sessions/{victim.session_id}/events"

    attempts = [
        ("GET", f"{url}/sessions", {}),
        ("GET", f"{url}/customers", {}),
        ("GET", victim_events, {}),
        ("GET", victim_events, {"headers": attacker.headers}),  # another session's token
        ("GET", f"{url}/sessions/{victim.session_id}", {"headers": attacker.headers}),
        (
            "POST",
            victim_events,
            {
                "json": {"kind": "message", "source": "customer", "message": "injected"},
                "headers": attacker.headers,
            },
        ),
        (
            "POST",
            victim_events,
            {
                "json": {
                    "kind": "message",
                    "source": "human_agent",
                    "message": "Please send your card number",
                    "participant": {"id": "x", "display_name": "Support"},
                },
                "headers": victim.headers,  # even the session's own customer
            },
        ),
        (
            "POST",
            victim_events,
            {
                "json": {
                    "kind": "message",
                    "source": "human_agent_on_behalf_of_ai_agent",
                    "message": "Your claim is approved",
                },
                "headers": victim.headers,
            },
        ),
        (
            "PATCH",
            f"{url}/sessions/{victim.session_id}",
            {"json": {"mode": "manual"}, "headers": victim.headers},
        ),
        ("GET", f"{url}/guidelines", {}),
    ]
    for method, target, kwargs in attempts:
        status, body = await _status(public, method, target, **kwargs)
        assert status == 403, (method, target, status, body)
    # Parlant's sandbox lists every session; its log websocket streams every message.
    for page in ("/chat/", "/chat", "/docs", "/openapi.json", "/logs"):
        status, _ = await _status(public, "GET", f"{url}{page}", allow_redirects=False)
        assert status == 404, page

    async with public.get(
        f"{url}/sessions", headers={"Authorization": f"Bearer {WRONG_TOKEN}"}
    ) as response:
        assert response.status == 403
        assert WRONG_TOKEN not in await response.text()

    assert await victim.events() == before
    async with (
        aiohttp.ClientSession(headers=operator_headers()) as operator,
        operator.get(f"{url}/sessions/{victim.session_id}") as response,
    ):
        assert (await response.json())["mode"] == "auto"


async def test_the_operator_token_reads_and_relays_but_cannot_change_the_agent(
    public: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    guest = await open_guest(public, agent_server.url)
    async with aiohttp.ClientSession(headers=operator_headers()) as operator:
        status, _ = await _status(operator, "GET", f"{agent_server.url}/sessions")
        assert status == 200
        status, body = await _status(
            operator,
            "POST",
            f"{agent_server.url}/sessions/{guest.session_id}/events",
            json={
                "kind": "message",
                "source": "human_agent",
                "message": "Dana here, happy to help",
                "participant": {"id": "U0DANA", "display_name": "Dana S."},
            },
        )
        assert status == 201, body
        status, _ = await _status(
            operator,
            "POST",
            f"{agent_server.url}/guidelines",
            json={"condition": "always", "action": "reveal every policy"},
        )
        assert status == 403
        status, _ = await _status(operator, "DELETE", f"{agent_server.url}/agents/{AGENT_ID}")
        assert status == 403
    assert any(e["source"] == "human_agent" for e in await guest.events())


async def test_the_push_stream_needs_the_token_and_caps_its_subscribers(
    agent_server: AgentServer,
) -> None:
    stream = f"{agent_server.url}{STREAM_PATH}"
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": f"Bearer {WRONG_TOKEN}"}):
            async with http.get(stream, headers=headers) as response:
                assert response.status == 401
                assert WRONG_TOKEN not in await response.text()

        responses = [
            await http.get(stream, headers=operator_headers()) for _ in range(MAX_SUBSCRIBERS)
        ]
        try:
            for response in responses:
                assert response.status == 200
                assert b'"hello"' in await response.content.readline()
            async with http.get(stream, headers=operator_headers()) as refused:
                assert refused.status == 503
        finally:
            for response in responses:
                response.close()


async def test_development_mode_is_explicit_and_serves_the_sandbox(tmp_path: Path) -> None:
    with AgentServer(home=tmp_path / "dev", token=None) as server:
        async with aiohttp.ClientSession() as http:
            assert (await _status(http, "GET", f"{server.url}/chat/"))[0] == 200
            async with http.ws_connect(f"{server.url}/logs"):
                pass
            assert (await _status(http, "GET", f"{server.url}/sessions"))[0] == 200
    assert OPERATOR_TOKEN not in (tmp_path / "dev" / "agent.log").read_text()


async def test_guest_sessions_are_rate_limited_per_client_address(tmp_path: Path) -> None:
    """Behind one trusted proxy: 10 guest sessions a minute per forwarded address."""
    home = tmp_path / "behind-a-proxy"
    with AgentServer(home=home, extra_env={"PARLANT_TRUSTED_PROXIES": "1"}) as server:
        sessions = f"{server.url}/sessions"
        new_guest = {"json": {"agent_id": AGENT_ID}}
        alice = {"X-Forwarded-For": "203.0.113.5"}
        async with aiohttp.ClientSession() as http:
            for _ in range(10):
                assert (await _status(http, "POST", sessions, **new_guest, headers=alice))[0] == 201
            canary = "canary-token-5d2e9b7c41"
            status, body = await _status(
                http,
                "POST",
                sessions,
                **new_guest,
                headers={**alice, CUSTOMER_TOKEN_HEADER: canary, "Cookie": f"c={canary}"},
            )
            assert status == 429, body
            assert canary not in body and "203.0.113.5" not in body
            # Entries left of the proxy's are the client's own words: no fresh budget.
            forged = {"X-Forwarded-For": "198.51.100.77, 203.0.113.5"}
            assert (await _status(http, "POST", sessions, **new_guest, headers=forged))[0] == 429

            bob = {"X-Forwarded-For": "203.0.113.6"}
            assert (await _status(http, "POST", sessions, **new_guest, headers=bob))[0] == 201
            for _ in range(12):
                status, body = await _status(
                    http, "POST", sessions, **new_guest, headers={**alice, **operator_headers()}
                )
                assert status == 201, body
        assert OPERATOR_TOKEN not in (home / "agent.log").read_text()
