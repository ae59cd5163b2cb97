"""The offline model's sentences, chosen by what the engine asked the agent to do."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.offline.intents import Intent, classify

if TYPE_CHECKING:
    from agent.offline.prompt import PromptView


@dataclass(frozen=True)
class Reply:
    trigger: str  # a phrase of the guideline action or journey step this reply carries out
    marker: str  # how the reply starts, so a later turn can tell it was given
    render: Callable[["PromptView"], str]


def _claim_confirmation(view: "PromptView") -> str:
    filed = view.tool_results("file_claim")
    detail = str(filed[-1].result) if filed else "Your claim was filed."
    return (
        f"Your claim has been submitted. {detail.rstrip('.')}. "
        "Is there anything you would like to add before we close it off?"
    )


def _policy_explanation(view: "PromptView") -> str:
    found = view.tool_results("get_policy_details")
    policy: Any = found[-1].result if found else {}
    if isinstance(policy, dict) and policy.get("coverage"):
        return (
            f"Your policy {policy.get('policy_number', '')} covers the following: "
            f"{str(policy['coverage']).rstrip('.')}. Let me know if you have questions about it."
        ).replace("  ", " ")
    return "Your policy covers accidental damage and theft; I can go through the details."


def _open_claims(view: "PromptView") -> str:
    found = view.tool_results("get_open_claims")
    claims = found[-1].result if found else []
    if isinstance(claims, list) and claims:
        return "Here are your open claims: " + "; ".join(str(c) for c in claims) + "."
    return "You have no open claims at the moment."


def _fixed(text: str) -> Callable[["PromptView"], str]:
    return lambda view: text


STEP_AND_GUIDELINE_REPLIES: Sequence[Reply] = (
    Reply(
        "initiate human handoff",
        "I've asked a member of our support team",
        _fixed(
            "I've asked a member of our support team to take over this conversation. "
            "A person will reply here shortly."
        ),
    ),
    Reply(
        "ask for accident details",
        "I'm sorry to hear that. To file your claim",
        _fixed(
            "I'm sorry to hear that. To file your claim, please tell me what happened: "
            "the date, the place and a short description of the damage."
        ),
    ),
    Reply("confirm claim was submitted", "Your claim has been submitted.", _claim_confirmation),
    Reply("explain the policy coverage", "Your policy", _policy_explanation),
    Reply(
        "legal advice cannot be provided",
        "I'm not able to give legal advice",
        _fixed(
            "I'm not able to give legal advice or interpret the policy legally. "
            "I can explain what your coverage includes, or connect you with a person."
        ),
    ),
    Reply(
        "redirect them to insurance-related support",
        "I can only help with insurance",
        _fixed(
            "I can only help with insurance questions, such as filing a claim, "
            "checking your claims or explaining your policy coverage."
        ),
    ),
    Reply("open claims", "Here are your open claims", _open_claims),
)


def for_step(action: str) -> Reply | None:
    lowered = action.lower()
    return next((r for r in STEP_AND_GUIDELINE_REPLIES if r.trigger in lowered), None)


def _glossary_answer(view: "PromptView") -> str:
    glossary = view.glossary
    number = re.search(r"\+1-555-INSURE", glossary)
    hours = re.search(r"Mon-Fri, 9AM-6PM", glossary)
    parts = []
    if number:
        parts.append(f"You can reach us at {number.group(0)}")
    if hours:
        parts.append(f"we are available {hours.group(0)}")
    return ("; ".join(parts) + ".") if parts else GENERAL_ANSWER


GENERAL_ANSWER = (
    "I can help you file a claim, check the status of your claims, or explain your "
    "policy coverage. What would you like to do?"
)


def compose(actions: Sequence[str], view: "PromptView") -> str:
    """The reply for this turn: one sentence group per matched action, else by intent."""
    if view.tool_results("initiate_human_handoff") and any("handoff" in a.lower() for a in actions):
        actions = [a for a in actions if "handoff" in a.lower()]
    texts: list[str] = []
    for action in actions:
        reply = for_step(action)
        if reply is not None:
            text = reply.render(view)
            if text not in texts:
                texts.append(text)
    if texts:
        return " ".join(texts)
    intent = classify(view.last_customer_message)
    if intent is Intent.CONTACT:
        return _glossary_answer(view)
    if intent is Intent.GREETING:
        return "Hello! " + GENERAL_ANSWER
    if intent is Intent.THANKS:
        return "You're welcome! Is there anything else I can help you with?"
    return GENERAL_ANSWER
