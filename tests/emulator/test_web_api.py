"""The Web API through slack-sdk's AsyncWebClient (and raw HTTP for other encodings)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import SlackEmulator, ids

C = ids.HANDOFF_CHANNEL


async def _error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


async def test_auth_test_and_tokens(slack_emulator: SlackEmulator) -> None:
    client = AsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url)
    identity = await client.auth_test()
    assert identity["user_id"] == ids.BOT_USER_ID
    assert identity["bot_id"] == ids.BOT_ID
    assert identity["team_id"] == ids.TEAM_ID

    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack_emulator.api_url)
    assert await _error_of(wrong.auth_test()) == "invalid_auth"
    anonymous = AsyncWebClient(base_url=slack_emulator.api_url)
    assert await _error_of(anonymous.auth_test()) == "not_authed"
    app_level = AsyncWebClient(token=slack_emulator.app_token, base_url=slack_emulator.api_url)
    assert await _error_of(app_level.auth_test()) == "not_allowed_token_type"


async def test_post_and_thread(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    root = await slack_client.chat_postMessage(channel=C, text="New handoff", unfurl_links=False)
    assert root["channel"] == C
    assert root["message"]["bot_id"] == ids.BOT_ID
    assert root["message"]["user"] == ids.BOT_USER_ID
    reply = await slack_client.chat_postMessage(channel=C, text="first", thread_ts=root["ts"])
    assert reply["message"]["thread_ts"] == root["ts"]
    assert reply["message"]["parent_user_id"] == ids.BOT_USER_ID
    human = await slack_emulator.post_message(ids.ALICE, C, "I'll take it", root["ts"])

    assert float(root["ts"]) < float(reply["ts"]) < float(human)
    assert [m.text for m in slack_emulator.messages(C)] == ["New handoff"]
    thread = slack_emulator.thread(C, root["ts"])
    assert [m.text for m in thread] == ["New handoff", "first", "I'll take it"]
    assert thread[2].user == ids.ALICE
    assert slack_emulator.messages(C)[0].unfurl_links is False

    # Like Slack, an unknown thread_ts is ignored and the message lands top-level.
    orphan = await slack_client.chat_postMessage(channel=C, text="lost", thread_ts="1.000001")
    assert "thread_ts" not in orphan["message"]
    assert [m.text for m in slack_emulator.messages(C)] == ["New handoff", "lost"]

    broadcast = await slack_client.chat_postMessage(
        channel=C, text="also in channel", thread_ts=root["ts"], reply_broadcast=True
    )
    assert broadcast["message"]["subtype"] == "thread_broadcast"
    assert slack_emulator.messages(C)[-1].text == "also in channel"


async def test_identity_overrides_and_metadata(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    posted = await slack_client.chat_postMessage(
        channel=C,
        text="hi",
        username="Dana (customer)",
        icon_emoji=":bust_in_silhouette:",
        metadata={"event_type": "handoff_message", "event_payload": {"session": "s1"}},
        mrkdwn=False,
    )
    stored = slack_emulator.message(C, posted["ts"])
    assert stored is not None
    assert stored.username == "Dana (customer)"
    assert stored.icons == {"emoji": ":bust_in_silhouette:"}
    assert stored.metadata == {"event_type": "handoff_message", "event_payload": {"session": "s1"}}
    assert stored.mrkdwn is False
    history = await slack_client.conversations_history(channel=C, include_all_metadata=True)
    assert history["messages"][0]["metadata"]["event_payload"] == {"session": "s1"}
    plain = await slack_client.conversations_history(channel=C)
    assert "metadata" not in plain["messages"][0]


async def test_channel_errors(slack_client: AsyncWebClient) -> None:
    assert (
        await _error_of(slack_client.chat_postMessage(channel=ids.GENERAL_CHANNEL, text="x"))
        == "not_in_channel"
    )
    assert await _error_of(slack_client.chat_postMessage(channel="C0NOPE0000", text="x")) == (
        "channel_not_found"
    )
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        assert await _error_of(slack_client.chat_postMessage(channel=C, text="")) == "no_text"
    private = await slack_client.chat_postMessage(channel=ids.PRIVATE_CHANNEL, text="psst")
    assert private["ok"]
    by_name = await slack_client.chat_postMessage(channel="#handoff", text="by name")
    assert by_name["channel"] == C


async def test_block_limits_and_truncation(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as raised:
        await slack_client.chat_postMessage(channel=C, text="t", blocks=long_section)
    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    ok_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}]
    assert (await slack_client.chat_postMessage(channel=C, text="t", blocks=ok_section))["ok"]
    many = [{"type": "divider"}] * 51
    assert await _error_of(slack_client.chat_postMessage(channel=C, text="t", blocks=many)) == (
        "invalid_blocks"
    )

    posted = await slack_client.chat_postMessage(channel=C, text="y" * 40_010)
    assert posted["warning"] == "message_truncated"
    assert posted["response_metadata"]["warnings"] == ["message_truncated"]
    assert len(slack_emulator.messages(C)[-1].text) == 40_000
    assert (
        await _error_of(slack_client.chat_update(channel=C, ts=posted["ts"], text="z" * 40_001))
        == "msg_too_long"
    )


async def test_update_delete_and_reactions(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*status*: open"}}]
    root = await slack_client.chat_postMessage(channel=C, text="open", blocks=blocks)
    updated = await slack_client.chat_update(channel=C, ts=root["ts"], text="closed")
    assert updated["text"] == "closed"
    stored = slack_emulator.message(C, root["ts"])
    assert stored is not None and stored.edited is not None
    assert stored.blocks == blocks  # omitted blocks are kept, like Slack

    human = await slack_emulator.post_message(ids.BOB, C, "hello")
    assert await _error_of(slack_client.chat_update(channel=C, ts=human, text="x")) == (
        "cant_update_message"
    )
    assert await _error_of(slack_client.chat_update(channel=C, ts="1.000002", text="x")) == (
        "message_not_found"
    )
    assert await _error_of(slack_client.chat_delete(channel=C, ts=human)) == "cant_delete_message"

    await slack_client.reactions_add(channel=C, timestamp=human, name="eyes")
    assert slack_emulator.reactions(C, human) == {"eyes": [ids.BOT_USER_ID]}
    assert await _error_of(slack_client.reactions_add(channel=C, timestamp=human, name="eyes")) == (
        "already_reacted"
    )
    await slack_client.reactions_remove(channel=C, timestamp=human, name="eyes")
    assert (
        await _error_of(slack_client.reactions_remove(channel=C, timestamp=human, name="eyes"))
        == "no_reaction"
    )

    await slack_client.chat_delete(channel=C, ts=root["ts"])
    assert slack_emulator.message(C, root["ts"]) is None
    assert [m.text for m in slack_emulator.messages(C)] == ["hello"]


async def test_deleting_a_parent_leaves_a_tombstone(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    root = await slack_client.chat_postMessage(channel=C, text="root")
    await slack_client.chat_postMessage(channel=C, text="reply", thread_ts=root["ts"])
    await slack_client.chat_delete(channel=C, ts=root["ts"])
    replies = await slack_client.conversations_replies(channel=C, ts=root["ts"])
    assert [m.get("subtype") for m in replies["messages"]] == ["tombstone", None]


async def test_ephemeral_and_users(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    sent = await slack_client.chat_postEphemeral(channel=C, user=ids.ALICE, text="only you")
    assert sent["message_ts"]
    assert [e.text for e in slack_emulator.ephemerals(ids.ALICE)] == ["only you"]
    assert slack_emulator.ephemerals(ids.BOB) == []
    assert (
        await _error_of(
            slack_client.chat_postEphemeral(channel=ids.PRIVATE_CHANNEL, user=ids.CAROL, text="x")
        )
        == "user_not_in_channel"
    )

    alice = await slack_client.users_info(user=ids.ALICE)
    assert alice["user"]["profile"]["display_name"] == "alice"
    assert alice["user"]["real_name"] == "Alice Agent"
    assert await _error_of(slack_client.users_info(user="U0NOBODY")) == "user_not_found"
    info = await slack_client.conversations_info(channel=ids.PRIVATE_CHANNEL)
    assert info["channel"]["is_private"] is True
    assert await _error_of(slack_client.conversations_info(channel="C0NOPE0000")) == (
        "channel_not_found"
    )


async def test_replies_pagination(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    root = (await slack_client.chat_postMessage(channel=C, text="root"))["ts"]
    slack_emulator.rate_limits = False
    reply_ts = [
        (await slack_client.chat_postMessage(channel=C, text=f"r{i}", thread_ts=root))["ts"]
        for i in range(5)
    ]
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = await slack_client.conversations_replies(channel=C, ts=root, limit=2, cursor=cursor)
        pages.append([m["text"] for m in page["messages"]])
        if not page["has_more"]:
            assert "response_metadata" not in page
            break
        cursor = page["response_metadata"]["next_cursor"]
    assert pages == [["root", "r0"], ["r1", "r2"], ["r3", "r4"]]

    window = await slack_client.conversations_replies(
        channel=C, ts=root, oldest=reply_ts[1], latest=reply_ts[3], inclusive=True
    )
    assert [m["text"] for m in window["messages"]] == ["root", "r1", "r2", "r3"]
    exclusive = await slack_client.conversations_replies(
        channel=C, ts=root, oldest=reply_ts[1], latest=reply_ts[3]
    )
    assert [m["text"] for m in exclusive["messages"]] == ["root", "r2"]
    via_reply = await slack_client.conversations_replies(channel=C, ts=reply_ts[0])
    assert via_reply["messages"][0]["reply_count"] == 5

    assert await _error_of(slack_client.conversations_replies(channel=C, ts="1.000003")) == (
        "thread_not_found"
    )
    assert (
        await _error_of(slack_client.conversations_replies(channel=C, ts=root, cursor="bogus"))
        == "invalid_cursor"
    )
    history = await slack_client.conversations_history(channel=C, limit=10)
    assert [m["text"] for m in history["messages"]] == ["root"]


async def test_history_is_newest_first(slack_client: AsyncWebClient) -> None:
    for text in ("one", "two", "three"):
        await slack_client.chat_postMessage(channel=ids.PRIVATE_CHANNEL, text=text)
    first = await slack_client.conversations_history(channel=ids.PRIVATE_CHANNEL, limit=2)
    assert [m["text"] for m in first["messages"]] == ["three", "two"]
    rest = await slack_client.conversations_history(
        channel=ids.PRIVATE_CHANNEL, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["one"]


async def test_form_json_and_query_encodings(slack_emulator: SlackEmulator) -> None:
    auth = {"Authorization": f"Bearer {slack_emulator.bot_token}"}
    blocks = json.dumps([{"type": "section", "text": {"type": "plain_text", "text": "form"}}])
    async with aiohttp.ClientSession() as http:
        url = slack_emulator.api_url
        async with http.post(
            f"{url}chat.postMessage",
            headers=auth,
            data={"channel": C, "text": "form", "blocks": blocks},
        ) as r:
            form_answer = await r.json()
        async with http.post(
            f"{url}chat.postMessage",
            data={"channel": C, "text": "token in body", "token": slack_emulator.bot_token},
        ) as r:
            body_token_answer = await r.json()
        async with http.post(
            f"{url}chat.postMessage", headers=auth, json={"channel": C, "text": "json"}
        ) as r:
            json_answer = await r.json()
        async with http.get(
            f"{url}conversations.history", headers=auth, params={"channel": C}
        ) as r:
            history = await r.json()
        async with http.post(f"{url}no.suchMethod", headers=auth) as r:
            unknown = await r.json()
    assert form_answer["ok"] and form_answer["message"]["blocks"][0]["text"]["text"] == "form"
    assert body_token_answer["ok"] and json_answer["ok"]
    assert [m["text"] for m in history["messages"]] == ["json", "token in body", "form"]
    assert unknown == {"ok": False, "error": "unknown_method", "req_method": "no.suchMethod"}
    slack_emulator.expect_violations()  # no.suchMethod is not in the spec, on purpose
    assert [v.method for v in slack_emulator.spec_violations] == ["no.suchMethod"]
    assert [c.method for c in slack_emulator.calls][:2] == ["chat.postMessage"] * 2
    assert "token" not in slack_emulator.calls[1].params
