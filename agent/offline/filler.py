"""Builds a schema-valid instance of any pydantic model from defaults and types."""

import collections.abc
import enum
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

M = TypeVar("M", bound=BaseModel)


def _value_for(annotation: Any) -> Any:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (Union, types.UnionType):
        if type(None) in args:
            return None
        return _value_for(args[0])
    if origin is typing.Literal:
        return args[0]
    if origin in (list, tuple, set, frozenset, collections.abc.Sequence) or annotation in (
        list,
        tuple,
        set,
    ):
        return []
    if origin in (dict, collections.abc.Mapping) or annotation is dict:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return fill(annotation, {})
        if issubclass(annotation, enum.Enum):
            return next(iter(annotation))
        if issubclass(annotation, bool):
            return False
        if issubclass(annotation, (int, float)):
            return 0
        if issubclass(annotation, str):
            return ""
    return None


def fill(model: type[M], values: dict[str, Any]) -> M:
    """An instance of ``model`` with ``values`` set and every other field defaulted."""
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in values:
            data[name] = values[name]
        elif field.default is not PydanticUndefined:
            data[name] = field.default
        elif field.default_factory is not None:
            data[name] = field.default_factory()  # type: ignore[call-arg]
        else:
            data[name] = _value_for(field.annotation)
    return model.model_validate(data)
