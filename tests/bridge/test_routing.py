"""Handoffs routed to channels by rules, and reminders when a customer waits (issue: "The
queue"). Real agent (offline model), real bridge, the Slack emulator."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from parlant.client import AsyncParlantClient

from tests.bridge.helpers import hand_off, operator_messages, replies, root_of
from tests.bridge.test_settings import run_bridge
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.parlant import open_chat
from tests.support.polling import stays_false
from tests.support.processes import OPERATOR_TOKEN, AgentServer
from tests.support.stack import running_bridge

FRAUD_CHANNEL = "C0FRAUD"
VIP_CHANNEL = "C0VIP"
RULES = f"""
[default]
mention = "{ids.SUPPORT_GROUP}"
alert_after_minutes = 0.05

[[rule]]
name = "vip"
channel = "{VIP_CHANNEL}"
session_labels = ["vip"]
priority = "high"

[[rule]]
name = "fraud"
channel = "{FRAUD_CHANNEL}"
mention = "{ids.CAROL}"
reason_words = ["fraud"]
alert_after_minutes = 0.05
"""


@pytest_asyncio.fixture
async def routed_bridge(
    slack_emulator: SlackEmulator, bridge_agent: AgentServer, tmp_path: Path
) -> AsyncIterator[BridgeProcess]:
    slack_emulator.workspace.add_channel(FRAUD_CHANNEL, "fraud-desk")
    slack_emulator.workspace.add_channel(VIP_CHANNEL, "vip-desk")
    rules = tmp_path / "routes.toml"
    rules.write_text(RULES)
    async with running_bridge(
        slack_emulator, bridge_agent, tmp_path / "bridge", extra_env={"HANDOFF_ROUTES": str(rules)}
    ) as process:
        yield process


def _root_in(emulator: SlackEmulator, channel: str, session_id: str) -> bool:
    return any(session_id in str(m.blocks) for m in emulator.messages(channel) if m.bot_id)


def _reminders(emulator: SlackEmulator, channel: str) -> list[str]:
    return [m.text for m in emulator.messages(channel) if m.bot_id and "has waited" in m.text]


async def test_rules_route_handoffs_to_channels_and_remind_while_nobody_claims(
    routed_bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    emulator = slack_emulator
    # By the reason: the customer's own words.
    fraud = await open_chat(customers, "Fay Fraud")
    asked = await fraud.say("I need a person, there is fraud on my card")
    await emulator.wait_until(lambda: _root_in(emulator, FRAUD_CHANNEL, fraud.session_id), 20)
    await fraud.turn_finished(asked)
    # By a session label an operator tool put on the session.
    vip = await open_chat(customers, "Vic Vip")
    await customers.sessions.update(vip.session_id, labels={"upsert": ["vip"], "remove": []})
    asked = await vip.say("Let me talk to a human please")
    await emulator.wait_until(lambda: _root_in(emulator, VIP_CHANNEL, vip.session_id), 20)
    await vip.turn_finished(asked)
    # Anything else: the handoff channel.
    plain = await hand_off(emulator, customers, "Pat Plain")
    assert not _root_in(emulator, FRAUD_CHANNEL, plain.chat.session_id)

    # Replies in a routed channel's thread reach the customer.
    [fraud_root] = [m for m in emulator.messages(FRAUD_CHANNEL) if m.bot_id and m.blocks]
    await emulator.post_message(
        ids.ALICE, FRAUD_CHANNEL, "Fraud team here", thread_ts=fraud_root.ts
    )
    [event] = await operator_messages(fraud, 1)
    assert event.data["message"] == "Fraud team here"

    # Unclaimed for longer than the rule allows: announced again, with the rule's mention;
    # the claimed fraud case is not.
    await emulator.wait_until(lambda: bool(_reminders(emulator, HANDOFF_CHANNEL)), 20)
    [first] = _reminders(emulator, HANDOFF_CHANNEL)[:1]
    assert f"<!subteam^{ids.SUPPORT_GROUP}>" in first and "Pat Plain" in first
    await emulator.wait_until(
        lambda: "waited *" in str(emulator.message(HANDOFF_CHANNEL, plain.thread_ts))
    )
    assert not _reminders(emulator, FRAUD_CHANNEL)

    # A claim stops the reminders.
    await emulator.click_button(ids.ALICE, HANDOFF_CHANNEL, plain.thread_ts, "claim")
    await emulator.wait_until(
        lambda: "Claimed" in str(emulator.message(HANDOFF_CHANNEL, plain.thread_ts))
    )
    count = len(_reminders(emulator, HANDOFF_CHANNEL))
    await stays_false(lambda: _more(emulator, HANDOFF_CHANNEL, count), 6.0)


async def _more(emulator: SlackEmulator, channel: str, count: int) -> bool:
    return len(_reminders(emulator, channel)) > count


async def test_a_reminder_is_not_repeated_within_its_interval_across_a_restart(
    routed_bridge: BridgeProcess, slack_emulator: SlackEmulator, customers: AsyncParlantClient
) -> None:
    emulator = slack_emulator
    handoff = await hand_off(emulator, customers, "Rita Restart")
    await emulator.wait_until(lambda: len(_reminders(emulator, HANDOFF_CHANNEL)) == 1, 20)
    first_at = asyncio.get_running_loop().time()
    await routed_bridge.stop()
    await routed_bridge.start()
    # The interval is 3 s: the restarted bridge announces again only once it has passed.
    await emulator.wait_until(lambda: len(_reminders(emulator, HANDOFF_CHANNEL)) == 2, 20)
    assert asyncio.get_running_loop().time() - first_at >= 2.5
    reminders_in_thread = [m for m in replies(emulator, handoff) if "has waited" in m.text]
    assert len(reminders_in_thread) == 2
    assert root_of(emulator, handoff.chat.session_id) is not None


def test_a_bad_rules_file_stops_start_up_with_one_line(tmp_path: Path) -> None:
    rules = tmp_path / "routes.toml"
    rules.write_text('[[rule]]\nname = "fraud"\nchanel = "C0FRAUD"\nreason_words = ["fraud"]\n')
    result = run_bridge(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s3cret",
        SLACK_HANDOFF_CHANNEL="C0HANDOFF",
        PARLANT_API_TOKEN=OPERATOR_TOKEN,
        HANDOFF_ROUTES=str(rules),
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert str(rules) in line and "rule 1 (fraud)" in line and "chanel" in line
