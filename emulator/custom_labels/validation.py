"""Server-side request validation driven by the botocore service model.

botocore checks required members, types and minimum lengths on the client; the service also checks
maximum lengths, patterns, enums and list sizes. This module does the latter (and the former, for
clients that skip validation) and raises ``InvalidParameterException`` naming the parameter, in the
service's "N validation errors detected: Value ... at 'path' failed to satisfy constraint" style.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from moto.core.model import ServiceModel, Shape
from moto.core.utils import get_service_model

from .errors import InvalidParameterException


def service_model() -> ServiceModel:
    """The botocore model of Rekognition (loaded once, cached by moto)."""
    return get_service_model("rekognition")


# Shapes whose maximum the operation checks itself, with its own error: an over-long project policy
# document is a MalformedPolicyDocumentException, not an InvalidParameterException.
_DOMAIN_CHECKED_MAX = frozenset({"ProjectPolicyDocument"})


@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    # Java-style Unicode classes used by the model, mapped onto Python's (slight supersets).
    translated = pattern.replace(r"\p{L}", r"\w").replace(r"\p{N}", r"\d").replace(r"\p{Z}", r"\s")
    return re.compile(translated)


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 100 else text[:97] + "..."


def validate_input(operation: str, params: dict[str, Any]) -> None:
    """Check ``params`` against the input shape of ``operation``; raise InvalidParameterException."""
    shape = service_model().operation_model(operation).input_shape
    errors: list[str] = []
    if shape is not None:
        _check(shape, params, "", errors)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise InvalidParameterException(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a structure"
            )
            return
        for required in shape.required_members:
            if value.get(required) is None:
                where = f"{path}.{_lower_camel(required)}" if path else _lower_camel(required)
                errors.append(
                    f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                where = f"{path}.{_lower_camel(name)}" if path else _lower_camel(name)
                _check(member, value[name], where, errors)
        return
    if kind == "list":
        if not isinstance(value, list):
            errors.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a list"
            )
            return
        _check_range(shape, len(value), value, path, "have length", errors)
        for index, item in enumerate(value, start=1):
            _check(shape.member, item, f"{path}.{index}.member", errors)
        return
    if kind == "map":
        if not isinstance(value, dict):
            errors.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a map"
            )
            return
        _check_range(shape, len(value), value, path, "have length", errors)
        for key, item in value.items():
            _check(shape.key, key, f"{path}.{key}.key", errors)
            _check(shape.value, item, f"{path}.{key}.value", errors)
        return
    if kind == "string":
        if not isinstance(value, str):
            errors.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a string"
            )
            return
        _check_range(shape, len(value), value, path, "have length", errors)
        pattern = shape.metadata.get("pattern")
        if pattern and not _compile(pattern).fullmatch(value):
            errors.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            errors.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be an integer"
            )
            return
        _check_range(shape, value, value, path, "be", errors)
        return
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a number"
            )
            return
        _check_range(shape, value, value, path, "be", errors)
        return
    if kind == "boolean" and not isinstance(value, bool):
        errors.append(
            f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a boolean"
        )


def _check_range(shape: Shape, measure: float, value: Any, path: str, verb: str, errors: list[str]) -> None:
    low = shape.metadata.get("min")
    high = None if shape.name in _DOMAIN_CHECKED_MAX else shape.metadata.get("max")
    if low is not None and measure < low:
        relation = "greater than or equal to"
        errors.append(
            f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
            f"Member must {verb} {relation} {low}"
        )
    if high is not None and measure > high:
        relation = "less than or equal to"
        errors.append(
            f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
            f"Member must {verb} {relation} {high}"
        )
