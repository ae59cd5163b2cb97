"""Buttons on ephemerals, response_url answers to them, and the events of edits and deletions."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from tests.slack_emulator import Ephemeral, Kind, SlackEmulator, ids

C = ids.HANDOFF_CHANNEL
JsonDict = dict[str, Any]

CHOICE_BLOCKS: list[JsonDict] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Send this to the customer?"}},
    {
        "type": "actions",
        "block_id": "confirm",
        "elements": [
            {
                "type": "button",
                "action_id": "send",
                "value": "draft-1",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Send"},
            },
            {
                "type": "button",
                "action_id": "discard",
                "value": "draft-1",
                "text": {"type": "plain_text", "text": "Discard"},
            },
        ],
    },
]


async def ignore() -> None:
    """A listener for events a test does not look at (Bolt answers 404 without one)."""


async def _offer(emulator: SlackEmulator, app: AsyncApp, user: str, thread_ts: str) -> Ephemeral:
    """The app shows ``user`` an ephemeral with buttons in the thread ``thread_ts``."""
    posted = await app.client.chat_postEphemeral(
        channel=C, user=user, text="Send this?", blocks=CHOICE_BLOCKS, thread_ts=thread_ts
    )
    [offer] = emulator.ephemerals(user)
    assert (offer.ts, offer.blocks, offer.thread_ts) == (
        posted["message_ts"],
        CHOICE_BLOCKS,
        thread_ts,
    )
    return offer


async def test_click_on_an_ephemeral_and_replace_it(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    bolt_app.event("message")(ignore)
    clicks: list[JsonDict] = []

    @bolt_app.action("send")
    async def send(ack: AsyncAck, body: JsonDict, respond: AsyncRespond) -> None:
        await ack()
        clicks.append(body)
        await respond(replace_original=True, text="Sent to the customer")

    root = await slack_emulator.post_message(ids.ALICE, C, "customer thread")
    offer = await _offer(slack_emulator, bolt_app, ids.ALICE, root)
    result = await slack_emulator.click_ephemeral_button(ids.ALICE, offer, "send")
    assert result.ok and result.response_url

    [click] = clicks
    assert "message" not in click
    assert click["container"] == {
        "type": "message",
        "message_ts": offer.ts,
        "channel_id": C,
        "is_ephemeral": True,
        "thread_ts": root,
    }
    assert click["response_url"] == result.response_url
    assert click["trigger_id"] == result.trigger_id
    assert (click["user"]["id"], click["channel"]["id"], click["team"]["id"]) == (
        ids.ALICE,
        C,
        ids.TEAM_ID,
    )
    [action] = click["actions"]
    assert {k: action[k] for k in ("action_id", "block_id", "type", "value", "text")} == {
        "action_id": "send",
        "block_id": "confirm",
        "type": "button",
        "value": "draft-1",
        "text": {"type": "plain_text", "text": "Send"},
    }
    assert action["action_ts"]

    await slack_emulator.wait_until(
        lambda: [e.text for e in slack_emulator.ephemerals(ids.ALICE)] == ["Sent to the customer"]
    )
    [shown] = slack_emulator.ephemerals(ids.ALICE)
    assert (shown.thread_ts, shown.blocks, offer.deleted) == (root, None, True)
    with pytest.raises(ValueError, match="deleted or replaced"):
        await slack_emulator.click_ephemeral_button(ids.ALICE, offer, "send")


async def test_delete_original_removes_the_ephemeral(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    bolt_app.event("message")(ignore)

    @bolt_app.action("discard")
    async def discard(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(delete_original=True)

    root = await slack_emulator.post_message(ids.BOB, C, "customer thread")
    offer = await _offer(slack_emulator, bolt_app, ids.BOB, root)
    assert (await slack_emulator.click_ephemeral_button(ids.BOB, offer, "discard")).ok
    await slack_emulator.wait_until(lambda: not slack_emulator.ephemerals(ids.BOB))
    assert [p.status for p in slack_emulator.response_url_posts] == [200]


async def test_other_answers_leave_the_clicked_ephemeral_the_original(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    bolt_app.event("message")(ignore)
    urls: list[str] = []

    @bolt_app.action("send")
    async def send(ack: AsyncAck, body: JsonDict) -> None:
        await ack()
        urls.append(body["response_url"])

    root = await slack_emulator.post_message(ids.ALICE, C, "customer thread")
    offer = await _offer(slack_emulator, bolt_app, ids.ALICE, root)
    await slack_emulator.click_ephemeral_button(ids.ALICE, offer, "send")
    [url] = urls
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"unknown": 1}) as refused:
            assert (refused.status, (await refused.json())["error"]) == (400, "no_text")
        async with http.post(url, json={"text": "Noted", "unknown": 1}) as added:
            assert added.status == 200
        assert [e.text for e in slack_emulator.ephemerals(ids.ALICE)] == ["Send this?", "Noted"]
        async with http.post(url, json={"delete_original": True}) as deleted:
            assert deleted.status == 200
    assert [e.text for e in slack_emulator.ephemerals(ids.ALICE)] == ["Noted"]


async def test_only_the_ephemerals_user_may_click_it(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    bolt_app.event("message")(ignore)
    root = await slack_emulator.post_message(ids.ALICE, C, "customer thread")
    offer = await _offer(slack_emulator, bolt_app, ids.ALICE, root)
    with pytest.raises(ValueError, match="cannot see"):
        await slack_emulator.click_ephemeral_button(ids.BOB, offer, "send")
    with pytest.raises(ValueError, match="no element with action_id 'nope'"):
        await slack_emulator.click_ephemeral_button(ids.ALICE, offer, "nope")
    assert not [d for d in slack_emulator.deliveries if d.kind is Kind.INTERACTIVE]


async def test_replace_original_updates_a_channel_message(
    slack_emulator: SlackEmulator, bolt_app: AsyncApp, bolt_http: str
) -> None:
    bolt_app.event("message")(ignore)

    @bolt_app.action("send")
    async def send(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(replace_original=True, text="Sent")

    posted = await bolt_app.client.chat_postMessage(channel=C, text="Send?", blocks=CHOICE_BLOCKS)
    assert (await slack_emulator.click_button(ids.ALICE, C, posted["ts"], "send")).ok
    await slack_emulator.wait_until(lambda: slack_emulator.messages(C)[0].text == "Sent")
    [message] = slack_emulator.messages(C)
    assert (message.ts, message.blocks, message.edited is not None) == (posted["ts"], None, True)
    assert slack_emulator.ephemerals(ids.ALICE) == []


async def test_edit_and_delete_events_are_shaped_like_slacks(
    slack_emulator: SlackEmulator,
) -> None:
    root = await slack_emulator.post_message(ids.ALICE, C, "customer thread")
    reply = await slack_emulator.post_message(ids.BOB, C, "hello", root)
    edited_ts = await slack_emulator.edit_message(ids.BOB, C, reply, "hello there")
    await slack_emulator.delete_message(C, reply)
    await slack_emulator.drain()
    events = [d.payload["event"] for d in slack_emulator.deliveries]
    changed, deleted = (e for e in events if e.get("subtype"))

    assert (changed["subtype"], changed["channel"], changed["hidden"]) == (
        "message_changed",
        C,
        True,
    )
    after, before = changed["message"], changed["previous_message"]
    assert {k: after[k] for k in ("user", "text", "ts", "thread_ts", "edited")} == {
        "user": ids.BOB,
        "text": "hello there",
        "ts": reply,
        "thread_ts": root,
        "edited": {"user": ids.BOB, "ts": edited_ts},
    }
    assert {k: before[k] for k in ("user", "text", "ts", "thread_ts")} == {
        "user": ids.BOB,
        "text": "hello",
        "ts": reply,
        "thread_ts": root,
    }
    assert "edited" not in before

    assert (deleted["subtype"], deleted["deleted_ts"], deleted["channel"]) == (
        "message_deleted",
        reply,
        C,
    )
    gone = deleted["previous_message"]
    assert (gone["user"], gone["thread_ts"], gone["text"]) == (ids.BOB, root, "hello there")


async def test_deleting_a_thread_parent_announces_a_tombstone(
    slack_emulator: SlackEmulator,
) -> None:
    root = await slack_emulator.post_message(ids.ALICE, C, "customer thread")
    await slack_emulator.post_message(ids.BOB, C, "reply", root)
    await slack_emulator.delete_message(C, root)
    await slack_emulator.drain()
    last = slack_emulator.deliveries[-1].payload["event"]
    assert last["subtype"] == "message_changed"
    assert (last["message"]["subtype"], last["message"]["ts"], last["message"]["thread_ts"]) == (
        "tombstone",
        root,
        root,
    )
    before = last["previous_message"]
    assert (before["user"], before["thread_ts"], before["reply_count"]) == (ids.ALICE, root, 1)
