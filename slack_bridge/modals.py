"""The modals operators open from a handoff: "Reply as the AI" and "Hand back to the AI".

Each carries the Parlant session id as ``private_metadata``; the ``*_from`` helpers read a
submission's ``view.state.values``.
"""

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from slack_bridge.formatting import clip, escape, fit, inert, mrkdwn, one_line

AS_AI_VIEW = "as_ai_reply"
AS_AI_BLOCK = "message"
AS_AI_INPUT = "text"
MAX_MODAL_TEXT = 3000

HAND_BACK_VIEW = "hand_back"
INSTRUCTION_BLOCK = "instruction"
INSTRUCTION_INPUT = "text"
MAX_INSTRUCTION = 1000

_LABEL_NAME_CHARS = 100
_NAME_CHARS = 200


def as_ai_view(session_id: str, ref: str, customer_name: str) -> View:
    """The modal in which an operator writes a message the customer sees as the AI's."""
    name = clip(one_line(customer_name), _LABEL_NAME_CHARS)
    return View(
        type="modal",
        callback_id=AS_AI_VIEW,
        private_metadata=session_id,
        title=PlainTextObject(text="Reply as the AI"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=AS_AI_BLOCK,
                label=f"Message to {name} ({ref})",
                element=PlainTextInputElement(
                    action_id=AS_AI_INPUT, multiline=True, max_length=MAX_MODAL_TEXT
                ),
            )
        ],
    )


def hand_back_view(session_id: str, ref: str, customer_name: str) -> View:
    """The modal that returns a session to the AI, with an optional instruction for it."""
    who = fit(one_line(customer_name), inert, _NAME_CHARS)
    return View(
        type="modal",
        callback_id=HAND_BACK_VIEW,
        private_metadata=session_id,
        title=PlainTextObject(text="Hand back to the AI"),
        submit=PlainTextObject(text="Hand back"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(
                text=mrkdwn(
                    f"*{who}* (`{escape(ref)}`) goes back to the AI, which answers the"
                    " customer at once, following your instruction if you give one.\n"
                    "This thread keeps following the conversation until someone presses"
                    " *Resolve*."
                )
            ),
            InputBlock(
                block_id=INSTRUCTION_BLOCK,
                label="Instruction for the AI (optional)",
                optional=True,
                hint="Leave it empty and the AI carries on from the conversation.",
                element=PlainTextInputElement(
                    action_id=INSTRUCTION_INPUT,
                    multiline=True,
                    max_length=MAX_INSTRUCTION,
                    placeholder="The claim was approved; confirm it and close politely.",
                ),
            ),
        ],
    )


def _typed(values: Mapping[str, Any], block: str, action: str) -> str:
    """What was typed in one input of a submitted view, stripped ("" when left empty)."""
    return str(((values.get(block) or {}).get(action) or {}).get("value") or "").strip()


def as_ai_text_from(values: Mapping[str, Any]) -> str:
    """The message typed in the "Reply as the AI" modal (``""`` if none)."""
    return _typed(values, AS_AI_BLOCK, AS_AI_INPUT)


def instruction_from(values: Mapping[str, Any]) -> str | None:
    """The instruction typed in the "Hand back" modal, or ``None`` if it was left empty."""
    return _typed(values, INSTRUCTION_BLOCK, INSTRUCTION_INPUT) or None
