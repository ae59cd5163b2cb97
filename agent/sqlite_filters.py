"""Parlant's ``Where`` filters on documents in memory: pure functions, no I/O.

Filters follow Parlant's ``matches_filters`` (``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``,
``$lte``, ``$in``, ``$nin``, ``$and``, ``$or``) with MongoDB's answer where that helper
would raise: a missing field matches only ``$ne``/``$nin``, values of different types
never compare, and a logical operator may sit next to field conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Document = dict[str, Any]


def _compare(op: str, value: Any, operand: Any) -> bool:
    try:
        if op == "$gt":
            return bool(value > operand)
        if op == "$gte":
            return bool(value >= operand)
        if op == "$lt":
            return bool(value < operand)
        return bool(value <= operand)
    except TypeError:
        return False


def _field_matches(document: Mapping[str, Any], field: str, condition: Any) -> bool:
    present = field in document
    value = document.get(field)
    if not isinstance(condition, Mapping):
        return present and bool(value == condition)
    for op, operand in condition.items():
        if op == "$eq":
            ok = present and bool(value == operand)
        elif op == "$ne":
            ok = not present or bool(value != operand)
        elif op == "$in":
            ok = present and any(value == candidate for candidate in operand)
        elif op == "$nin":
            ok = not present or all(value != candidate for candidate in operand)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            ok = present and value is not None and _compare(op, value, operand)
        else:
            raise ValueError(f"unsupported filter operator {op!r} on field {field!r}")
        if not ok:
            return False
    return True


def matches(where: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    """Whether ``document`` satisfies Parlant's ``Where`` filter."""
    for key, condition in where.items():
        if key == "$and":
            if not all(matches(sub, document) for sub in condition):
                return False
        elif key == "$or":
            if not any(matches(sub, document) for sub in condition):
                return False
        elif not _field_matches(document, key, condition):
            return False
    return True


def equalities(where: Mapping[str, Any]) -> Document:
    """The fields a filter pins to one value: what an upsert adds to the inserted document."""
    pinned: Document = {}
    for key, condition in where.items():
        if key == "$and":
            for sub in condition:
                pinned.update(equalities(sub))
        elif key == "$or":
            continue
        elif isinstance(condition, Mapping):
            if "$eq" in condition:
                pinned[key] = condition["$eq"]
        else:
            pinned[key] = condition
    return pinned


def field_sort_key(field: str) -> Callable[[Mapping[str, Any]], tuple[bool, Any]]:
    """Sorts by one field, a missing or null value first (as MongoDB does)."""

    def key(document: Mapping[str, Any]) -> tuple[bool, Any]:
        value = document.get(field)
        return (value is not None, value)

    return key
