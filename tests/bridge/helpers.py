"""Steps the bridge tests share: a customer handed off, and reading the thread back."""

import json
import time
from dataclasses import dataclass

from parlant.client import AsyncParlantClient
from parlant.client.types.event import Event

from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.messages import Message
from tests.support.bridge import HANDOFF_CHANNEL
from tests.support.parlant import Chat, open_chat
from tests.support.polling import eventually


@dataclass(frozen=True)
class Handoff:
    chat: Chat
    root: Message
    seconds_to_root: float
    """From the customer's request to the root message in Slack."""

    @property
    def thread_ts(self) -> str:
        return self.root.ts


def root_of(emulator: SlackEmulator, session_id: str) -> Message | None:
    for message in emulator.messages(HANDOFF_CHANNEL):
        if message.bot_id and session_id in json.dumps(message.blocks or []):
            return message
    return None


async def hand_off(
    emulator: SlackEmulator,
    customers: AsyncParlantClient,
    customer_name: str = "Jane Doe",
    before: tuple[str, ...] = (),
    request: str = "I want to talk to a human",
) -> Handoff:
    """A customer chats, then asks for a person; returns once the thread is open."""
    chat = await open_chat(customers, customer_name)
    for text in before:
        said = await chat.say(text)
        await chat.next_ai_reply(said)
        await chat.turn_finished(said)
    asked_at = time.monotonic()
    asked = await chat.say(request)
    await emulator.wait_until(lambda: root_of(emulator, chat.session_id) is not None, 20)
    seconds = time.monotonic() - asked_at
    await chat.turn_finished(asked)
    root = root_of(emulator, chat.session_id)
    assert root is not None
    return Handoff(chat, root, seconds)


def replies(emulator: SlackEmulator, handoff: Handoff) -> list[Message]:
    return emulator.thread(HANDOFF_CHANNEL, handoff.thread_ts)[1:]


def bot_replies(emulator: SlackEmulator, handoff: Handoff) -> list[Message]:
    return [m for m in replies(emulator, handoff) if m.bot_id]


async def wait_for_thread_text(
    emulator: SlackEmulator, handoff: Handoff, fragment: str, timeout: float = 15.0
) -> Message:
    def find() -> Message | None:
        return next((m for m in bot_replies(emulator, handoff) if fragment in m.text), None)

    await emulator.wait_until(
        lambda: find() is not None,
        timeout,
        message=f"{fragment!r} not in thread: {[m.text for m in replies(emulator, handoff)]}",
    )
    found = find()
    assert found is not None
    return found


async def operator_messages(chat: Chat, count: int, timeout: float = 15.0) -> list[Event]:
    """Wait until the session holds ``count`` messages from operators; return them."""

    async def probe() -> list[Event] | None:
        found = [
            e
            for e in await chat.messages()
            if e.source in ("human_agent", "human_agent_on_behalf_of_ai_agent")
        ]
        return found if len(found) >= count else None

    return await eventually(probe, timeout=timeout, what=f"{count} operator message(s)")


async def hand_back_from_slack(
    emulator: SlackEmulator, handoff: Handoff, user: str, instruction: str = ""
) -> None:
    """``user`` presses "Hand back to AI" on the root and submits the modal."""
    opened = len(emulator.views_opened(user))
    await emulator.click_button(user, HANDOFF_CHANNEL, handoff.thread_ts, "hand_back")
    await emulator.wait_until(lambda: len(emulator.views_opened(user)) > opened)
    view = emulator.views_opened(user)[-1]
    await emulator.submit_view(
        user, view.id, {"instruction": {"text": {"type": "plain_text_input", "value": instruction}}}
    )
