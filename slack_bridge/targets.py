"""Which handed-off session an operator means by ``/as-ai [ref] text``."""

from dataclasses import dataclass

from slack_bridge.formatting import clip, escape, inert_line, one_line
from slack_bridge.ids import SessionId, UserId, looks_like_ref, normalize_ref
from slack_bridge.store import Conversation, HandoffStore

MAX_CANDIDATES = 10


@dataclass(frozen=True)
class Target:
    conversation: Conversation
    text: str


@dataclass(frozen=True)
class Refusal:
    """Why nothing was sent, for the operator's eyes only."""

    text: str


async def _by_reference(store: HandoffStore, token: str) -> Conversation | None:
    if looks_like_ref(token):
        found = await store.conversation_by_ref(normalize_ref(token))
        if found is not None:
            return found
    return await store.conversation(SessionId(token))


def _listing(conversations: list[Conversation]) -> str:
    return "\n".join(
        f"• `{c.ref}` — {inert_line(c.customer_name)}: {inert_line(clip(one_line(c.reason), 80))}"
        for c in conversations[:MAX_CANDIDATES]
    )


async def resolve_as_ai(store: HandoffStore, user: UserId, command_text: str) -> Target | Refusal:
    """Parse ``[ref] text``; without a reference, the thread the operator replied in last."""
    text = command_text.strip()
    token, rest = [*text.split(maxsplit=1), "", ""][:2]
    named = await _by_reference(store, token) if token else None
    if named is not None:
        conversation, text = named, rest.strip()
    elif looks_like_ref(token):
        return Refusal(f"No handoff has the reference `{escape(token)}`. Nothing was sent.")
    else:
        implicit = await _implicit(store, user)
        if isinstance(implicit, Refusal):
            return implicit
        conversation = implicit
    if not conversation.active:
        return Refusal(
            f"`{conversation.ref}` ({inert_line(conversation.customer_name)}) is no longer handed"
            " off — it was returned to the AI. Nothing was sent."
        )
    if not text:
        return Refusal(f"Nothing to send. Usage: `/as-ai {conversation.ref} your message`")
    return Target(conversation, text)


async def _implicit(store: HandoffStore, user: UserId) -> Conversation | Refusal:
    recent = [
        c
        for session_id in await store.sessions_of_operator(user)
        if (c := await store.conversation(session_id)) is not None
    ]
    if recent and recent[0].active:
        return recent[0]
    open_ones = [c for c in recent if c.active] or await store.conversations(handed_off=True)
    if not open_ones:
        return Refusal("There is no handed-off session to answer right now. Nothing was sent.")
    lead = (
        "Your most recent handoff thread is closed, so it is not clear which customer you mean."
        if recent
        else "You have not replied in a handoff thread yet, so it is not clear which customer"
        " you mean."
    )
    return Refusal(
        f"{lead} Nothing was sent. Add a reference: `/as-ai {open_ones[0].ref} your message`\n"
        + _listing(open_ones)
    )
