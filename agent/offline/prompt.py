"""A read-only view of what Parlant put in a prompt: the conversation and the sections."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from parlant.core.engines.alpha.prompt_builder import BuiltInSection, PromptBuilder

CUSTOMER = "user"
AI = "ai_agent"


@dataclass(frozen=True)
class ToolCall:
    tool: str
    arguments: Mapping[str, Any]
    result: Any


@dataclass(frozen=True)
class Turn:
    source: str
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = field(default_factory=tuple)

    @property
    def is_message(self) -> bool:
        return not self.tool_calls


def _parse_events(raw_events: Any) -> list[Turn]:
    turns: list[Turn] = []
    if not isinstance(raw_events, list):
        return turns
    for raw in raw_events:
        event = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(event, dict):
            continue
        data = event.get("data") or {}
        source = str(event.get("event_source", ""))
        if event.get("event_kind") == "message":
            turns.append(Turn(source=source, text=str(data.get("message", ""))))
        elif event.get("event_kind") == "tool":
            calls = tuple(
                ToolCall(
                    tool=str(call.get("tool_id", "")).split(":")[-1],
                    arguments=call.get("arguments") or {},
                    result=call.get("result"),
                )
                for call in data.get("tool_calls", [])
            )
            turns.append(Turn(source=source, tool_calls=calls))
    return turns


class PromptView:
    def __init__(self, prompt: str | PromptBuilder) -> None:
        self._builder = prompt if isinstance(prompt, PromptBuilder) else None
        self._text = prompt if isinstance(prompt, str) else None

    @cached_property
    def text(self) -> str:
        if self._text is None:
            assert self._builder is not None
            self._text = self._builder.build()
        return self._text

    def props(self, section: str | BuiltInSection) -> Mapping[str, Any]:
        if self._builder is None or section not in self._builder.sections:
            return {}
        return self._builder.sections[section].props

    def find_prop(self, key: str) -> Any:
        """The first section property called ``key``, whichever section holds it."""
        if self._builder is None:
            return None
        for section in self._builder.sections.values():
            if key in section.props:
                return section.props[key]
        return None

    @cached_property
    def history(self) -> list[Turn]:
        return _parse_events(
            self.props(BuiltInSection.INTERACTION_HISTORY).get("interaction_events")
        )

    @cached_property
    def staged(self) -> list[Turn]:
        return _parse_events(self.props(BuiltInSection.STAGED_EVENTS).get("staged_events_as_dict"))

    @cached_property
    def customer_messages(self) -> list[str]:
        return [t.text for t in self.history if t.source == CUSTOMER and t.is_message]

    @property
    def last_customer_message(self) -> str:
        return self.customer_messages[-1] if self.customer_messages else ""

    @property
    def agent_message_before_last_customer_message(self) -> str | None:
        seen_customer = False
        for turn in reversed(self.history):
            if turn.source == CUSTOMER and turn.is_message:
                seen_customer = True
            elif seen_customer and turn.source == AI and turn.is_message:
                return turn.text
        return None

    def tool_results(self, tool: str) -> list[ToolCall]:
        return [
            call
            for turn in (*self.history, *self.staged)
            for call in turn.tool_calls
            if call.tool == tool
        ]

    @property
    def glossary(self) -> str:
        return str(self.props(BuiltInSection.GLOSSARY).get("terms_string", ""))
