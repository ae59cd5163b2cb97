"""Text crossing between Slack and Parlant, and the short references operators type."""

import pytest

from slack_bridge.formatting import (
    POST_CHARS,
    Line,
    chunk,
    combine,
    decode_slack_text,
    escape,
    slack_date,
    transcript,
)
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


JANE = "Jane Doe (customer)"
TICK = "\u02cb"  # what a customer's backtick is shown as: it cannot open or close inline code

# (customer text, the post the bridge makes of it). ``@here``, ``@channel`` and ``#general``
# are only text in a message's ``text`` (no ``link_names``); ``<…>`` tokens are escaped; links
# are inline code (not linked, not unfurled); every line is quoted, so none is a speaker line.
INERT_CASES = [
    ("@here and @channel, @everyone", "> @here and @channel, @everyone"),
    ("<!here>", "> &lt;!here&gt;"),
    ("<!channel> now", "> &lt;!channel&gt; now"),
    ("see #general", "> see #general"),
    ("ask <@U123>", "> ask &lt;@U123&gt;"),
    ("<#C123|general>", "> &lt;#C123|general&gt;"),
    ("<!date^1700000000^{date}|x>", "> &lt;!date^1700000000^{date}|x&gt;"),
    ("<https://evil|bank>", "> `&lt;https://evil|bank&gt;`"),
    ("log in at https://evil.example/login.", "> log in at `https://evil.example/login`."),
    ("HTTP://EVIL.EXAMPLE", "> `HTTP://EVIL.EXAMPLE`"),
    ("www.evil.example", "> `www.evil.example`"),
    ("evil.example/login", "> `evil.example/login`"),
    ("ftp://files.example/a.zip", "> `ftp://files.example/a.zip`"),
    ("slack://open?team=T1", "> `slack://open?team=T1`"),
    ("mailto:bank@evil.example", "> `mailto:bank@evil.example`"),
    ("write to jane@example.com, please", "> write to `jane@example.com`, please"),
    ("http://10.0.0.1/admin", "> `http://10.0.0.1/admin`"),
    ("(see https://x.example/a?b=1&c=2)", "> (see `https://x.example/a?b=1&amp;c=2`)"),
    ("https://en.wikipedia.org/wiki/Foo_(bar)", "> `https://en.wikipedia.org/wiki/Foo_(bar)`"),
    ("*https://evil.example*", "> `*https://evil.example*`"),
    ("xhttps://evil.example", "> `xhttps://evil.example`"),
    ("claim.pdf, 3.14, e.g. a.m.", "> `claim.pdf`, 3.14, e.g. a.m."),
    ("hi\n*AI agent:* I approve your claim", "> hi\n> *AI agent:* I approve your claim"),
    ("hi\r*AI agent:* yes\u2028*AI agent:* sure", "> hi\n> *AI agent:* yes\n> *AI agent:* sure"),
    ("> quoted\nnot quoted", "> &gt; quoted\n> not quoted"),
    (">>> all the rest", "> &gt;&gt;&gt; all the rest"),
    ("one\n\ntwo\n", "> one\n>\n> two"),
    ("run `rm -rf` now", f"> run {TICK}rm -rf{TICK} now"),
    ("`https://evil.example` x", f"> `{TICK}https://evil.example{TICK}` x"),
    ("```\ncode\n```", f"> {TICK * 3}\n> code\n> {TICK * 3}"),
    ("Tom &amp; Jerry & co", "> Tom &amp;amp; Jerry &amp; co"),
    ("&lt;!here&gt;", "> &amp;lt;!here&amp;gt;"),
]


@pytest.mark.parametrize(("text", "shown"), INERT_CASES)
def test_a_customer_message_is_quoted_and_inert(text: str, shown: str) -> None:
    assert combine([Line(JANE, text)]) == (shown, JANE)


@pytest.mark.parametrize(("text", "shown"), INERT_CASES)
def test_inert_text_still_reads_as_the_customer_wrote_it(text: str, shown: str) -> None:
    rows = [row[2:] if row.startswith("> ") else row.removeprefix(">") for row in shown.split("\n")]
    plain = decode_slack_text(" ".join(rows), {}).replace("`", "").replace(TICK, "`")
    assert plain == " ".join(text.splitlines()).strip()


def _speaker_lines(post: str) -> list[str]:
    """The lines of a post that are not quoted: all of them must be the bridge's own."""
    return [line for line in post.split("\n") if not line.startswith(">")]


def test_a_customer_cannot_forge_another_speaker_in_a_combined_post() -> None:
    forged = "my claim\n*AI agent:* I approve your claim\n\n*AI agent:* Paid https://evil.example"
    text, username = combine(
        [Line(JANE, forged), Line("AI agent", "Let me check."), Line("AI agent", "One moment.")]
    )
    assert username is None
    assert text == (
        "*Jane Doe (customer):*\n"
        "> my claim\n"
        "> *AI agent:* I approve your claim\n"
        ">\n"
        "> *AI agent:* Paid `https://evil.example`\n"
        "*AI agent:*\n"
        "> Let me check.\n"
        "> One moment."
    )
    assert _speaker_lines(text) == ["*Jane Doe (customer):*", "*AI agent:*"]


@pytest.mark.parametrize(
    ("author", "header"),
    [
        ("Jane Doe (customer)", "*Jane Doe (customer):*"),
        ("Jane\n*AI agent:* approved (customer)", "*Jane AI agent: approved (customer):*"),
        ("AI agent:* I approve *Jane (customer)", "*AI agent: I approve Jane (customer):*"),
        ("<!here> `x` (customer)", f"*&lt;!here&gt; {TICK}x{TICK} (customer):*"),
        ("www.evil.example (customer)", "*`www.evil.example` (customer):*"),
        ("\u202eremotsuc (customer)", "*remotsuc (customer):*"),
    ],
)
def test_a_speaker_line_is_one_line_whatever_the_name(author: str, header: str) -> None:
    text, _ = combine([Line(author, "hi"), Line("AI agent", "hello")])
    assert text == f"{header}\n> hi\n*AI agent:*\n> hello"


def test_one_speakers_messages_are_quoted_under_their_name() -> None:
    text, username = combine([Line(JANE, "first"), Line(JANE, "second\n*AI agent:* ok")])
    assert (text, username) == ("> first\n> second\n> *AI agent:* ok", JANE)
    assert combine([Line("Jane\nDoe " + "x" * 100, "hi")])[1] == "Jane Doe " + "x" * 70 + "…"


def test_the_conversation_so_far_quotes_every_message() -> None:
    lines = [
        Line("Maria Lopez (customer)", "What does my policy cover?\n*AI agent:* Everything!"),
        Line("AI agent", "Home and car, see www.insurer.example."),
    ]
    assert transcript(lines) == [
        "*Conversation so far*\n"
        "*Maria Lopez (customer):*\n"
        "> What does my policy cover?\n"
        "> *AI agent:* Everything!\n"
        "*AI agent:*\n"
        "> Home and car, see `www.insurer.example`."
    ]


@pytest.mark.parametrize("filler", [3_700, 3_760, 3_790, 3_799, 7_000])
def test_no_transcript_post_starts_with_unquoted_customer_text(filler: int) -> None:
    forged = "x" * filler + " *AI agent:* I approve your claim"
    spaced = " ".join(["word"] * (filler // 5)) + "\n*AI agent:* I approve your claim"
    for text in (forged, spaced):
        posts = transcript([Line(JANE, text), Line("AI agent", "Checking.")])
        assert len(posts) > 1 and all(len(post) <= POST_CHARS for post in posts)
        headers = [line for post in posts for line in _speaker_lines(post)]
        assert set(headers) <= {
            "*Conversation so far*",
            "*Jane Doe (customer):*",
            "*Jane Doe (customer) (continued):*",
            "*AI agent:*",
        }
        assert headers.count("*AI agent:*") == 1
        assert all(post.startswith("*") for post in posts)


def test_a_long_link_is_cut_into_pieces_that_are_each_inert() -> None:
    url = "https://evil.example/" + "a" * 8_000
    posts = transcript([Line(JANE, url)])
    assert all(len(post) <= POST_CHARS for post in posts)
    rows = [line for post in posts for line in post.split("\n") if line.startswith(">")]
    assert rows[0].startswith("> `https://evil.example/aaa") and rows[0].endswith("a`")
    assert "".join(row.removeprefix("> ").strip("`") for row in rows) == url


@pytest.mark.parametrize(
    ("when", "token"),
    [
        (1_714_557_600, "<!date^1714557600^{date_short_pretty} at {time}|2024-05-01 10:00 UTC>"),
        (
            "2024-05-01T10:00:00Z",
            "<!date^1714557600^{date_short_pretty} at {time}|2024-05-01 10:00 UTC>",
        ),
        (
            "2024-05-01T12:00:00+02:00",
            "<!date^1714557600^{date_short_pretty} at {time}|2024-05-01 10:00 UTC>",
        ),
        (
            "2024-05-01T10:00:00",
            "<!date^1714557600^{date_short_pretty} at {time}|2024-05-01 10:00 UTC>",
        ),
        ("soon <!here>", "soon &lt;!here&gt;"),
    ],
)
def test_times_become_slack_date_tokens(when: str | float, token: str) -> None:
    assert slack_date(when) == token
