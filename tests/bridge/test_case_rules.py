"""Pure rules of a case: what looks internal, and which edits become corrections."""

import pytest

from slack_bridge.edits import (
    CORRECTION_ORIGIN,
    Edit,
    EditOutcome,
    correction,
    judge_edit,
    parse_edit,
)
from slack_bridge.ids import ChannelId, SessionId, Ts, UserId
from slack_bridge.inbound_messages import Intent, ThreadMessage, internal_reason
from slack_bridge.store import HELD_AS_INTERNAL, THREAD_ORIGIN, OperatorMessage, StoredMessage


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<@U0BOB> can you check", "it starts by mentioning a colleague"),
        ("  <@W0BOB|bob> look", "it starts by mentioning a colleague"),
        ("<!subteam^S0SUPPORT> anyone?", "it starts by mentioning a user group"),
        ("<!here> who has this?", "it starts with @here"),
        ("Notes: customer sounds upset", "it starts with `notes:`"),
        ("INTERNAL: check the ledger", "it starts with `internal:`"),
        (";; ping finance", "it starts with `;;`"),
    ],
)
def test_remarks_for_colleagues_are_recognised(text: str, why: str) -> None:
    assert internal_reason(text) == why


@pytest.mark.parametrize(
    "text",
    [
        "Hello, I can help",
        "Thanks <@U0BOB> for waiting",  # a mention later in the text is not a remark
        "notes are attached",
        "internally we check twice",
        "; single semicolon",
    ],
)
def test_replies_to_the_customer_are_not_held(text: str) -> None:
    assert internal_reason(text) is None


ORIGINAL = OperatorMessage(
    channel=ChannelId("C0H"),
    ts=Ts("1000.000100"),
    session_id=SessionId("s1"),
    user_id=UserId("U0ALICE"),
    as_ai=False,
    text="Your deductible is $50",
    origin=THREAD_ORIGIN,
)


def _edit(text: str, after_seconds: float, intent: Intent = Intent.REPLY) -> Edit:
    reply = ThreadMessage(
        channel=ORIGINAL.channel,
        ts=ORIGINAL.ts,
        thread_ts=Ts("999.000100"),
        user=ORIGINAL.user_id,
        text=text,
        intent=intent,
    )
    return Edit(reply, Ts(f"{1000.0001 + after_seconds:.6f}"))


@pytest.mark.parametrize(
    ("state", "edit", "outcome"),
    [
        ("delivered", _edit("Your deductible is $500", 30), EditOutcome.CORRECT),
        ("pending", _edit("Your deductible is $500", 599), EditOutcome.CORRECT),
        ("delivered", _edit("Your deductible is $500", 601), EditOutcome.TOO_LATE),
        ("delivered", _edit("Your deductible is $50", 30), EditOutcome.IGNORE),
        ("delivered", _edit("now a note", 30, Intent.NOTE), EditOutcome.IGNORE),
        ("dropped: not an operator (guest)", _edit("x", 30), EditOutcome.IGNORE),
        (HELD_AS_INTERNAL, _edit("reworded", 3600), EditOutcome.EDIT_HELD),
    ],
)
def test_which_edits_reach_the_customer(state: str, edit: Edit, outcome: EditOutcome) -> None:
    assert judge_edit(StoredMessage(ORIGINAL, state), edit, 600) is outcome


def test_an_edit_of_a_message_never_relayed_is_ignored() -> None:
    assert judge_edit(None, _edit("x", 1), 600) is EditOutcome.IGNORE


def test_a_correction_is_keyed_by_the_edit_and_points_at_the_reply() -> None:
    fixed = correction(ORIGINAL, _edit("Your deductible is $500", 30))
    assert fixed.text == "Correction: Your deductible is $500"
    assert (fixed.reply_to, fixed.origin, fixed.user_id) == (
        ORIGINAL.ts,
        CORRECTION_ORIGIN,
        ORIGINAL.user_id,
    )
    assert fixed.ts == correction(ORIGINAL, _edit("other text", 30)).ts  # same edit, same key
    assert fixed.ts != correction(ORIGINAL, _edit("Your deductible is $500", 31)).ts


def test_slack_edit_events_are_parsed_and_its_own_changes_ignored() -> None:
    event = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C0H",
        "message": {
            "type": "message",
            "user": "U0ALICE",
            "text": "!ai fixed text",
            "ts": "1000.000100",
            "thread_ts": "999.000100",
            "edited": {"user": "U0ALICE", "ts": "1010.000000"},
        },
    }
    edit = parse_edit(event)
    assert edit is not None
    assert (edit.reply.text, edit.reply.intent, edit.edited_ts) == (
        "fixed text",
        Intent.AS_AI,
        "1010.000000",
    )
    unfurl = {**event, "message": {**event["message"], "edited": None}}
    assert parse_edit(unfurl) is None
    from_bot = {**event, "message": {**event["message"], "bot_id": "B1"}}
    assert parse_edit(from_bot) is None
