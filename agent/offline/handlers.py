"""Per-schema answers of the scripted model.

Each handler gets a view of the prompt and returns the field values it decides; the
generator fills every other field with a valid default. Schemas not listed here are
answered with defaults only (Parlant asks for several it never uses in this agent).
"""

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from parlant.core.engines.alpha.guideline_matching.generic.common import (
    internal_representation,
)

from agent.offline import replies, utterances
from agent.offline.indexing import INDEXING_HANDLERS
from agent.offline.intents import Intent, classify
from agent.offline.judge import condition_holds, step_completed
from agent.offline.prompt import PromptView

Values = dict[str, Any]
Handler = Callable[[PromptView], Values]

_GUIDELINE_ID = re.compile(r'"guideline_id":\s*"([^"]+)"')
_CONDITION = re.compile(r'"condition":\s*"((?:[^"\\]|\\.)*)"')


def _checks_requested(view: PromptView) -> list[Mapping[str, Any]]:
    """The per-guideline entries the prompt asks the model to fill in."""
    structure = view.find_prop("result_structure")
    if isinstance(structure, list):
        return [entry for entry in structure if isinstance(entry, Mapping)]
    text = view.find_prop("result_structure_text")
    if isinstance(text, str):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            ids, conditions = _GUIDELINE_ID.findall(text), _CONDITION.findall(text)
            return [
                {"guideline_id": i, "condition": c} for i, c in zip(ids, conditions, strict=False)
            ]
        if isinstance(parsed, Mapping):
            parsed = parsed.get("checks", [])
        if isinstance(parsed, list):
            return [entry for entry in parsed if isinstance(entry, Mapping)]
    return []


def _rationale(applies: bool) -> str:
    return "The latest customer message matches." if applies else "Not indicated."


def guideline_checks(view: PromptView) -> Values:
    checks = []
    for entry in _checks_requested(view):
        condition = str(entry.get("condition", ""))
        applies = condition_holds(condition, view)
        checks.append(
            {
                "guideline_id": str(entry["guideline_id"]),
                "condition": condition,
                "action": str(entry.get("action") or ""),
                "rationale": _rationale(applies),
                "tldr": _rationale(applies),
                "applies": applies,
                "condition_met_again": applies,
                "condition_still_met": applies,
                "should_reapply": applies,
                "should_apply": applies,
                "guideline_applied": True,
            }
        )
    return {"checks": checks}


def low_criticality_checks(view: PromptView) -> Values:
    return {
        "applies": {
            str(e["guideline_id"]): condition_holds(str(e.get("condition", "")), view)
            for e in _checks_requested(view)
        }
    }


def disambiguation(view: PromptView) -> Values:
    return {
        "tldr": "The customer's request is clear enough.",
        "ambiguity_condition_met": False,
        "disambiguation_requested": False,
        "is_ambiguous": False,
    }


_STEP = re.compile(r"CURRENT STEP -\s*\n(.*?)\n", re.S)
_JOURNEY_TITLE = re.compile(r"^Journey: (.*)$", re.M)
# What a customer may say while a journey is under way without leaving it.
_JOURNEY_TOPICS = {
    "claim": {Intent.CLAIM, Intent.GENERAL, Intent.THANKS, Intent.AMBIGUOUS_ISSUE},
    "policy": {Intent.POLICY, Intent.GENERAL, Intent.THANKS, Intent.LEGAL},
}


def _customer_moved_on(journey_title: str, view: PromptView) -> bool:
    """A clear request on another topic ends the journey, as it would with a real model."""
    intent = classify(view.last_customer_message)
    for topic, staying in _JOURNEY_TOPICS.items():
        if topic in journey_title.lower():
            return intent not in staying
    return False


_TRANSITION = re.compile(r"Condition \((\d+)\): (.*)")


def journey_next_step(view: PromptView) -> Values:
    # The prompt's examples use the same layout: the real journey comes last.
    titles = _JOURNEY_TITLE.findall(view.text)
    text = view.text[view.text.rfind("CURRENT STEP -") :]
    step = _STEP.search(text)
    action = step.group(1).strip() if step else ""
    transitions = _TRANSITION.findall(text)
    completed = step_completed(action, view) if action else True
    if titles and _customer_moved_on(titles[-1], view):
        chosen = "None"
    elif not completed:
        chosen = "0"
    elif not transitions:
        chosen = "None"
    else:
        holding = [(cid, cond) for cid, cond in transitions if condition_holds(cond, view)]
        # The most specific transition (most AND-ed parts) that holds goes furthest.
        holding.sort(key=lambda t: t[1].count(" AND "), reverse=True)
        chosen = holding[0][0] if holding else "0"
    return {
        "journey_continues": True,
        "current_step_completed_rationale": f"Step '{action}' completed: {completed}.",
        "current_step_completed": completed,
        "next_step_rationale": f"Transition {chosen} chosen by the offline rules.",
        "applied_condition_id": chosen,
    }


def journey_backtrack_check(view: PromptView) -> Values:
    return {"requires_backtracking": False, "rationale": "No backtracking in the offline model."}


_PARAMETER = re.compile(r"\"parameter_name\":\s*\"(\w+)\"")


def _argument_for(parameter: str, view: PromptView) -> str:
    """Offline tools take the customer's own words: the reason, or the claim details."""
    message = view.last_customer_message
    if parameter == "claim_details":
        details = [m for m in view.customer_messages if classify(m) is not Intent.HANDOFF]
        return details[-1] if details else message
    return message


# Parlant's tool-call schema asks for this reasoning before each argument's value.
_ARGUMENT_EVALUATION = {
    "acceptable_source_for_this_argument_according_to_its_tool_definition": "customer",
    "evaluate_is_it_provided_by_an_acceptable_source": "yes",
    "evaluate_was_it_already_provided_and_should_it_be_provided_again": "no",
    "evaluate_is_it_potentially_problematic_to_guess_what_the_value_is_if_it_isnt_provided": ("no"),
    "is_optional": False,
}


def tool_batch(view: PromptView) -> Values:
    parameters = list(dict.fromkeys(_PARAMETER.findall(view.text)))
    return {
        "tool_calls_for_candidate_tool": [
            {
                "applicability_rationale": "The guideline that calls this tool applies.",
                "is_applicable": True,
                "argument_evaluations": [
                    {
                        "parameter_name": name,
                        **_ARGUMENT_EVALUATION,
                        "valid_invalid_or_missing": "valid",
                        "value_as_string": _argument_for(name, view),
                    }
                    for name in parameters
                ],
                "same_call_is_already_staged": False,
                "relevant_subtleties": "",
                "should_run": True,
            }
        ]
    }


def non_consequential_tool_batch(view: PromptView) -> Values:
    parameters = view.find_prop("tool_parameters") or {}
    arguments = {name: _argument_for(name, view) for name in parameters}
    return {
        "reasoning_tldr": "The guideline that calls this tool applies.",
        "should_run": True,
        "calls": [{"args": arguments}],
    }


def draft_response(view: PromptView) -> Values:
    matches = view.find_prop("guidelines") or []
    requested = utterances.requested_actions(matches)
    actions = requested or [
        str(internal_representation(m.guideline).action)
        for m in matches
        if internal_representation(m.guideline).action
    ]
    return {
        "last_message_of_user": view.last_customer_message,
        "guidelines": actions,
        "insights": [],
        "response_preamble_that_was_already_sent": "",
        "response_body": utterances.reply(requested)
        if requested
        else replies.compose(actions, view),
    }


def preamble(view: PromptView) -> Values:
    return {"preamble": "Let me look into that."}


HANDLERS: dict[str, Handler] = {
    "GenericObservationalGuidelineMatchesSchema": guideline_checks,
    "GenericActionableGuidelineMatchesSchema": guideline_checks,
    "GenericPreviouslyAppliedActionableGuidelineMatchesSchema": guideline_checks,
    "GenericPreviouslyAppliedActionableCustomerDependentGuidelineMatchesSchema": guideline_checks,
    "GenericResponseAnalysisSchema": guideline_checks,
    "GenericLowCriticalityGuidelineMatchesSchema": low_criticality_checks,
    "DisambiguationGuidelineMatchesSchema": disambiguation,
    "JourneyNextStepSelectionSchema": journey_next_step,
    "JourneyBacktrackCheckSchema": journey_backtrack_check,
    "SingleToolBatchSchema": tool_batch,
    "NonConsequentialToolBatchSchema": non_consequential_tool_batch,
    "CannedResponseDraftSchema": draft_response,
    "CannedResponsePreambleSchema": preamble,
    **INDEXING_HANDLERS,
}
