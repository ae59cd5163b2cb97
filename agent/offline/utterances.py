"""Replies when someone asks the AI to speak now (Parlant's ``utter``), e.g. on hand-back.

Parlant turns each requested utterance into a guideline match with the id
``<canrep-request-N>`` and generates the message from those alone: no guideline matching,
no tool calls. The reply follows the request, never the last customer message, which
usually asked for the human who has just handed the conversation back.
"""

from collections.abc import Iterable, Sequence

from parlant.core.engines.alpha.guideline_matching.guideline_match import GuidelineMatch

from agent.handoff_protocol import is_resume_action, parse_instruction
from agent.offline.replies import GENERAL_ANSWER

UTTERANCE_REQUEST_ID_PREFIX = "<canrep-request-"
WELCOME_BACK = "You're back with our virtual assistant. Is there anything else I can help you with?"
RELAY_OPENING = (
    "Thanks for waiting — I'm the virtual assistant again. Our team asked me to pass this on:"
)


def requested_actions(matches: Iterable[GuidelineMatch]) -> list[str]:
    """The actions of the utterance requests among ``matches``, as the requester wrote them."""
    # The raw action: the prompt's copy is JSON-escaped (quotes, newlines, non-ASCII).
    return [
        m.guideline.content.action
        for m in matches
        if m.guideline.id.startswith(UTTERANCE_REQUEST_ID_PREFIX) and m.guideline.content.action
    ]


def _as_sentence(text: str) -> str:
    sentence = text[:1].upper() + text[1:]
    return sentence if sentence.endswith((".", "!", "?", "…")) else sentence + "."


def _reply_to(action: str) -> str:
    instruction = parse_instruction(action)
    if instruction is not None:
        return f"{RELAY_OPENING} {_as_sentence(instruction)}"
    if is_resume_action(action):
        return WELCOME_BACK
    # Any other request: the offline model cannot follow free text, so it offers help.
    return GENERAL_ANSWER


def reply(actions: Sequence[str]) -> str:
    """The message for these utterance requests, one sentence group per distinct request."""
    return " ".join(dict.fromkeys(_reply_to(action) for action in actions))
