"""Spec conformance: calls checked against the OpenAPI spec, responses against its schemas."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import (
    SlackEmulator,
    ViolationKind,
    ids,
    methods_chat,
    methods_people,
    methods_read,
    methods_views,
)
from tests.slack_emulator.spec_requests import SPEC_DIR, check_request
from tests.slack_emulator.spec_responses import SCHEMA_GAPS, gaps_used, response_errors

C = ids.HANDOFF_CHANNEL
REPO_ROOT = Path(__file__).resolve().parents[2]
JsonDict = dict[str, Any]


async def test_violations_are_detected(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack_emulator.expect_violations()
    posted = await slack_client.api_call(
        "chat.postMessage", json={"channel": C, "text": "x", "colour": "red"}
    )
    assert posted["ok"]  # Slack ignores unknown arguments; the spec check does not
    with pytest.raises(SlackApiError):
        await slack_client.api_call("reactions.add", params={"channel": C, "name": "eyes"})
    with pytest.raises(SlackApiError):
        await slack_client.api_call(
            "conversations.replies",
            http_verb="GET",
            params={"channel": C, "ts": posted["ts"], "limit": "many"},
        )
    with pytest.raises(SlackApiError):
        await slack_client.api_call("chat.sendMessage", json={"channel": C})
    found = [(v.method, v.kind) for v in slack_emulator.spec_violations]
    assert found == [
        ("chat.postMessage", ViolationKind.UNKNOWN_PARAMETER),
        ("reactions.add", ViolationKind.MISSING_PARAMETER),
        ("conversations.replies", ViolationKind.BAD_PARAMETER_TYPE),
        ("chat.sendMessage", ViolationKind.UNKNOWN_METHOD),
    ]
    assert "colour" in str(slack_emulator.spec_violations[0])


@pytest.mark.slack_spec_violations
async def test_marker_declares_expected_violations(slack_client: AsyncWebClient) -> None:
    await slack_client.api_call("auth.test", params={"verbose": "yes"})


def test_allowlisted_newer_parameters_pass() -> None:
    assert check_request("chat.postMessage", {"channel": C, "metadata": "{}", "token": "t"}) == []
    assert check_request("views.open", {"interactivity_pointer": "p", "view": "{}"}) == []
    assert check_request("apps.connections.open", {}) == []
    [missing] = check_request("views.open", {"view": "{}"})
    assert missing.kind is ViolationKind.MISSING_PARAMETER


async def test_undeclared_violation_fails_the_test(tmp_path: Path) -> None:
    """The fixture's teardown turns a violation into a test error."""
    (tmp_path / "conftest.py").write_text(
        "from tests.slack_emulator.fixtures import slack_emulator, slack_client  # noqa\n"
    )
    (tmp_path / "test_violation.py").write_text(
        textwrap.dedent("""
        async def test_sends_bogus(slack_client):
            await slack_client.api_call("auth.test", params={"bogus": "1"})
    """)
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_mode=auto",
        str(tmp_path),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode()
    assert process.returncode == 1, text
    assert "1 passed, 1 error" in text and "auth.test: unknown_parameter: `bogus`" in text


VIEW: JsonDict = {
    "type": "modal",
    "callback_id": "m",
    "title": {"type": "plain_text", "text": "Title"},
    "blocks": [
        {
            "type": "input",
            "block_id": "b",
            "label": {"type": "plain_text", "text": "L"},
            "element": {"type": "plain_text_input", "action_id": "a"},
        }
    ],
}


async def _call_every_method(emulator: SlackEmulator, client: AsyncWebClient) -> None:
    emulator.rate_limits = False
    await client.auth_test()
    root = await client.chat_postMessage(
        channel=C,
        text="root",
        username="Dana",
        icon_emoji=":smile:",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*root*"}}],
        metadata={"event_type": "handoff", "event_payload": {"id": "s1"}},
    )
    await client.chat_postMessage(channel=C, text="reply", thread_ts=root["ts"])
    await client.chat_postMessage(
        channel=C, text="x" * 40_001, thread_ts=root["ts"], reply_broadcast=True
    )
    human = await emulator.post_message(ids.ALICE, C, "human reply", root["ts"])
    await emulator.post_bot_message(ids.OTHER_BOT_USER_ID, C, "classic", root["ts"], classic=True)
    await emulator.share_file(ids.BOB, C, None, "a.png", "file")
    await client.chat_update(
        channel=C,
        ts=root["ts"],
        text="root (edited)",
        metadata={"event_type": "handoff", "event_payload": {"id": "s2"}},
    )
    await client.chat_postEphemeral(channel=C, user=ids.BOB, text="psst")
    await client.chat_getPermalink(channel=C, message_ts=human)
    await client.reactions_add(channel=C, timestamp=human, name="eyes")
    await client.reactions_remove(channel=C, timestamp=human, name="eyes")
    await client.conversations_replies(channel=C, ts=root["ts"], include_all_metadata=True)
    await client.conversations_replies(channel=C, ts=root["ts"], limit=2)
    await client.conversations_history(channel=C, include_all_metadata=True, limit=2)
    await client.conversations_info(channel=C, include_num_members=True)
    await client.users_info(user=ids.CAROL)
    await client.users_info(user=ids.SINGLE_GUEST)
    await client.users_info(user=ids.EXTERNAL)
    await client.users_info(user=ids.OTHER_BOT_USER_ID)
    await emulator.post_message(ids.DAVE, emulator.open_dm(ids.DAVE), "hi app")
    await client.conversations_info(channel=ids.dm_id(ids.DAVE))
    await client.conversations_members(channel=C, limit=3)
    await client.conversations_members(channel=ids.GENERAL_CHANNEL)
    await client.usergroups_users_list(usergroup=ids.SUPPORT_GROUP)
    await client.usergroups_list(include_users=True, include_count=True, include_disabled=True)
    opened = await client.views_open(trigger_id=emulator.state.new_trigger(ids.ALICE), view=VIEW)
    await client.views_push(trigger_id=emulator.state.new_trigger(ids.ALICE), view=VIEW)
    await client.views_update(view_id=opened["view"]["id"], view=VIEW, hash=opened["view"]["hash"])
    await client.views_publish(user_id=ids.ALICE, view={"type": "home", "blocks": []})
    lone = await client.chat_postMessage(channel=C, text="to delete")
    await client.chat_delete(channel=C, ts=lone["ts"])
    app_client = AsyncWebClient(token=emulator.app_token, base_url=emulator.api_url)
    await app_client.apps_connections_open(app_token=emulator.app_token)


async def test_success_responses_match_the_spec_schemas(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    await _call_every_method(slack_emulator, slack_client)
    successes = [call for call in slack_emulator.calls if call.ok]
    assert len(successes) == len(slack_emulator.calls)
    implemented = set(methods_chat.HANDLERS) | set(methods_read.HANDLERS)
    implemented |= set(methods_people.HANDLERS)
    implemented |= set(methods_views.HANDLERS) | {"apps.connections.open"}
    assert {call.method for call in successes} == implemented
    problems = {
        f"{call.method}: {error}"
        for call in successes
        for error in response_errors(call.method, call.response)
    }
    assert problems == set()
    used = set().union(*(gaps_used(call.method, call.response) for call in successes))
    assert [gap.reason for gap in SCHEMA_GAPS if gap not in used] == []


async def test_event_envelopes_match_the_wrapper_schema(slack_emulator: SlackEmulator) -> None:
    schema = json.loads((SPEC_DIR / "slack_common_event_wrapper_schema.json").read_text())
    root = await slack_emulator.post_message(ids.ALICE, C, "hello")
    await slack_emulator.edit_message(ids.ALICE, C, root, "hello!")
    await slack_emulator.delete_message(C, root)
    await slack_emulator.drain()
    assert len(slack_emulator.deliveries) == 3
    for delivery in slack_emulator.deliveries:
        errors = list(jsonschema.Draft7Validator(schema).iter_errors(delivery.payload))
        # authed_users is deprecated: Slack sends `authorizations` to apps created since 2021.
        assert [e.message for e in errors] == ["'authed_users' is a required property"]
