"""Parlant → Slack: the thread a handoff opens and the messages mirrored into it."""

import re
import time

import aiohttp
from parlant.client import AsyncParlantClient

from slack_bridge.ids import short_ref
from tests.bridge.helpers import bot_replies, hand_off, replies, wait_for_thread_text
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import BridgeProcess


async def test_a_handoff_opens_a_thread_with_the_conversation_so_far(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(
        slack_emulator,
        customers,
        "Maria Lopez",
        before=("What does my policy cover?",),
        request="Please get me a human agent",
    )
    root = handoff.root
    blocks = str(root.blocks)
    assert "Maria Lopez" in root.text and "Please get me a human agent" in root.text
    assert short_ref(handoff.chat.session_id) in root.text
    assert handoff.chat.session_id in blocks and "Please get me a human agent" in blocks
    assert root.thread_ts is None

    transcript = await wait_for_thread_text(slack_emulator, handoff, "Conversation so far")
    assert "*Maria Lopez (customer):*\n> What does my policy cover?" in transcript.text
    assert "*AI agent:*" in transcript.text
    assert transcript.text.index("What does my policy cover?") < transcript.text.index(
        "Please get me a human agent"
    )
    print(f"customer request -> root message: {handoff.seconds_to_root:.3f}s")


async def test_later_messages_appear_once_in_order_and_attributed(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers, "Sam Reed")
    await wait_for_thread_text(slack_emulator, handoff, "Conversation so far")
    for text in ("first", "second", "third"):
        await handoff.chat.say(text)
    await customers.sessions.create_event(
        handoff.chat.session_id,
        kind="message",
        source="human_agent",
        message="Hello from the web console",
        participant={"id": "op-7", "display_name": "Olga"},
    )
    await wait_for_thread_text(slack_emulator, handoff, "Hello from the web console")

    lines: list[tuple[str, str]] = []
    for message in bot_replies(slack_emulator, handoff)[1:]:
        assert message.unfurl_links is False and message.unfurl_media is False
        speaker = message.username or ""
        for line in message.text.splitlines():
            if header := re.fullmatch(r"\*(.+?):\*", line):
                speaker = header.group(1)
            else:
                lines.append((speaker, re.sub(r"^> ?", "", line)))
    acknowledgement = "A person will reply here shortly."
    everything = "\n".join(m.text for m in bot_replies(slack_emulator, handoff))
    assert everything.count(acknowledgement) == 1
    lines = [line for line in lines if acknowledgement not in line[1]]
    assert lines == [
        ("Sam Reed (customer)", "first"),
        ("Sam Reed (customer)", "second"),
        ("Sam Reed (customer)", "third"),
        ("Olga (operator)", "Hello from the web console"),
    ]


async def test_customer_text_is_inert_in_slack(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    handoff = await hand_off(slack_emulator, customers, "<!everyone> Mallory & co")
    attack = "<!channel> <@U1> <https://evil.example|bank> & more"
    await handoff.chat.say(attack)
    shown = await wait_for_thread_text(slack_emulator, handoff, "evil.example")

    inert = "> &lt;!channel&gt; &lt;@U1&gt; `&lt;https://evil.example|bank&gt;` &amp; more"
    assert inert in shown.text
    everything = [handoff.root.text, str(handoff.root.blocks)] + [
        m.text for m in replies(slack_emulator, handoff)
    ]
    for text in everything:
        assert "<!channel>" not in text and "<!everyone>" not in text
        assert "<@U1>" not in text and "<https://evil.example" not in text
    assert "&lt;!everyone&gt; Mallory &amp; co" in handoff.root.text


async def test_requests_without_slacks_signature_are_refused(
    bridge: BridgeProcess, slack_emulator: SlackEmulator
) -> None:
    body = "token=x&command=%2Fas-ai&text=H-ZZZZ+hi&user_id=U0ALICE&channel_id=C0HANDOFF"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{bridge.url}/slack/events", data=body, headers=headers) as response,
    ):
        assert response.status == 401
    assert slack_emulator.calls_to("chat.postEphemeral") == []
