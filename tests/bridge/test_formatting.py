"""Text crossing between Slack and Parlant, and the short references operators type."""

import pytest

from slack_bridge.formatting import POST_CHARS, Line, chunk, decode_slack_text, escape, transcript
from slack_bridge.ids import SessionId, looks_like_ref, normalize_ref, short_ref


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("Tom &amp; Jerry &lt;3 &gt;", "Tom & Jerry <3 >"),
        ("ask <@U0BOB>", "ask @Bob B."),
        ("ask <@U0NOBODY>", "ask @U0NOBODY"),
        ("see <#C0GENERAL|general> and <#C0X>", "see #general and #channel"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!subteam^S1|@claims-team> ping", "@claims-team ping"),
        ("<!date^1700000000^{date}|Nov 14> ok", "Nov 14 ok"),
        ("<https://x.example/a?b=1&amp;c=2|the guide>", "the guide (https://x.example/a?b=1&c=2)"),
        ("<https://x.example>", "https://x.example"),
        ("<mailto:a@b.example|a@b.example>", "a@b.example"),
        ("&amp;lt; stays literal", "&lt; stays literal"),
    ],
)
def test_slack_markup_is_decoded_for_the_customer(slack: str, plain: str) -> None:
    assert decode_slack_text(slack, {"U0BOB": "Bob B."}) == plain


def test_escaping_makes_text_inert_and_round_trips() -> None:
    text = "<!channel> <@U1> <https://evil.example|bank> & more"
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert decode_slack_text(escaped, {}) == text


def test_long_text_is_cut_at_word_ends_within_the_limit() -> None:
    words = " ".join(f"word{n}" for n in range(3000))
    pieces = chunk(words)
    assert len(pieces) > 1 and all(len(p) <= POST_CHARS for p in pieces)
    assert " ".join(pieces) == words
    long_transcript = transcript([Line("Jane (customer)", "x" * 10_000)])
    assert all(len(p) <= POST_CHARS for p in long_transcript)
    assert "".join(long_transcript).count("x") == 10_000


def test_short_references() -> None:
    ref = short_ref(SessionId("KmRqyT3Zf8"))
    assert ref == short_ref(SessionId("KmRqyT3Zf8")) and len(ref) == 6
    assert looks_like_ref(ref.lower()) and normalize_ref(ref.lower()) == ref
    assert normalize_ref("h-0ol1") == "H-0011"
    assert not looks_like_ref("hello") and not looks_like_ref("H-A")
