"""The live queue of open handoffs: the App Home tab, and the private answer to ``/handoffs``.

Pure: the caller reads the open conversations (``queue_order`` says which are listed, so it
only asks Slack for the permalinks of those) and passes ``now``. Waiting cases come first,
longest waiting first, then claimed ones, then those back with the AI. Customer text is inert
(see :mod:`slack_bridge.formatting`), and every mrkdwn object is ``verbatim``.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.views import View

from slack_bridge.case_card import CLAIM_ACTION, STATE_REACTIONS, mention
from slack_bridge.cases import Case, CaseState
from slack_bridge.formatting import POST_CHARS, escape, fit, inert_line, mrkdwn, slack_date
from slack_bridge.store import Conversation

OPEN_THREAD_ACTION = "open_thread"
"""A link button: Slack opens the thread itself, but still sends the app an action to ack."""

LISTED_CASES = 30
"""Cases shown at most: three blocks each keeps the Home tab under Slack's 100 blocks, one
section each keeps the ``/handoffs`` answer under a message's 50."""

NAME_CHARS = 100
REASON_CHARS = 300
LINE_REASON_CHARS = 120

ASTERISK_STANDIN = "\u2217"
"""U+2217 (asterisk operator), shown for a ``*`` of customer text: a real one could start or
end bold type and so make customer text look like a line the bridge wrote."""

_EMPTY = "No open handoffs. :tada:"
_ORDER = {CaseState.WAITING: 0, CaseState.CLAIMED: 1, CaseState.WITH_AI: 2}


@dataclass(frozen=True)
class QueueEntry:
    conversation: Conversation
    permalink: str | None
    """The thread's link (``chat.getPermalink``); ``None`` when unknown."""


def queue_order(conversations: Iterable[Conversation]) -> list[Conversation]:
    """The open cases as the queue lists them (resolved ones are left out)."""
    return sorted(
        (c for c in conversations if c.case.state in _ORDER),
        key=lambda c: (_ORDER[c.case.state], c.case.since, c.opened_at, c.ref),
    )


def home_view(entries: Sequence[QueueEntry], now: float, *, truncated: int = 0) -> View:
    """The App Home tab: counts per state, then up to ``LISTED_CASES`` cases with buttons.

    Counts are of ``entries``; ``truncated`` is how many open cases exist besides them.
    """
    queue = _queue(entries)
    listed, more = queue[:LISTED_CASES], _more_count(queue, truncated)
    blocks: list[Block] = [
        HeaderBlock(text="Open handoffs"),
        SectionBlock(text=mrkdwn(_counts(queue) if listed or more else _EMPTY)),
        ContextBlock(elements=[mrkdwn(f"Updated {slack_date(now)}")]),
    ]
    for entry in listed:
        blocks += [DividerBlock(), SectionBlock(text=mrkdwn(_card(entry.conversation, now)))]
        buttons = _buttons(entry)
        if buttons:
            blocks.append(ActionsBlock(elements=buttons))
    if more:
        blocks += [DividerBlock(), ContextBlock(elements=[mrkdwn(_more(more))])]
    return View(type="home", blocks=blocks)


def queue_text(
    entries: Sequence[QueueEntry], now: float, *, truncated: int = 0
) -> tuple[str, list[Block]]:
    """The same queue for an ephemeral message, one line per case: fallback text and blocks.

    A waiting case's line carries a Claim button; the thread is a link in the line.
    """
    queue = _queue(entries)
    listed, more = queue[:LISTED_CASES], _more_count(queue, truncated)
    if not listed and not more:
        return _EMPTY, [SectionBlock(text=mrkdwn(_EMPTY))]
    counts = _counts(queue)
    lines = [_line(entry, now) for entry in listed]
    blocks: list[Block] = [SectionBlock(text=mrkdwn(f"*Open handoffs*: {counts}"))]
    for entry, line in zip(listed, lines, strict=True):
        claim = _claim(entry.conversation)
        blocks.append(SectionBlock(text=mrkdwn(line), accessory=claim))
    if more:
        blocks.append(ContextBlock(elements=[mrkdwn(_more(more))]))
    return _fallback(f"Open handoffs: {counts}", lines, more), blocks


def _queue(entries: Sequence[QueueEntry]) -> list[QueueEntry]:
    """The open cases' entries (one per session) in queue order."""
    by_session = {entry.conversation.session_id: entry for entry in entries}
    ordered = queue_order(entry.conversation for entry in by_session.values())
    return [by_session[conversation.session_id] for conversation in ordered]


def _more_count(queue: list[QueueEntry], truncated: int) -> int:
    return max(0, len(queue) - LISTED_CASES) + max(0, truncated)


def _counts(queue: list[QueueEntry]) -> str:
    states = [entry.conversation.case.state for entry in queue]
    waiting, claimed, with_ai = (
        states.count(state) for state in (CaseState.WAITING, CaseState.CLAIMED, CaseState.WITH_AI)
    )
    return f"*{waiting}* waiting · *{claimed}* claimed · *{with_ai}* with the AI"


def _more(count: int) -> str:
    noun = "handoff" if count == 1 else "handoffs"
    return f"…and {count} more open {noun}: see the handoff channel."


def _shown(text: str) -> str:
    return inert_line(text.replace("*", ASTERISK_STANDIN))


def _name(conversation: Conversation) -> str:
    name = fit(conversation.customer_name, _shown, NAME_CHARS)
    return f"*{name}*" if name else "_no name_"


def _channel(conversation: Conversation) -> str:
    return f"<#{escape(conversation.channel)}>" if conversation.channel else "_no thread yet_"


def _waited(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _ago(case: Case, now: float) -> str:
    # Slack renders {ago} when the reader looks, so a Home tab published an hour ago still
    # tells the truth; the fallback is the time as of ``now``.
    return f"<!date^{int(case.since)}^{{ago}}|{_waited(now - case.since)} ago>"


def _state(case: Case, now: float) -> tuple[str, str]:
    """The state's emoji and words: ``:raising_hand:``, ``*Claimed* by <@U1> · <!date…>``."""
    emoji = f":{STATE_REACTIONS[case.state]}:"
    ago = _ago(case, now)
    match case.state:
        case CaseState.WAITING:
            return emoji, f"*Waiting* · queued {ago}"
        case CaseState.CLAIMED:
            owner = f" by {mention(case.owner)}" if case.owner else ""
            return emoji, f"*Claimed*{owner} · {ago}"
        case _:
            return emoji, f"*Back with the AI* · {ago}"


def _card(conversation: Conversation, now: float) -> str:
    rows = [
        f"{_name(conversation)} · `{escape(conversation.ref)}` · {_channel(conversation)}",
        " ".join(_state(conversation.case, now)),
    ]
    reason = fit(conversation.reason, _shown, REASON_CHARS)
    if reason:
        rows.append(f"> {reason}")
    return "\n".join(rows)


def _link(permalink: str | None) -> str:
    if permalink is None:
        return ""
    # The link's own ``|`` would end the URL and start the label.
    return f" · <{escape(permalink).replace('|', '%7C')}|open thread>"


def _line(entry: QueueEntry, now: float) -> str:
    conversation = entry.conversation
    emoji, state = _state(conversation.case, now)
    line = (
        f"{emoji} `{escape(conversation.ref)}` {_name(conversation)} · {state}"
        f" · {_channel(conversation)}{_link(entry.permalink)}"
    )
    reason = fit(conversation.reason, _shown, LINE_REASON_CHARS)
    return f"{line} — {reason}" if reason else line


def _claim(conversation: Conversation) -> ButtonElement | None:
    if conversation.case.state is not CaseState.WAITING:
        return None
    return ButtonElement(
        text="Claim", action_id=CLAIM_ACTION, value=conversation.session_id, style="primary"
    )


def _buttons(entry: QueueEntry) -> list[ButtonElement]:
    buttons: list[ButtonElement] = []
    if entry.permalink is not None:
        buttons.append(
            ButtonElement(text="Open thread", action_id=OPEN_THREAD_ACTION, url=entry.permalink)
        )
    claim = _claim(entry.conversation)
    if claim is not None:
        buttons.append(claim)
    return buttons


def _fallback(summary: str, lines: list[str], more: int) -> str:
    """The notification text: the summary, then as many whole lines as fit a post."""
    text = summary
    for index, line in enumerate(lines):
        if len(text) + len(line) + 1 > POST_CHARS - 100:
            return f"{text}\n{_more(len(lines) - index + more)}"
        text += "\n" + line
    return f"{text}\n{_more(more)}" if more else text
