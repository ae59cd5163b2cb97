"""Malformed requests on ``POST /slack/events``: 401 unsigned, 400 signed but broken,
never a 500 or a traceback, and nothing taken."""

import aiohttp
import pytest

from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.signing import signed_headers
from tests.support.bridge import BridgeProcess

FORM = "application/x-www-form-urlencoded"
BROKEN_BODIES = [
    (b"\xff\xfe\x00garbage\x80", "application/octet-stream"),
    (b'{"type": "event_callback", "event": ', "application/json"),
    (b"payload=%7Bnot-json", FORM),
    (b"payload=%5B1%2C2%5D", FORM),
    (b"[1, 2, 3]", "application/json"),
    (b"", "application/json"),
]


async def _post(bridge: BridgeProcess, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{bridge.url}/slack/events", data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


@pytest.mark.parametrize(("body", "content_type"), BROKEN_BODIES)
async def test_broken_bodies_get_a_4xx_without_a_traceback(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, body: bytes, content_type: str
) -> None:
    unsigned, _ = await _post(bridge, body, {"Content-Type": content_type})
    assert unsigned == 401
    headers = signed_headers(ids.SIGNING_SECRET, body) | {"Content-Type": content_type}
    status, text = await _post(bridge, body, headers)
    assert 400 <= status < 500, (status, text)
    assert "Traceback" not in text
    assert "Traceback" not in bridge.log()
    assert slack_emulator.calls_to("chat.postEphemeral") == []
