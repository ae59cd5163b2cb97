"""The queue of open handoffs: the App Home tab and the ``/handoffs`` answer."""

import dataclasses
import re
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from slack_bridge.case_card import CLAIM_ACTION
from slack_bridge.cases import Case, CaseState
from slack_bridge.formatting import POST_CHARS
from slack_bridge.ids import ChannelId, SessionId, Ts, UserId
from slack_bridge.queue_view import (
    LISTED_CASES,
    OPEN_THREAD_ACTION,
    QueueEntry,
    home_view,
    queue_order,
    queue_text,
)
from slack_bridge.store import Conversation
from tests.slack_emulator.limits import MAX_VIEW_BLOCKS, block_errors

NOW = 1_714_561_200.0  # 2024-05-01 11:00 UTC
CHANNEL = ChannelId("C0HANDOFF")
PERMALINK = "https://acme.slack.com/archives/C0HANDOFF/p1714560000000100"
UPDATED = "Updated <!date^1714561200^{date_short_pretty} at {time}|2024-05-01 11:00 UTC>"
TICK = "\u02cb"  # a customer's backtick
STAR = "\u2217"  # a customer's asterisk


def _conversation(
    number: int,
    state: CaseState,
    waited: float,
    *,
    owner: str | None = None,
    name: str = "Jane Doe",
    reason: str = "Wants a human",
    channel: ChannelId | None = CHANNEL,
) -> Conversation:
    fields: dict[str, Any] = {
        "session_id": SessionId(f"session-{number}"),
        "ref": f"H-{number:04d}",
        "customer_name": name,
        "reason": reason,
        "requested_at": "2024-05-01T10:00:00Z",
        "channel": channel,
        "thread_ts": Ts(f"1714560000.{number:06d}") if channel else None,
        "cursor": 0,
        "opened_at": NOW - waited,
        "last_post_ts": None,
        "case": Case(state, NOW - waited, owner=UserId(owner) if owner else None),
        "root_reaction": None,
    }
    # Columns the queue never reads (routing, reminders ...) may be added to the row; they
    # do not change what it shows.
    unread: dict[str, Any] = {
        f.name: None for f in dataclasses.fields(Conversation) if f.name not in fields
    }
    return Conversation(**fields, **unread)


def _entry(conversation: Conversation, permalink: str | None = PERMALINK) -> QueueEntry:
    return QueueEntry(conversation, permalink)


WAITING_OLD = _conversation(1, CaseState.WAITING, 7 * 60 + 30)
WAITING_NEW = _conversation(2, CaseState.WAITING, 30)
CLAIMED = _conversation(3, CaseState.CLAIMED, 2 * 3600 + 5 * 60, owner="U0OWNER")
WITH_AI = _conversation(4, CaseState.WITH_AI, 2 * 86_400 + 3 * 3600)
RESOLVED = _conversation(5, CaseState.RESOLVED, 60)
ALL = [WITH_AI, RESOLVED, CLAIMED, WAITING_NEW, WAITING_OLD]


def _dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]  # to_dict also checks slack_sdk's limits


def _home(entries: list[QueueEntry], truncated: int = 0) -> list[dict[str, Any]]:
    view = home_view(entries, NOW, truncated=truncated).to_dict()
    assert view["type"] == "home"
    blocks: list[dict[str, Any]] = view["blocks"]
    assert block_errors(blocks, max_blocks=MAX_VIEW_BLOCKS) == []
    return blocks


def _case_blocks(blocks: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each listed case of the Home tab: its section's text and its buttons."""
    cases: list[tuple[str, list[dict[str, Any]]]] = []
    for block in blocks[3:]:
        if block["type"] == "section":
            cases.append((block["text"]["text"], []))
        elif block["type"] == "actions":
            cases[-1][1].extend(block["elements"])
    return cases


def _texts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [found for item in value for found in _texts(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if value.get("type") in {"mrkdwn", "plain_text"} else []
    return own + [found for item in value.values() for found in _texts(item)]


# Order and counts ------------------------------------------------------------------------------


def test_waiting_cases_come_first_longest_waiting_first_then_claimed_then_with_the_ai() -> None:
    assert queue_order(ALL) == [WAITING_OLD, WAITING_NEW, CLAIMED, WITH_AI]
    cases = _case_blocks(_home([_entry(c) for c in ALL]))
    assert [text.split("`")[1] for text, _ in cases] == ["H-0001", "H-0002", "H-0003", "H-0004"]
    _, blocks = queue_text([_entry(c) for c in ALL], NOW)
    lines = [block["text"]["text"] for block in _dicts(blocks)[1:]]
    assert [line.split("`")[1] for line in lines] == ["H-0001", "H-0002", "H-0003", "H-0004"]


def test_the_home_tab_counts_the_open_cases_per_state() -> None:
    header, counts, updated, *_ = _home([_entry(c) for c in ALL])
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Open handoffs", "emoji": True},
    }
    assert counts["text"]["text"] == "*2* waiting · *1* claimed · *1* with the AI"
    assert updated["type"] == "context" and updated["elements"][0]["text"] == UPDATED


# Each case ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conversation", "state"),
    [
        (
            WAITING_OLD,
            ":hourglass_flowing_sand: *Waiting* · queued <!date^1714560750^{ago}|7 min ago>",
        ),
        (
            WAITING_NEW,
            ":hourglass_flowing_sand: *Waiting* · queued"
            " <!date^1714561170^{ago}|under a minute ago>",
        ),
        (
            CLAIMED,
            ":raising_hand: *Claimed* by <@U0OWNER> · <!date^1714553700^{ago}|2 h 5 min ago>",
        ),
        (
            dataclasses.replace(CLAIMED, case=Case(CaseState.CLAIMED, NOW - 3600)),
            ":raising_hand: *Claimed* · <!date^1714557600^{ago}|1 h ago>",
        ),
        (WITH_AI, ":robot_face: *Back with the AI* · <!date^1714377600^{ago}|2 d 3 h ago>"),
    ],
)
def test_each_case_shows_who_where_its_state_and_since_when(
    conversation: Conversation, state: str
) -> None:
    ref = conversation.ref
    [(text, _)] = _case_blocks(_home([_entry(conversation)]))
    assert text == f"*Jane Doe* · `{ref}` · <#C0HANDOFF>\n{state}\n> Wants a human"
    _, blocks = queue_text([_entry(conversation)], NOW)
    emoji, words = state.split(" ", 1)
    assert _dicts(blocks)[1]["text"]["text"] == (
        f"{emoji} `{ref}` *Jane Doe* · {words} · <#C0HANDOFF>"
        f" · <{PERMALINK}|open thread> — Wants a human"
    )


def test_a_case_in_the_future_has_waited_under_a_minute() -> None:
    early = dataclasses.replace(WAITING_OLD, case=Case(CaseState.WAITING, NOW + 90))
    [(text, _)] = _case_blocks(_home([_entry(early)]))
    assert "<!date^1714561290^{ago}|under a minute ago>" in text


def test_a_case_without_a_thread_or_a_name_or_a_reason_still_reads() -> None:
    bare = _conversation(9, CaseState.WAITING, 60, name=" \n", reason="", channel=None)
    [(text, _)] = _case_blocks(_home([_entry(bare, None)]))
    assert text.splitlines()[0] == "_no name_ · `H-0009` · _no thread yet_"
    assert len(text.splitlines()) == 2


def test_a_hostile_owner_id_is_still_inert() -> None:
    owned = dataclasses.replace(
        CLAIMED, case=Case(CaseState.CLAIMED, NOW, owner=UserId("U1><!channel>"))
    )
    [(text, _)] = _case_blocks(_home([_entry(owned)]))
    assert "*Claimed* by <@U1&gt;&lt;!channel&gt;> ·" in text


# Buttons --------------------------------------------------------------------------------------


def _button(element: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
    return element["action_id"], element["text"]["text"], element.get("value"), element.get("url")


@pytest.mark.parametrize(
    ("conversation", "permalink", "buttons"),
    [
        (
            WAITING_OLD,
            PERMALINK,
            [
                (OPEN_THREAD_ACTION, "Open thread", None, PERMALINK),
                (CLAIM_ACTION, "Claim", "session-1", None),
            ],
        ),
        (WAITING_OLD, None, [(CLAIM_ACTION, "Claim", "session-1", None)]),
        (CLAIMED, PERMALINK, [(OPEN_THREAD_ACTION, "Open thread", None, PERMALINK)]),
        (WITH_AI, PERMALINK, [(OPEN_THREAD_ACTION, "Open thread", None, PERMALINK)]),
        (CLAIMED, None, []),
        (WITH_AI, None, []),
    ],
)
def test_the_home_tab_offers_the_thread_when_known_and_claim_while_waiting(
    conversation: Conversation,
    permalink: str | None,
    buttons: list[tuple[str, str, str | None, str | None]],
) -> None:
    blocks = _home([_entry(conversation, permalink)])
    [(_, elements)] = _case_blocks(blocks)
    assert [_button(element) for element in elements] == buttons
    # No empty actions block: Slack refuses one.
    assert len([b for b in blocks if b["type"] == "actions"]) == (1 if buttons else 0)


def test_the_claim_button_is_the_one_the_case_card_listener_handles() -> None:
    assert CLAIM_ACTION == "claim" and OPEN_THREAD_ACTION == "open_thread"
    [(_, [claim])] = _case_blocks(_home([_entry(WAITING_OLD, None)]))
    assert (claim["action_id"], claim["style"], claim["value"]) == (
        CLAIM_ACTION,
        "primary",
        WAITING_OLD.session_id,
    )


def test_the_handoffs_answer_has_claim_only_on_waiting_lines_and_links_only_when_known() -> None:
    entries = [_entry(WAITING_OLD), _entry(WAITING_NEW, None), _entry(CLAIMED), _entry(WITH_AI)]
    _, blocks = queue_text(entries, NOW)
    shown = _dicts(blocks)
    assert block_errors(shown) == []
    claims = [block.get("accessory") for block in shown[1:]]
    assert [claim and (claim["action_id"], claim["value"]) for claim in claims] == [
        (CLAIM_ACTION, "session-1"),
        (CLAIM_ACTION, "session-2"),
        None,
        None,
    ]
    links = ["open thread>" in block["text"]["text"] for block in shown[1:]]
    assert links == [True, False, True, True]


def test_a_thread_reply_permalink_is_escaped_in_the_line() -> None:
    reply = f"{PERMALINK}?thread_ts=1714560000.000100&cid=C0HANDOFF"
    _, blocks = queue_text([_entry(WAITING_OLD, reply)], NOW)
    line = _dicts(blocks)[1]["text"]["text"]
    assert f"<{PERMALINK}?thread_ts=1714560000.000100&amp;cid=C0HANDOFF|open thread>" in line


# Customer text stays inert --------------------------------------------------------------------

HOSTILE_NAME = "Eve <!channel> *Claimed* by <@U1> <https://evil.example|bank> `x`\nsecond"
HOSTILE_REASON = "Call <!here> at www.evil.example *now* & <#C0OTHER>\n> fake quote"


def test_hostile_names_and_reasons_stay_inert() -> None:
    hostile = _conversation(7, CaseState.WAITING, 60, name=HOSTILE_NAME, reason=HOSTILE_REASON)
    name = (
        f"Eve &lt;!channel&gt; {STAR}Claimed{STAR} by &lt;@U1&gt;"
        f" `&lt;https://evil.example|bank&gt;` {TICK}x{TICK} second"
    )
    reason = (
        f"Call &lt;!here&gt; at `www.evil.example` {STAR}now{STAR} &amp; &lt;#C0OTHER&gt;"
        " &gt; fake quote"
    )
    home = _home([_entry(hostile)])
    [(text, _)] = _case_blocks(home)
    assert text.splitlines()[0] == f"*{name}* · `H-0007` · <#C0HANDOFF>"
    assert text.splitlines()[2] == f"> {reason}"
    fallback, blocks = queue_text([_entry(hostile)], NOW)
    line = _dicts(blocks)[1]["text"]["text"]
    assert f"*{name}*" in line and line.endswith(f" — {reason}") and line in fallback
    for shown in (home, _dicts(blocks)):
        texts = _texts(shown)
        assert all(t.get("verbatim") is True for t in texts if t["type"] == "mrkdwn")
        tokens = {token for t in texts for token in re.findall(r"<[^<>]*>", t["text"])}
        assert {token.split("^")[0].split("|")[0] for token in tokens} <= {
            "<#C0HANDOFF>",
            "<!date",
            f"<{PERMALINK}",
        }


def test_long_names_and_reasons_are_clipped_before_they_are_made_inert() -> None:
    long = _conversation(8, CaseState.WAITING, 60, name="&<>* " * 2_000, reason="<!here> " * 2_000)
    [(text, _)] = _case_blocks(_home([_entry(long)]))
    name_line, _, reason_line = text.splitlines()
    assert len(name_line) < 150 and len(reason_line) <= 302
    assert reason_line.endswith("…") and "&amp&" not in text and "&lt…" not in text
    _, blocks = queue_text([_entry(long)], NOW)
    line = _dicts(blocks)[1]["text"]["text"]
    assert len(line) < 500 and line.endswith("…")


# Limits ---------------------------------------------------------------------------------------


def _many(count: int) -> list[QueueEntry]:
    reason = "A long reason " * 100
    return [
        _entry(_conversation(n, CaseState.WAITING, n * 60, name="Name " * 50, reason=reason))
        for n in range(1, count + 1)
    ]


@pytest.mark.parametrize("truncated", [0, 25])
def test_two_hundred_cases_fit_the_home_tab_with_a_more_line(truncated: int) -> None:
    blocks = _home(_many(200), truncated)
    assert len(blocks) <= MAX_VIEW_BLOCKS
    cases = _case_blocks(blocks)
    assert len(cases) == LISTED_CASES
    # The longest waiting are the ones listed.
    assert cases[0][0].split("`")[1] == "H-0200" and cases[-1][0].split("`")[1] == "H-0171"
    assert blocks[-1]["elements"][0]["text"] == (
        f"…and {170 + truncated} more open handoffs: see the handoff channel."
    )
    assert blocks[1]["text"]["text"] == "*200* waiting · *0* claimed · *0* with the AI"


def test_two_hundred_cases_fit_an_ephemeral_answer() -> None:
    fallback, blocks = queue_text(_many(200), NOW, truncated=3)
    shown = _dicts(blocks)
    assert block_errors(shown) == [] and len(shown) <= 50
    assert all(len(block["text"]["text"]) <= 3_000 for block in shown if "text" in block)
    assert len([block for block in shown if block.get("accessory")]) == LISTED_CASES
    assert (
        shown[-1]["elements"][0]["text"] == "…and 173 more open handoffs: see the handoff channel."
    )
    assert len(fallback) <= POST_CHARS
    assert fallback.startswith("Open handoffs: *200* waiting · *0* claimed · *0* with the AI\n")
    assert re.search(r"\n…and \d+ more open handoffs: see the handoff channel\.$", fallback)


def test_one_more_case_reads_in_the_singular() -> None:
    blocks = _home([_entry(WAITING_OLD)], truncated=1)
    assert blocks[-1]["elements"][0]["text"] == "…and 1 more open handoff: see the handoff channel."


def test_the_same_session_is_listed_once() -> None:
    blocks = _home([_entry(WAITING_OLD), _entry(WAITING_OLD, None)])
    assert len(_case_blocks(blocks)) == 1
    assert blocks[1]["text"]["text"] == "*1* waiting · *0* claimed · *0* with the AI"


# An empty queue -------------------------------------------------------------------------------


def test_an_empty_queue_says_so() -> None:
    blocks = _home([_entry(RESOLVED)])
    assert [block["type"] for block in blocks] == ["header", "section", "context"]
    assert blocks[1]["text"]["text"] == "No open handoffs. :tada:"
    assert blocks[2]["elements"][0]["text"] == UPDATED
    fallback, answer = queue_text([], NOW)
    assert fallback == "No open handoffs. :tada:"
    assert [block["text"]["text"] for block in _dicts(answer)] == ["No open handoffs. :tada:"]
