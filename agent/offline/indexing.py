"""Answers for the schemas Parlant asks once per guideline or journey at start-up.

These describe the agent's own guidelines back to Parlant: they echo the texts given
in the prompt and mark which journey transitions exist, so the engine can walk the
journeys at run time. Conditions with no text are written as ``always``.
"""

import itertools
import json
import re
from typing import Any

from agent.offline.prompt import PromptView

Values = dict[str, Any]
ALWAYS = "always"
_PLACEHOLDER = "<"
_STRING = r'"((?:[^"\\]|\\.)*)"'
_CHILD = re.compile(r'"child_id":\s*"([^"]+)"')
_FIELD = {
    name: re.compile(rf'"{name}":\s*{_STRING}')
    for name in ("child_action", "condition_to_child", "step_action")
}
_PATH = re.compile(rf'"id":\s*"([^"]+)",\s*"path_condition":\s*{_STRING}')


def _text(view: PromptView, key: str) -> str:
    value = view.find_prop(key)
    return value if isinstance(value, str) else ""


def _field(pattern: str, chunk: str) -> str:
    found = _FIELD[pattern].search(chunk)
    return found.group(1) if found else ""


def _both(*conditions: str) -> str:
    parts = [c for c in conditions if c and c != ALWAYS]
    return " AND ".join(parts) if parts else ALWAYS


def reachable_nodes(view: PromptView) -> Values:
    text = _text(view, "output_format")
    step_action = _field("step_action", text)
    starts = [m.start() for m in _CHILD.finditer(text)] + [len(text)]
    children = []
    for begin, end in itertools.pairwise(starts):
        chunk = text[begin:end]
        condition = _field("condition_to_child", chunk)
        if condition.startswith(_PLACEHOLDER) or not condition:
            condition = ALWAYS
        children.append(
            {
                "child_id": _CHILD.search(chunk).group(1),  # type: ignore[union-attr]
                "child_action": _field("child_action", chunk),
                "condition_to_child": condition,
                "condition_to_child_and_stop": condition,
                "conditions_to_child_and_forward": [
                    {
                        "id": path_id,
                        "path_condition": path_condition,
                        "condition_to_child_then_to_path": _both(condition, path_condition),
                    }
                    for path_id, path_condition in _PATH.findall(chunk)
                ]
                or None,
            }
        )
    return {
        "step_action": step_action,
        "step_action_completed": ALWAYS if step_action else "",
        "children_conditions": children or None,
    }


def relative_actions(view: PromptView) -> Values:
    try:
        requested = json.loads(_text(view, "result_structure_text")).get("actions", [])
    except (json.JSONDecodeError, AttributeError):
        requested = []
    return {
        "actions": [
            {
                "index": str(entry.get("index", "")),
                "conditions": entry.get("conditions") or [],
                "action": str(entry.get("action", "")),
                "needs_rewrite_rationale": "The action is self-contained.",
                "needs_rewrite": False,
            }
            for entry in requested
            if isinstance(entry, dict)
        ]
    }


def _action(view: PromptView) -> str:
    action = view.find_prop("action")
    return action if isinstance(action, str) else ""


def customer_dependent_action(view: PromptView) -> Values:
    action = _action(view)
    asks = action.lower().startswith("ask")
    return {
        "action": action,
        "is_customer_dependent": asks,
        "customer_action": "The customer provided the requested information" if asks else "",
        "agent_action": f"The agent did this: {action}" if asks else "",
    }


def tool_running_action(view: PromptView) -> Values:
    action = _action(view)
    return {
        "action": action,
        "rationale": "Judged from the action's wording.",
        "is_tool_running_only": action.lower().startswith("use the tool"),
    }


def agent_intention(view: PromptView) -> Values:
    condition = _text(view, "condition")
    return {"condition": condition, "is_agent_intention": False, "rewritten_condition": condition}


def continuous_proposition(view: PromptView) -> Values:
    return {"rationale": "A one-off action.", "is_continuous": False}


def action_proposition(view: PromptView) -> Values:
    return {"rationale": "The guideline's tool carries it out.", "action": "Use the relevant tool"}


INDEXING_HANDLERS = {
    "ReachableNodesEvaluationSchema": reachable_nodes,
    "RelativeActionSchema": relative_actions,
    "CustomerDependentActionSchema": customer_dependent_action,
    "ToolRunningActionSchema": tool_running_action,
    "AgentIntentionProposerSchema": agent_intention,
    "GuidelineContinuousPropositionSchema": continuous_proposition,
    "GuidelineActionPropositionSchema": action_proposition,
}
