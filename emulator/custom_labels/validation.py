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


#: Shape type -> the Python types a value of it may have, and how the constraint names it.
_TYPES: dict[str, tuple[type | tuple[type, ...], str]] = {
    "structure": (dict, "a structure"),
    "list": (list, "a list"),
    "map": (dict, "a map"),
    "string": (str, "a string"),
    "integer": (int, "an integer"),
    "long": (int, "an integer"),
    "float": ((int, float), "a number"),
    "double": ((int, float), "a number"),
    "boolean": (bool, "a boolean"),
}


def _violation(value: Any, path: str, constraint: str) -> str:
    return f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: {constraint}"


def _mistyped(value: Any, kind: str) -> bool:
    """The value is not of the shape's type (a bool is no number)."""
    return not isinstance(value, _TYPES[kind][0]) or (isinstance(value, bool) and kind != "boolean")


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type_name
    if kind not in _TYPES:
        return
    if _mistyped(value, kind):
        errors.append(_violation(value, path, f"Member must be {_TYPES[kind][1]}"))
        return
    if kind == "structure":
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
    elif kind == "list":
        _check_range(shape, len(value), value, path, "have length", errors)
        for index, item in enumerate(value, start=1):
            _check(shape.member, item, f"{path}.{index}.member", errors)
    elif kind == "map":
        _check_range(shape, len(value), value, path, "have length", errors)
        for key, item in value.items():
            _check(shape.key, key, f"{path}.{key}.key", errors)
            _check(shape.value, item, f"{path}.{key}.value", errors)
    elif kind == "string":
        _check_range(shape, len(value), value, path, "have length", errors)
        pattern = shape.metadata.get("pattern")
        if pattern and not _compile(pattern).fullmatch(value):
            errors.append(
                _violation(value, path, f"Member must satisfy regular expression pattern: {pattern}")
            )
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            errors.append(_violation(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]"))
    elif kind != "boolean":  # a number
        _check_range(shape, value, value, path, "be", errors)


def _check_range(shape: Shape, measure: float, value: Any, path: str, verb: str, errors: list[str]) -> None:
    low = shape.metadata.get("min")
    high = None if shape.name in _DOMAIN_CHECKED_MAX else shape.metadata.get("max")
    if low is not None and measure < low:
        errors.append(_violation(value, path, f"Member must {verb} greater than or equal to {low}"))
    if high is not None and measure > high:
        errors.append(_violation(value, path, f"Member must {verb} less than or equal to {high}"))
