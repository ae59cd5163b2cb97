"""Text crossing between Parlant and Slack, and the pieces of the Block Kit the bridge posts.

Toward Slack, customer (and AI) text is made inert: ``&``, ``<`` and ``>`` are escaped so
``<!channel>``, ``<@U…>`` and ``<url|label>`` are shown, not acted on; bare links are shown
as inline code so Slack neither links nor unfurls them; Block Kit text carrying such text is
``verbatim`` so Slack does not auto-link ``@here``, ``#channel`` names or URLs in it; and each
message is a block quote under a bold speaker line the bridge writes, so no line of it can
pass for another speaker. Toward the customer, Slack's markup is decoded into plain words.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.models.blocks import MarkdownTextObject

# Slack renders long messages poorly past ~4,000 characters; a section's text stops at 3,000.
POST_CHARS = 3_800
SECTION_CHARS = 2_900
FIELD_CHARS = 1_900
USERNAME_CHARS = 80
SPEAKER_CHARS = 100
HEADER_CHARS = 150

_SLACK_TOKEN = re.compile(r"<([^<>\n]*)>")
_SPECIAL_MENTIONS = {"channel": "@channel", "here": "@here", "everyone": "@everyone"}


def escape(text: str) -> str:
    """Escape Slack's only control characters, ``&``, ``<`` and ``>``: no ``<!here>``, ``<@U…>``
    or ``<url|label>`` token is left. Customer and AI text wants :func:`inert` or
    :func:`quote`, which also keep bare links and forged speaker lines out."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentioned_users(text: str) -> set[str]:
    """User ids mentioned as ``<@U…>`` (their names are needed to decode the text)."""
    return {
        token[1:].split("|", 1)[0] for token in _SLACK_TOKEN.findall(text) if token.startswith("@")
    }


def _decode_token(token: str, user_names: Mapping[str, str]) -> str:
    target, _, label = (_unescape(part) for part in token.partition("|"))
    if target.startswith("@"):
        return "@" + (user_names.get(target[1:]) or label or target[1:])
    if target.startswith("#"):
        return "#" + (label or "channel")
    if target.startswith("!"):
        command = target[1:].split("^", 1)[0]
        if command in _SPECIAL_MENTIONS:
            return _SPECIAL_MENTIONS[command]
        return label or command
    if not label or label == target or target == f"mailto:{label}":
        return label or target
    return f"{label} ({target})"


def decode_slack_text(text: str, user_names: Mapping[str, str]) -> str:
    """Slack's message markup as plain text for the customer.

    ``<@U1>`` → ``@Name``, ``<#C1|general>`` → ``#general``, ``<!here>`` → ``@here``,
    ``<https://x|label>`` → ``label (https://x)``, ``&amp;`` → ``&``.
    """
    parts: list[str] = []
    end = 0
    for match in _SLACK_TOKEN.finditer(text):
        parts.append(_unescape(text[end : match.start()]))
        parts.append(_decode_token(match.group(1), user_names))
        end = match.end()
    parts.append(_unescape(text[end:]))
    return "".join(parts)


def chunk(text: str, limit: int = POST_CHARS) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line or word ends when possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Customer (and AI) text toward Slack ---------------------------------------------------------

BACKTICK_STANDIN = "\u02cb"
"""U+02CB (modifier letter grave accent), shown for a backtick of customer text: a real one could
open or close inline code and so leave a link the bridge put in code outside it."""
QUOTE_CHARS = POST_CHARS - 200
"""Longest quoted line of the transcript; longer lines continue on the next quoted line."""

_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WORD = re.compile(r"\S+")
_LEADING = "([{\"'"
_TRAILING = ".,;:!?)]}\"'"
# What Slack might turn into a link, generously: any ``scheme://``, ``mailto:`` and the like,
# ``www.``, anything shaped like a domain name (``evil.example``, ``a@b.example``, even
# ``claim.pdf``) and IPv4 addresses. A false positive only costs a pair of backticks.
_LINK_LIKE = re.compile(
    r"://"
    r"|(?<![^\W_])(?:mailto|tel|sms|callto|xmpp|news):"
    r"|(?<![^\W_])www\d{0,3}\."
    r"|[^\W_]\.[^\W\d_]{2}"
    r"|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
    re.IGNORECASE,
)


def one_line(text: str) -> str:
    """Names and other one-line values: all whitespace (newlines too) as single spaces, and
    without the bidirectional controls that could show the rest of a line reversed."""
    return " ".join(_BIDI_CONTROLS.sub("", text).split())


def _split_word(word: str) -> tuple[str, str, str]:
    """(leading punctuation, core, trailing punctuation): ``(https://x).`` → ``(``,
    ``https://x``, ``).``; a ``)`` the core opened stays in it (``…/Foo_(bar)``)."""
    start, end = 0, len(word)
    while start < end and word[start] in _LEADING:
        start += 1
    opened, closed = word.count("(", start), word.count(")", start)
    while end > start and word[end - 1] in _TRAILING:
        if word[end - 1] == ")":
            if opened >= closed:
                break
            closed -= 1
        end -= 1
    return word[:start], word[start:end], word[end:]


def _inert_word(word: str) -> str:
    lead, core, trail = _split_word(word)
    if not _LINK_LIKE.search(core):
        return escape(word)
    return f"{escape(lead)}`{escape(core)}`{escape(trail)}"


def inert(text: str) -> str:
    """Customer (or AI) text as mrkdwn Slack shows as written and acts on in no way.

    ``&``, ``<``, ``>`` are escaped (``<!here>`` → ``&lt;!here&gt;``); each word that could be a
    link (``https://…``, ``www.…``, ``mailto:…``, ``evil.example/login``, ``a@b.example``)
    becomes inline code, where Slack neither links nor unfurls it, still there to read and
    copy; backticks become U+02CB so none can end that code early. Plain ``@here``, ``@channel``
    and ``#general`` stay as they are: they are only text in a message's ``text`` (the bridge
    never sets ``link_names``) and in ``verbatim`` Block Kit text.
    """
    text = text.replace("`", BACKTICK_STANDIN)
    parts: list[str] = []
    end = 0
    for match in _WORD.finditer(text):
        parts.append(escape(text[end : match.start()]))
        parts.append(_inert_word(match.group()))
        end = match.end()
    parts.append(escape(text[end:]))
    return "".join(parts)


def inert_line(text: str) -> str:
    """A customer-chosen value (a name, a reason) on one line, inert in Slack."""
    return inert(one_line(text))


def mrkdwn(text: str) -> MarkdownTextObject:
    """Block Kit mrkdwn without Slack's automatic parsing (URLs, ``#channel``, ``@here``).

    ``verbatim`` still renders formatting and explicit tokens such as ``<!date^…>``.
    """
    return MarkdownTextObject(text=text, verbatim=True)


def _cut_word(word: str, limit: int) -> list[str]:
    """A word too long for one line as pieces each at most ``limit`` long once inert."""
    pieces: list[str] = []
    start = size = 0
    for index, char in enumerate(word):
        cost = len(escape(char))
        if size + cost > limit - 2 and index > start:  # 2: the backticks of a link
            pieces.append(word[start:index])
            start, size = index, 0
        size += cost
    pieces.append(word[start:])
    return pieces


def _wrap(line: str, limit: int) -> list[str]:
    """One line of customer text as inert rows of at most ``limit`` characters, cut between
    words (inside a word only when it alone is longer than that)."""
    rows: list[str] = []
    row = gap = ""
    for token in re.split(r"(\s+)", line.replace("`", BACKTICK_STANDIN)):
        if not token:
            continue
        if token.isspace():
            gap += token
            continue
        pieces = [token] if len(_inert_word(token)) <= limit else _cut_word(token, limit)
        for piece in pieces:
            shown = _inert_word(piece)
            if len(row) + len(gap) + len(shown) > limit:
                if row:
                    rows.append(row)
                row = gap = ""
            row += escape(gap) + shown
            gap = ""
    rows.append(row)
    return rows


def quote(text: str, limit: int | None = None) -> list[str]:
    """Customer (or AI) text as mrkdwn block-quote lines, every line starting with ``>``.

    Nothing in the text can start a line of its own, so nothing in it passes for a speaker
    line the bridge wrote. With a ``limit``, no line is longer than that.
    """
    lines = text.splitlines()  # \r, \u2028 and the like break lines too
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    rows: list[str] = []
    for line in lines or [""]:
        shown = [inert(line)] if limit is None else _wrap(line, limit - 2)
        rows.extend(f"> {row}".rstrip() for row in shown)
    return rows


def speaker(author: str) -> str:
    """The bold line the bridge writes above a speaker's messages: ``*Jane Doe (customer):*``.

    The author holds a customer-chosen name: it is kept to one line, loses its ``*`` (one
    could end the bold early and make the rest of the line look like a message), is inert
    like message text and at most ``SPEAKER_CHARS`` long.
    """
    return f"*{fit(one_line(author.replace('*', ' ')), inert, SPEAKER_CHARS)}:*"


def _continued(header: str) -> str:
    return f"{header[:-2]} (continued):*"


@dataclass(frozen=True)
class HandoffSummary:
    session_id: str
    ref: str
    customer_name: str
    reason: str
    requested_at: str


def slack_date(when: str | float) -> str:
    """A ``<!date…>`` token Slack shows in each reader's time zone, for an ISO 8601 time or
    epoch seconds; an ISO time without an offset is UTC. Text that is no time is escaped."""
    if isinstance(when, str):
        try:
            moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            return escape(when)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(when, UTC)
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def fit(text: str, render: Callable[[str], str], limit: int) -> str:
    """``render(text)``, with ``text`` clipped until the result is at most ``limit`` long (the
    clipping is done before rendering so no escape or inline code is ever cut in two)."""
    shown = render(text)
    while len(shown) > limit and len(text) > 1:
        text = clip(text, max(1, len(text) * limit // len(shown) - 1))
        shown = render(text)
    return shown


@dataclass(frozen=True)
class Line:
    """One message of the session as it appears in the thread."""

    author: str
    text: str


def transcript(lines: Sequence[Line]) -> list[str]:
    """The conversation before the handoff, as posts within Slack's limits.

    Each speaker's line in bold, their message quoted below it. A message cut between two
    posts goes on under ``*Speaker (continued):*``, so no post starts with unframed text.
    """
    if not lines:
        return ["_No messages before the handoff._"]
    posts: list[list[str]] = [["*Conversation so far*"]]
    size = len(posts[0][0])
    for line in lines:
        header = speaker(line.author)
        for index, row in enumerate(quote(line.text, QUOTE_CHARS)):
            rows = [header, row] if index == 0 else [row]
            grow = sum(len(r) + 1 for r in rows)
            if size + grow > POST_CHARS:
                if index:
                    rows = [_continued(header), row]
                posts.append([])
                size, grow = -1, sum(len(r) + 1 for r in rows)
            posts[-1].extend(rows)
            size += grow
    return ["\n".join(post) for post in posts]


def combine(lines: Sequence[Line]) -> tuple[str, str | None]:
    """Several waiting messages for one thread as one post: (text, username).

    One speaker: their messages quoted, posted under their name. Several: each speaker's
    line in bold (once for consecutive messages), their messages quoted below it.
    """
    authors = {line.author for line in lines}
    if len(authors) == 1:
        text = "\n".join(row for line in lines for row in quote(line.text, QUOTE_CHARS))
        return text, clip(one_line(lines[0].author), USERNAME_CHARS)
    rows: list[str] = []
    previous: str | None = None
    for line in lines:
        if line.author != previous:
            rows.append(speaker(line.author))
            previous = line.author
        rows.extend(quote(line.text, QUOTE_CHARS))
    return "\n".join(rows), None
