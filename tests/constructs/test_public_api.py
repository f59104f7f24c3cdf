"""Every public name of the library is documented (issue: docstrings on every public name)."""

from __future__ import annotations

import inspect

import rekognition_model_copy


def _undocumented() -> tuple[list[str], int]:
    missing: list[str] = []
    checked = 0
    for name in rekognition_model_copy.__all__:
        value = getattr(rekognition_model_copy, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue  # constants are documented where they are defined (attribute docstrings)
        checked += 1
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            for member, attribute in vars(value).items():
                if member.startswith("_") or not callable(attribute):
                    continue
                checked += 1
                if not (inspect.getdoc(attribute) or "").strip():
                    missing.append(f"{name}.{member}")
    return missing, checked


def test_every_public_class_function_and_method_has_a_docstring() -> None:
    missing, checked = _undocumented()
    assert missing == []
    assert checked >= 15  # the constructs and their methods were really looked at


def test_the_package_is_typed() -> None:
    from pathlib import Path

    assert (Path(rekognition_model_copy.__file__).parent / "py.typed").is_file()
