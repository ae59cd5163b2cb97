"""The queue: what a channel posts first under a backlog, the Home tab and ``/handoffs``
(issue: "The queue"). Real agent (offline model), real bridge, the Slack emulator with its
rate limits on (about one post per second per channel)."""

import asyncio

from parlant.client import AsyncParlantClient

from tests.bridge.helpers import hand_off, root_of
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.parlant import Chat, open_chat

LONG = "My car was damaged in the storm last night and " + "the details go on. " * 150


async def _chat_with_history(customers: AsyncParlantClient, name: str) -> Chat:
    """A customer with a long conversation before the handoff: several transcript posts."""
    chat = await open_chat(customers, name)
    for _ in range(3):
        said = await chat.say(LONG)
        await chat.next_ai_reply(said)
        await chat.turn_finished(said)
    return chat


async def test_a_new_handoffs_root_goes_before_older_threads_transcripts(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    emulator = slack_emulator
    assert emulator.rate_limits
    chats = await asyncio.gather(*(_chat_with_history(customers, f"History {n}") for n in range(4)))
    asked = await asyncio.gather(*(chat.say("I want to talk to a human") for chat in chats))
    for chat in chats:
        await emulator.wait_until(
            lambda chat=chat: root_of(emulator, chat.session_id) is not None, 30
        )
    # The transcripts (about 3 posts each) are now waiting at about one post a second.
    late = await open_chat(customers, "Late Arrival")
    late_asked = await late.say("Please get me a person")
    await emulator.wait_until(lambda: root_of(emulator, late.session_id) is not None, 30)
    late_root = root_of(emulator, late.session_id)
    assert late_root is not None

    def history_posts() -> list[str]:
        """The ts of every transcript post in the older threads."""
        found = []
        for chat in chats:
            root = root_of(emulator, chat.session_id)
            assert root is not None
            replies = emulator.thread(HANDOFF_CHANNEL, root.ts)[1:]
            found += [m.ts for m in replies if m.bot_id and "the details go on" in m.text]
        return found

    async def all_transcripts_shown() -> bool:
        return all(
            any(
                "the details go on" in m.text for m in emulator.thread(HANDOFF_CHANNEL, root.ts)[1:]
            )
            for chat in chats
            if (root := root_of(emulator, chat.session_id)) is not None
        )

    await emulator.wait_until(all_transcripts_shown, 60)
    later_history = [ts for ts in history_posts() if float(ts) > float(late_root.ts)]
    assert later_history, "the late root waited for every older transcript"
    for chat, said in zip(chats, asked, strict=True):
        await chat.turn_finished(said)
    await late.turn_finished(late_asked)


async def test_the_home_tab_lists_open_handoffs_and_follows_a_claim(
    bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    emulator = slack_emulator
    emulator.subscribed_events.add("app_home_opened")
    first = await hand_off(emulator, customers, "Hana Home")
    second = await hand_off(emulator, customers, "Ivo Queue")

    await emulator.open_app_home(ids.ALICE)
    await emulator.wait_until(lambda: emulator.home_view(ids.ALICE) is not None)
    shown = str(emulator.home_view(ids.ALICE))
    assert "Hana Home" in shown and "Ivo Queue" in shown and "*2* waiting" in shown

    await emulator.click_home_button(ids.ALICE, "claim", value=first.chat.session_id)
    await emulator.wait_until(
        lambda: (
            f"<@{ids.ALICE}>" in str(emulator.home_view(ids.ALICE))
            and "*1* waiting" in str(emulator.home_view(ids.ALICE))
        ),
        15,
    )
    root = emulator.message(HANDOFF_CHANNEL, first.thread_ts)
    assert root is not None and f"Claimed* by <@{ids.ALICE}>" in str(root.blocks)

    # /handoffs answers privately with the same list; guests see nothing of it.
    answer = await emulator.run_slash_command(ids.BOB, HANDOFF_CHANNEL, "/handoffs")
    assert "Ivo Queue" in str(answer) and "Hana Home" in str(answer)
    refused = await emulator.run_slash_command(ids.GUEST, HANDOFF_CHANNEL, "/handoffs")
    assert "Ivo Queue" not in str(refused) and "operators" in str(refused)
    await emulator.open_app_home(ids.GUEST)
    await asyncio.sleep(0.5)
    assert "Ivo Queue" not in str(emulator.home_view(ids.GUEST))
    assert second.thread_ts
