"""Validates the emulator's success responses against the spec's 200-response schemas.

The 2021 schemas are closed (``additionalProperties: false``) and miss fields real Slack
returns today, and a few are simply wrong. Each known gap is excused below with a reason; an
error not covered here is an emulator bug (or a new gap to document). The emulator's tests
check that every gap is still needed. Note that the spec's conversations.replies schema nests
``items`` twice and so validates no message at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jsonschema

from tests.slack_emulator.spec_requests import web_api_spec


@dataclass(frozen=True)
class SchemaGap:
    """An error the spec reports but real Slack's response does not deserve.

    ``path`` is a regex matched (fully) against the error's JSON path, ``keyword`` the failing
    JSON-schema keyword; for ``additionalProperties``/``required`` only ``names`` are excused.
    """

    method: str
    path: str
    keyword: str
    names: frozenset[str]
    reason: str

    def excuses(self, method: str, error: jsonschema.ValidationError) -> bool:
        if self.method not in ("*", method) or error.validator != self.keyword:
            return False
        if not re.fullmatch(self.path, error.json_path):
            return False
        if self.keyword == "additionalProperties":
            return _unexpected_properties(error) <= self.names
        if self.keyword == "required":
            required = error.validator_value if isinstance(error.validator_value, list) else []
            instance = error.instance if isinstance(error.instance, dict) else {}
            missing = {n for n in required if n not in instance}
            return missing <= self.names
        return True


# Message fields newer than the spec's closed message schema: app_id (set on every app's
# post since 2019 in practice, not in the 2021 schema) and metadata (2022).
_MESSAGE_FIELDS_SINCE_2021 = frozenset({"app_id", "metadata"})
_MESSAGE = r"\$\.message"
_MESSAGES = r"\$\.messages\[\d+\]"

SCHEMA_GAPS: tuple[SchemaGap, ...] = (
    SchemaGap(
        "*",
        rf"{_MESSAGE}|{_MESSAGES}",
        "additionalProperties",
        _MESSAGE_FIELDS_SINCE_2021,
        "message objects carry app_id and metadata, which the closed 2021 message schema "
        "does not list",
    ),
    SchemaGap(
        "*",
        r"\$",
        "additionalProperties",
        frozenset({"response_metadata", "warning"}),
        "responses carry response_metadata (cursors, warnings) and `warning` (e.g. "
        "message_truncated) beyond what the per-method schemas list",
    ),
    SchemaGap(
        "*",
        rf"({_MESSAGE}|{_MESSAGES})\.files\[\d+\]",
        "additionalProperties",
        frozenset({"file_access"}),
        "file objects in messages carry file_access (2022) which the file schema lacks",
    ),
    SchemaGap(
        "chat.update",
        r"\$\.message\.blocks",
        "type",
        frozenset(),
        "the spec types chat.update's message.blocks as an object; Slack returns an array",
    ),
)


def _unexpected_properties(error: jsonschema.ValidationError) -> set[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = set(schema.get("properties", {}))
    patterns = list(schema.get("patternProperties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    return {
        name
        for name in instance
        if name not in allowed and not any(re.search(p, name) for p in patterns)
    }


def success_schema(method: str) -> dict[str, Any] | None:
    """The 200-response schema of ``method`` with the spec's definitions attached."""
    operations = web_api_spec()["paths"].get(f"/{method}", {})
    for operation in operations.values():
        schema = operation.get("responses", {}).get("200", {}).get("schema")
        if schema is not None:
            return {**schema, "definitions": web_api_spec()["definitions"]}
    return None


def schema_errors(method: str, body: dict[str, Any]) -> list[jsonschema.ValidationError]:
    """Every error the spec's 200 schema reports for ``body`` (excused or not)."""
    schema = success_schema(method)
    if schema is None:
        return []
    validator = jsonschema.Draft4Validator(schema)
    errors: Iterable[jsonschema.ValidationError] = validator.iter_errors(body)
    return list(errors)


def response_errors(method: str, body: dict[str, Any]) -> list[str]:
    """Spec errors of a success body that no ``SCHEMA_GAPS`` entry excuses."""
    return [
        f"{error.json_path}: {error.message}"
        for error in schema_errors(method, body)
        if not any(gap.excuses(method, error) for gap in SCHEMA_GAPS)
    ]


def gaps_used(method: str, body: dict[str, Any]) -> set[SchemaGap]:
    """The ``SCHEMA_GAPS`` entries that excuse some error of ``body``."""
    return {
        gap
        for error in schema_errors(method, body)
        for gap in SCHEMA_GAPS
        if gap.excuses(method, error)
    }
