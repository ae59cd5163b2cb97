"""The handoff's root card, the modals operators open from it, and the held-reply notices."""

import re
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from slack_bridge.case_card import (
    CLAIM_ACTION,
    HAND_BACK_ACTION,
    RELEASE_ACTION,
    REPLY_AS_AI_ACTION,
    RESOLVE_ACTION,
    STATE_REACTIONS,
    TAKE_OVER_ACTION,
    root_message,
)
from slack_bridge.cases import Case, CaseState
from slack_bridge.formatting import SECTION_CHARS, HandoffSummary
from slack_bridge.held_notices import (
    KEEP_HELD_ACTION,
    SEND_HELD_ACTION,
    TAKE_OVER_HELD_ACTION,
    held_as_internal,
    held_for_owner,
    settled,
)
from slack_bridge.ids import UserId
from slack_bridge.modals import (
    AS_AI_BLOCK,
    AS_AI_INPUT,
    AS_AI_VIEW,
    HAND_BACK_VIEW,
    INSTRUCTION_BLOCK,
    INSTRUCTION_INPUT,
    MAX_INSTRUCTION,
    MAX_MODAL_TEXT,
    as_ai_text_from,
    as_ai_view,
    hand_back_view,
    instruction_from,
)

TICK = "\u02cb"  # what a customer's backtick is shown as: it cannot open or close inline code
SINCE = 1_714_561_200.0  # 2024-05-01 11:00 UTC
SINCE_TOKEN = "<!date^1714561200^{date_short_pretty} at {time}|2024-05-01 11:00 UTC>"
HANDED_OFF_TOKEN = "<!date^1714557600^{date_short_pretty} at {time}|2024-05-01 10:00 UTC>"
OWNER = UserId("U0OWNER")
BY = UserId("W0BY")

CASES = {
    CaseState.WAITING: Case(CaseState.WAITING, SINCE),
    CaseState.CLAIMED: Case(CaseState.CLAIMED, SINCE, owner=OWNER, by=OWNER),
    CaseState.WITH_AI: Case(CaseState.WITH_AI, SINCE, by=BY),
    CaseState.RESOLVED: Case(CaseState.RESOLVED, SINCE, by=BY),
}
STATE_WORDS = {
    CaseState.WAITING: "Waiting",
    CaseState.CLAIMED: "Claimed by <@U0OWNER>",
    CaseState.WITH_AI: "Back with the AI",
    CaseState.RESOLVED: "Resolved by <@W0BY>",
}


def _text_objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [found for item in value for found in _text_objects(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if value.get("type") in {"mrkdwn", "plain_text"} else []
    return own + [found for item in value.values() for found in _text_objects(item)]


def _dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]  # to_dict also checks slack_sdk's limits


def _buttons(blocks: list[Block]) -> list[dict[str, Any]]:
    actions = [block for block in _dicts(blocks) if block["type"] == "actions"]
    assert len(actions) <= 1
    return actions[0]["elements"] if actions else []


def _status(blocks: list[Block]) -> str:
    status = _dicts(blocks)[1]
    assert status["type"] == "section"
    text: str = status["text"]["text"]
    return text


HOSTILE = HandoffSummary(
    session_id="KmRqyT3Zf8",
    ref="H-ABCD",
    customer_name="Eve <!here>\n*Reference*\n@channel www.evil.example #general `",
    reason="Wants https://evil.example/login & <@U1>\n*Customer*\nSomeone else",
    requested_at="2024-05-01T10:00:00+00:00",
)
PLAIN = HandoffSummary("s1", "H-7F3K", "Jane Doe", "Wants a human", "2024-05-01T10:00:00Z")


@pytest.mark.parametrize("state", list(CaseState))
def test_the_root_message_never_lets_slack_parse_customer_text(state: CaseState) -> None:
    fallback, blocks = root_message(HOSTILE, CASES[state])
    assert fallback == (
        f"Handoff H-ABCD: Eve &lt;!here&gt; *Reference* @channel `www.evil.example` #general {TICK}"
        " — Wants `https://evil.example/login` &amp; &lt;@U1&gt; *Customer* Someone else"
        f" · {STATE_WORDS[state]}"
    )
    texts = _text_objects(_dicts(blocks))
    mrkdwn = [text for text in texts if text["type"] == "mrkdwn"]
    assert mrkdwn and all(text.get("verbatim") is True for text in mrkdwn)
    shown = [text["text"] for text in mrkdwn]
    assert (
        f"*Customer*\nEve &lt;!here&gt; *Reference* @channel `www.evil.example` #general {TICK}"
        in shown
    )
    assert (
        "*Reason*\n> Wants `https://evil.example/login` &amp; &lt;@U1&gt;\n> *Customer*\n"
        "> Someone else" in shown
    )
    # A ``<!date…>`` token is explicit: verbatim text still renders it.
    assert f"*Handed off*\n{HANDED_OFF_TOKEN}" in shown
    plain = [text["text"] for text in texts if text["type"] == "plain_text"]
    assert "Handoff H-ABCD: Eve &lt;!here&gt; *Reference* @channel www.evil.example #general `" in (
        plain
    )
    tokens = {token for text in texts for token in re.findall(r"<[^>]*>", text["text"])}
    people = {f"<@{user}>" for user in (CASES[state].owner, CASES[state].by) if user}
    assert tokens == {HANDED_OFF_TOKEN, SINCE_TOKEN} | people


@pytest.mark.parametrize(
    ("case", "status"),
    [
        (CASES[CaseState.WAITING], f":hourglass_flowing_sand: *Waiting* since {SINCE_TOKEN}"),
        (
            CASES[CaseState.CLAIMED],
            f":raising_hand: *Claimed* by <@U0OWNER> · since {SINCE_TOKEN}",
        ),
        (
            CASES[CaseState.WITH_AI],
            f":robot_face: *Back with the AI* · handed back by <@W0BY> {SINCE_TOKEN}",
        ),
        (
            Case(CaseState.WITH_AI, SINCE),
            f":robot_face: *Back with the AI* · handed back outside Slack {SINCE_TOKEN}",
        ),
        (CASES[CaseState.RESOLVED], f":white_check_mark: *Resolved* by <@W0BY> {SINCE_TOKEN}"),
        (Case(CaseState.RESOLVED, SINCE), f":white_check_mark: *Resolved* {SINCE_TOKEN}"),
    ],
)
def test_the_status_line_tells_the_state_who_and_when(case: Case, status: str) -> None:
    _, blocks = root_message(PLAIN, case)
    assert _status(blocks) == status
    assert status.startswith(f":{STATE_REACTIONS[case.state]}:")


def test_each_state_has_its_own_reaction() -> None:
    assert dict(STATE_REACTIONS) == {
        CaseState.WAITING: "hourglass_flowing_sand",
        CaseState.CLAIMED: "raising_hand",
        CaseState.WITH_AI: "robot_face",
        CaseState.RESOLVED: "white_check_mark",
    }


@pytest.mark.parametrize(
    ("state", "buttons"),
    [
        (
            CaseState.WAITING,
            [
                (CLAIM_ACTION, "Claim", "primary"),
                (REPLY_AS_AI_ACTION, "Reply as AI", None),
                (HAND_BACK_ACTION, "Hand back to AI", None),
                (RESOLVE_ACTION, "Resolve", None),
            ],
        ),
        (
            CaseState.CLAIMED,
            [
                (TAKE_OVER_ACTION, "Take over", None),
                (RELEASE_ACTION, "Release", None),
                (REPLY_AS_AI_ACTION, "Reply as AI", None),
                (HAND_BACK_ACTION, "Hand back to AI", None),
                (RESOLVE_ACTION, "Resolve", None),
            ],
        ),
        (CaseState.WITH_AI, [(RESOLVE_ACTION, "Resolve", None)]),
        (CaseState.RESOLVED, []),
    ],
)
def test_the_buttons_match_the_state(
    state: CaseState, buttons: list[tuple[str, str, str | None]]
) -> None:
    _, blocks = root_message(PLAIN, CASES[state])
    elements = _buttons(blocks)
    assert [(b["action_id"], b["text"]["text"], b.get("style")) for b in elements] == buttons
    assert all(b["value"] == "s1" for b in elements)
    confirms: dict[str, Any] = {b["action_id"]: b.get("confirm") for b in elements}
    assert confirms.get(HAND_BACK_ACTION) is None  # it opens a modal instead
    if RESOLVE_ACTION in confirms:
        confirm = confirms[RESOLVE_ACTION]
        assert confirm is not None and confirm["title"]["text"] == "Resolve this case?"
        assert "stops following the conversation" in confirm["text"]["text"]
        assert "back with the AI" in confirm["text"]["text"]


@pytest.mark.parametrize("state", list(CaseState))
def test_the_help_line_shows_while_the_case_is_open(state: CaseState) -> None:
    _, blocks = root_message(PLAIN, CASES[state])
    contexts = [block for block in _dicts(blocks) if block["type"] == "context"]
    if not state.open:
        assert contexts == []
        return
    [help_line] = [element["text"] for block in contexts for element in block["elements"]]
    assert "your first reply claims the case" in help_line
    assert "`!ai `" in help_line and "`note:`" in help_line
    assert "`/as-ai H-7F3K &lt;text&gt;`" in help_line


def test_a_hostile_user_id_is_still_inert() -> None:
    case = Case(CaseState.CLAIMED, SINCE, owner=UserId("U1><!channel>"))
    fallback, blocks = root_message(PLAIN, case)
    assert fallback.endswith(" · Claimed by <@U1&gt;&lt;!channel&gt;>")
    assert _status(blocks).startswith(":raising_hand: *Claimed* by <@U1&gt;&lt;!channel&gt;> ·")


@pytest.mark.parametrize("state", list(CaseState))
def test_very_long_names_and_reasons_stay_within_slacks_limits(state: CaseState) -> None:
    summary = HandoffSummary(
        "KmRqyT3Zf8", "H-ABCD", "Jane&<> " * 1_000, "see <!here> " * 1_000, "2024-05-01T10:00:00Z"
    )
    fallback, blocks = root_message(summary, CASES[state])
    assert len(fallback) < 700 and "&amp&" not in fallback
    shown = _dicts(blocks)
    assert len(shown) <= 50
    header, fields = shown[0]["text"]["text"], shown[2]["fields"]
    assert len(header) <= 150 and header.startswith("Handoff H-ABCD: Jane&amp;&lt;&gt; Jane")
    assert header.endswith("…") and "&amp&" not in header and not header.endswith("&…")
    assert all(len(field["text"]) <= 2_000 for field in fields)
    sections = [block["text"]["text"] for block in shown if block.get("text")]
    assert all(len(text) <= 3_000 for text in sections)
    assert all(len(b["text"]["text"]) <= 75 and len(b["value"]) <= 2_000 for b in _buttons(blocks))


def test_a_long_reason_is_clipped_before_it_is_made_inert() -> None:
    reason = "see https://evil.example/" + "&" * 5_000
    _, blocks = root_message(
        HandoffSummary("s", "H-ABCD", "Jane " * 1_000, reason, "2024-05-01T10:00:00Z"),
        CASES[CaseState.WAITING],
    )
    reason_section = _dicts(blocks)[3]
    shown = reason_section["text"]["text"]
    assert len(shown) <= SECTION_CHARS and shown.startswith("*Reason*\n> see `https://evil.ex")
    assert shown.endswith("…`") and shown.count("`") == 2 and "&amp&" not in shown


# Modals ----------------------------------------------------------------------------------------


def test_the_reply_as_ai_modal_keeps_its_ids() -> None:
    view = as_ai_view("s1", "H-7F3K", "Jane\nDoe " + "x" * 200).to_dict()
    assert (view["type"], view["callback_id"], view["private_metadata"]) == (
        "modal",
        AS_AI_VIEW,
        "s1",
    )
    [block] = view["blocks"]
    assert block["block_id"] == AS_AI_BLOCK and not block.get("optional")
    assert block["element"]["action_id"] == AS_AI_INPUT
    assert block["element"]["max_length"] == MAX_MODAL_TEXT == 3000
    assert block["label"]["text"] == "Message to Jane Doe " + "x" * 90 + "… (H-7F3K)"


def test_the_hand_back_modal_asks_for_an_optional_instruction() -> None:
    view = hand_back_view("s1", "H-7F3K", "Eve <!here> www.evil.example").to_dict()
    assert (view["callback_id"], view["private_metadata"]) == (HAND_BACK_VIEW, "s1")
    assert (view["title"]["text"], view["submit"]["text"]) == ("Hand back to the AI", "Hand back")
    explanation, field = view["blocks"]
    text = explanation["text"]
    assert text["verbatim"] is True
    assert text["text"].startswith("*Eve &lt;!here&gt; `www.evil.example`* (`H-7F3K`) goes back")
    assert "answers the customer at once" in text["text"]
    assert "until someone presses *Resolve*" in text["text"]
    assert field["optional"] is True and field["block_id"] == INSTRUCTION_BLOCK
    assert field["label"]["text"] == "Instruction for the AI (optional)"
    element = field["element"]
    assert element["action_id"] == INSTRUCTION_INPUT and element["multiline"] is True
    assert element["max_length"] == MAX_INSTRUCTION == 1000
    assert element["placeholder"]["text"]


def _values(block: str, action: str, value: str | None) -> dict[str, Any]:
    return {block: {action: {"type": "plain_text_input", "value": value}}}


@pytest.mark.parametrize(
    ("values", "instruction"),
    [
        (
            _values(INSTRUCTION_BLOCK, INSTRUCTION_INPUT, "  Confirm the refund.\n"),
            "Confirm the refund.",
        ),
        (_values(INSTRUCTION_BLOCK, INSTRUCTION_INPUT, " \n "), None),
        (_values(INSTRUCTION_BLOCK, INSTRUCTION_INPUT, None), None),
        ({INSTRUCTION_BLOCK: {}}, None),
        ({}, None),
    ],
)
def test_the_instruction_is_read_from_the_submission(
    values: dict[str, Any], instruction: str | None
) -> None:
    assert instruction_from(values) == instruction


def test_the_as_ai_text_is_read_from_the_submission() -> None:
    assert as_ai_text_from(_values(AS_AI_BLOCK, AS_AI_INPUT, "  Hello <b>\n")) == "Hello <b>"
    assert as_ai_text_from(_values(AS_AI_BLOCK, AS_AI_INPUT, None)) == ""
    assert as_ai_text_from({}) == ""


# Held replies --------------------------------------------------------------------------------

KEY = "C123|1700000000.000100"


def _shown(notice: tuple[str, list[Block]]) -> tuple[str, str, list[tuple[str, str, str | None]]]:
    text, blocks = notice
    section, *_ = _dicts(blocks)
    assert section["text"]["verbatim"] is True and section["text"]["text"] == text
    buttons = [(b["action_id"], b["text"]["text"], b.get("style")) for b in _buttons(blocks)]
    assert all(b["value"] == KEY for b in _buttons(blocks))
    return text, section["text"]["text"], buttons


def test_a_reply_held_for_the_owner_offers_to_take_over() -> None:
    text, _, buttons = _shown(held_for_owner("H-7F3K", "U0OWNER", KEY))
    assert text == (
        "<@U0OWNER> owns `H-7F3K`, so your reply was not sent. Take over to send it and own"
        " the case, or keep it as an internal note."
    )
    assert buttons == [
        (TAKE_OVER_HELD_ACTION, "Take over", "primary"),
        (KEEP_HELD_ACTION, "Keep internal", None),
    ]


def test_the_owner_mention_in_a_held_notice_is_escaped() -> None:
    text, _, _ = _shown(held_for_owner("H-7F3K", "U1><!here>", KEY))
    assert text.startswith("<@U1&gt;&lt;!here&gt;> owns") and "<!here>" not in text


def test_a_reply_that_looks_internal_offers_to_send_it() -> None:
    text, _, buttons = _shown(held_as_internal("H-7F3K", "it starts with `internal:`", KEY))
    assert "`H-7F3K`" in text and "because it starts with `internal:`." in text
    assert buttons == [
        (SEND_HELD_ACTION, "Send to customer", "primary"),
        (KEEP_HELD_ACTION, "Keep internal", None),
    ]


def test_a_settled_notice_has_no_buttons() -> None:
    text, blocks = settled("Kept as an internal note.")
    assert text == "Kept as an internal note."
    assert _dicts(blocks) == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Kept as an internal note.", "verbatim": True},
        }
    ]
