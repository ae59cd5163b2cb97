"""Checks each Web API call against Slack's OpenAPI spec (``spec/slack_web_openapi_v2.json``).

A call violates the spec when its method is not in the spec, when a required parameter is
missing, when it sends a parameter the spec does not list, or when a boolean/integer parameter
holds something else. ``token`` is ignored: slack-sdk sends it as a Bearer header.

The spec dates from 2021. Real parameters added since are allowlisted below, each with a reason;
add to these lists only for parameters that exist in today's Slack documentation.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).parent / "spec"
WEB_API_SPEC = SPEC_DIR / "slack_web_openapi_v2.json"

# Parameters real Slack accepts today that the 2021 spec does not list.
NEWER_PARAMETERS: dict[str, frozenset[str]] = {
    # Message metadata (2022); markdown_text (2025) is an alternative to text/blocks.
    "chat.postMessage": frozenset({"metadata", "markdown_text"}),
    "chat.postEphemeral": frozenset({"markdown_text"}),
    # Metadata can be set or replaced on update; reply_broadcast and file_ids were added later.
    "chat.update": frozenset({"metadata", "reply_broadcast", "file_ids", "markdown_text"}),
    # Returns message metadata with the messages (2022).
    "conversations.history": frozenset({"include_all_metadata"}),
    "conversations.replies": frozenset({"include_all_metadata"}),
    # interactivity_pointer is the newer alternative to trigger_id.
    "views.open": frozenset({"interactivity_pointer"}),
    "views.push": frozenset({"interactivity_pointer"}),
}

# Accepted by every method today: org-wide apps name the workspace, and slack-sdk sends it
# (from the client's default params) on every call of the clients Bolt hands to listeners.
PARAMETERS_OF_EVERY_METHOD = frozenset({"team_id"})

# Methods newer than the spec, with their parameters (required, optional).
METHODS_MISSING_FROM_SPEC: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # Socket Mode (2021) postdates the spec; the app-level token is the only argument.
    "apps.connections.open": (frozenset(), frozenset()),
}

# Required parameters that today have an alternative: one of each group must be present.
REQUIRED_ALTERNATIVES: dict[str, tuple[frozenset[str], ...]] = {
    "views.open": (frozenset({"trigger_id", "interactivity_pointer"}),),
    "views.push": (frozenset({"trigger_id", "interactivity_pointer"}),),
}

IGNORED_PARAMETERS = frozenset({"token"})

_TRUE_FALSE = {"true", "false", "1", "0", "True", "False"}


class ViolationKind(StrEnum):
    UNKNOWN_METHOD = "unknown_method"
    MISSING_PARAMETER = "missing_parameter"
    UNKNOWN_PARAMETER = "unknown_parameter"
    BAD_PARAMETER_TYPE = "bad_parameter_type"


@dataclass(frozen=True)
class SpecViolation:
    method: str
    kind: ViolationKind
    detail: str

    def __str__(self) -> str:
        return f"{self.method}: {self.kind.value}: {self.detail}"


@dataclass(frozen=True)
class MethodParameters:
    required: frozenset[str]
    optional: frozenset[str]
    types: Mapping[str, str]

    @property
    def known(self) -> frozenset[str]:
        return self.required | self.optional


@functools.cache
def web_api_spec() -> dict[str, Any]:
    with WEB_API_SPEC.open(encoding="utf-8") as spec_file:
        spec: dict[str, Any] = json.load(spec_file)
    return spec


@functools.cache
def method_parameters(method: str) -> MethodParameters | None:
    """Parameters of ``method`` from the spec (plus the allowlists); None if unknown."""
    if method in METHODS_MISSING_FROM_SPEC:
        needed, allowed = METHODS_MISSING_FROM_SPEC[method]
        return MethodParameters(needed, allowed | PARAMETERS_OF_EVERY_METHOD, types={})
    operations = web_api_spec()["paths"].get(f"/{method}")
    if operations is None:
        return None
    required: set[str] = set()
    optional = set(NEWER_PARAMETERS.get(method, frozenset()) | PARAMETERS_OF_EVERY_METHOD)
    types: dict[str, str] = {}
    for operation in operations.values():
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if name in IGNORED_PARAMETERS:
                continue
            (required if parameter.get("required") else optional).add(name)
            if "type" in parameter:
                types[name] = parameter["type"]
    for group in REQUIRED_ALTERNATIVES.get(method, ()):
        required -= group
        optional |= group
    return MethodParameters(frozenset(required), frozenset(optional - required), types)


def is_spec_method(method: str) -> bool:
    return method_parameters(method) is not None


def check_request(method: str, params: Mapping[str, object]) -> list[SpecViolation]:
    """Spec violations of one call (empty when the call is fine)."""
    spec = method_parameters(method)
    if spec is None:
        return [SpecViolation(method, ViolationKind.UNKNOWN_METHOD, "not a Web API method")]
    names = set(params) - IGNORED_PARAMETERS
    violations = [
        SpecViolation(method, ViolationKind.MISSING_PARAMETER, f"required `{name}` is missing")
        for name in sorted(spec.required - names)
    ]
    for group in REQUIRED_ALTERNATIVES.get(method, ()):
        if not group & names:
            wanted = " or ".join(f"`{name}`" for name in sorted(group))
            violations.append(
                SpecViolation(method, ViolationKind.MISSING_PARAMETER, f"{wanted} is required")
            )
    violations += [
        SpecViolation(method, ViolationKind.UNKNOWN_PARAMETER, f"`{name}` is not in the spec")
        for name in sorted(names - spec.known)
    ]
    for name in sorted(names & spec.known):
        expected = spec.types.get(name)
        if expected and not _has_type(params[name], expected):
            violations.append(
                SpecViolation(
                    method,
                    ViolationKind.BAD_PARAMETER_TYPE,
                    f"`{name}` should be {expected}, got {params[name]!r}",
                )
            )
    return violations


def _has_type(value: object, expected: str) -> bool:
    if expected == "boolean":
        return isinstance(value, bool) or (isinstance(value, str) and value in _TRUE_FALSE)
    if expected in ("integer", "number"):
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return expected == "number" or isinstance(value, int)
        try:
            (int if expected == "integer" else float)(str(value))
        except ValueError:
            return False
        return True
    return True
