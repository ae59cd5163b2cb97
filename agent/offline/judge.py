"""Decides whether a guideline condition or a journey step holds in a conversation."""

import re
from collections.abc import Callable

from agent.offline import replies
from agent.offline.intents import Intent, classify, gives_incident_details, is_affirmative
from agent.offline.prompt import PromptView

Rule = Callable[[PromptView], bool]


def _latest_is(*intents: Intent) -> Rule:
    return lambda view: classify(view.last_customer_message) in intents


def _details_given(view: PromptView) -> bool:
    return any(gives_incident_details(message) for message in view.customer_messages[-3:])


def _tool_ran(tool: str) -> Rule:
    return lambda view: bool(view.tool_results(tool))


def _customer_confirms(view: PromptView) -> bool:
    return is_affirmative(view.last_customer_message)


# Checked in order; the first pattern found in the (lower-cased) condition decides.
CONDITION_RULES: list[tuple[str, Rule]] = [
    ("human assistance", _latest_is(Intent.HANDOFF)),
    ("unrelated topics", _latest_is(Intent.OFF_TOPIC)),
    ("legal interpretation", _latest_is(Intent.LEGAL)),
    ("status of their existing claims", _latest_is(Intent.CLAIM_STATUS)),
    ("wants to file a claim", _latest_is(Intent.CLAIM)),
    ("asks about their policy", _latest_is(Intent.POLICY)),
    ("mentions an issue", _latest_is(Intent.AMBIGUOUS_ISSUE)),
    ("provides details", _details_given),
    ("claim successfully created", _tool_ran("file_claim")),
    ("customer confirms", _customer_confirms),
    ("policy info is available", _tool_ran("get_policy_details")),
]

_AND = re.compile(r"\s+AND\s+")


def condition_holds(condition: str, view: PromptView) -> bool:
    """Whether every ``AND``-joined part of ``condition`` holds; unknown parts do not."""
    parts = [part.strip() for part in _AND.split(condition) if part.strip()]
    return all(_part_holds(part, view) for part in parts)


def _part_holds(part: str, view: PromptView) -> bool:
    lowered = part.lower()
    if lowered.startswith("always"):
        return True
    for pattern, rule in CONDITION_RULES:
        if pattern in lowered:
            return rule(view)
    return False


def step_completed(action: str, view: PromptView) -> bool:
    """Whether the journey step with this action has been carried out."""
    lowered = action.lower()
    if lowered.startswith("use the tool "):
        return bool(view.tool_results(lowered.removeprefix("use the tool ").strip()))
    if lowered.startswith("ask for accident details"):
        return _details_given(view)
    reply = replies.for_step(action)
    previous = view.agent_message_before_last_customer_message
    return reply is not None and previous is not None and previous.startswith(reply.marker)
