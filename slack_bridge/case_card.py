"""The thread's root message: a card showing the handoff, its case state and what to do next.

Every button's ``value`` is the Parlant session id. Customer text on the card is inert (see
:mod:`slack_bridge.formatting`) and every mrkdwn object is ``verbatim``.
"""

from collections.abc import Mapping
from types import MappingProxyType

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from slack_bridge.cases import Case, CaseState
from slack_bridge.formatting import (
    FIELD_CHARS,
    HEADER_CHARS,
    SECTION_CHARS,
    HandoffSummary,
    escape,
    fit,
    inert,
    mrkdwn,
    one_line,
    quote,
    slack_date,
)

CLAIM_ACTION = "claim"
TAKE_OVER_ACTION = "take_over"
RELEASE_ACTION = "release"
REPLY_AS_AI_ACTION = "reply_as_ai"
HAND_BACK_ACTION = "hand_back"
RESOLVE_ACTION = "resolve"

STATE_REACTIONS: Mapping[CaseState, str] = MappingProxyType(
    {
        CaseState.WAITING: "hourglass_flowing_sand",
        CaseState.CLAIMED: "raising_hand",
        CaseState.WITH_AI: "robot_face",
        CaseState.RESOLVED: "white_check_mark",
    }
)
"""The reaction the root message carries in each state, so the channel shows it at a glance."""

_FALLBACK_CHARS = 300


def mention(user: str) -> str:
    """``<@U…>`` for a user id. Ids come from Slack, but escaping keeps anything else inert."""
    return f"<@{escape(user)}>"


def root_message(
    summary: HandoffSummary, case: Case, *, now: float | None = None
) -> tuple[str, list[Block]]:
    """The thread's opening message for ``case``: fallback text and blocks.

    A status line tells the state, who changed it and when (and, given ``now``, how long a
    waiting case has waited); the buttons are those that make sense in that state. The
    customer's name is one line and the reason a block quote, both inert.
    """
    name = one_line(summary.customer_name)
    reason = summary.reason
    ref = escape(summary.ref)
    fallback = (
        f"Handoff {ref}: {fit(name, inert, _FALLBACK_CHARS)}"
        f" — {fit(one_line(reason), inert, _FALLBACK_CHARS)} · {_state_words(case)}"
    )
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(
                text=fit(name, lambda text: f"Handoff {ref}: {escape(text)}", HEADER_CHARS),
                emoji=True,
            )
        ),
        SectionBlock(text=mrkdwn(_status(case) + _waited(case, now))),
        SectionBlock(
            fields=[
                mrkdwn(fit(name, lambda text: f"*Customer*\n{inert(text)}", FIELD_CHARS)),
                mrkdwn(f"*Reference*\n`{ref}`"),
                mrkdwn(f"*Handed off*\n{slack_date(summary.requested_at)}"),
                mrkdwn(f"*Parlant session*\n`{escape(summary.session_id)}`"),
            ]
        ),
        SectionBlock(
            text=mrkdwn(
                fit(reason, lambda text: "*Reason*\n" + "\n".join(quote(text)), SECTION_CHARS)
            )
        ),
    ]
    buttons = _buttons(case.state, summary.session_id)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    if case.state.open:
        blocks.append(ContextBlock(elements=[mrkdwn(_help(ref))]))
    return fallback, blocks


def _state_words(case: Case) -> str:
    """The state in a few words, for the fallback text: ``Claimed by <@U1>``."""
    match case.state:
        case CaseState.WAITING:
            return "Waiting"
        case CaseState.CLAIMED:
            return f"Claimed by {mention(case.owner)}" if case.owner else "Claimed"
        case CaseState.WITH_AI:
            return "Back with the AI"
        case CaseState.RESOLVED:
            return f"Resolved by {mention(case.by)}" if case.by else "Resolved"


def _status(case: Case) -> str:
    emoji = f":{STATE_REACTIONS[case.state]}:"
    when = slack_date(case.since)
    match case.state:
        case CaseState.WAITING:
            return f"{emoji} *Waiting* since {when}"
        case CaseState.CLAIMED:
            owner = f" by {mention(case.owner)}" if case.owner else ""
            return f"{emoji} *Claimed*{owner} · since {when}"
        case CaseState.WITH_AI:
            by = f"by {mention(case.by)}" if case.by else "outside Slack"
            return f"{emoji} *Back with the AI* · handed back {by} {when}"
        case CaseState.RESOLVED:
            by = f" by {mention(case.by)}" if case.by else ""
            return f"{emoji} *Resolved*{by} {when}"


def waited(case: Case, now: float) -> str:
    """How long the case has been in its state: ``45 s``, ``7 min``, ``2 h 5 min``."""
    seconds = max(0, int(now - case.since))
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _waited(case: Case, now: float | None) -> str:
    if now is None or case.state is not CaseState.WAITING:
        return ""
    return f" · waited *{waited(case, now)}*"


def _help(ref: str) -> str:
    return (
        "Reply in this thread to answer the customer (your first reply claims the case)"
        " · start with `!ai ` to answer as the AI"
        " · start with `note:` for a note the customer never sees"
        f" · `/as-ai {ref} &lt;text&gt;` in the channel"
    )


def _buttons(state: CaseState, session_id: str) -> list[ButtonElement]:
    claim = ButtonElement(text="Claim", action_id=CLAIM_ACTION, value=session_id, style="primary")
    take_over = ButtonElement(text="Take over", action_id=TAKE_OVER_ACTION, value=session_id)
    release = ButtonElement(text="Release", action_id=RELEASE_ACTION, value=session_id)
    as_ai = ButtonElement(text="Reply as AI", action_id=REPLY_AS_AI_ACTION, value=session_id)
    # No confirm: the button opens a modal, which is where the operator can still cancel.
    hand_back = ButtonElement(text="Hand back to AI", action_id=HAND_BACK_ACTION, value=session_id)
    resolve = ButtonElement(
        text="Resolve",
        action_id=RESOLVE_ACTION,
        value=session_id,
        confirm=ConfirmObject(
            title="Resolve this case?",
            text=mrkdwn(
                "This thread stops following the conversation, and the customer is back with"
                " the AI."
            ),
            confirm="Resolve",
            deny="Cancel",
        ),
    )
    match state:
        case CaseState.WAITING:
            return [claim, as_ai, hand_back, resolve]
        case CaseState.CLAIMED:
            return [take_over, release, as_ai, hand_back, resolve]
        case CaseState.WITH_AI:
            return [resolve]
        case CaseState.RESOLVED:
            return []
