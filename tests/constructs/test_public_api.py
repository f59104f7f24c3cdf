"""Every public name of the library is documented: a docstring on every public name."""

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


def test_all_holds_what_users_need_and_no_internals() -> None:
    assert set(rekognition_model_copy.__all__) == {
        # the constructs and the provider stack
        "RekognitionModelCopy",
        "RekognitionModelPromotion",
        "RekognitionProjectPolicy",
        "RekognitionModelCopyProvider",
        "RekognitionModelCopyProviderStack",
        # the model version interface, its import, the base class of versions, the metrics' namespace
        "IProjectVersion",
        "ProjectVersion",
        "ProjectVersionBase",
        "METRIC_NAMESPACE",
        # the copy's keywords and their checked value, the error, the promotion's principal
        "CopyProps",
        "CopyArguments",
        "ModelCopyValidationError",
        "Principal",
        # resource types, the provider's construct id, the defaults users pass or compare with
        "RESOURCE_TYPE",
        "POLICY_RESOURCE_TYPE",
        "PROVIDER_ID",
        "DEFAULT_TIMEOUT",
        "DEFAULT_POLICY_TIMEOUT",
        "DEFAULT_EXPORT_NAME",
    }
    for name in rekognition_model_copy.__all__:
        assert hasattr(rekognition_model_copy, name), name


def test_the_package_is_typed() -> None:
    from pathlib import Path

    assert (Path(rekognition_model_copy.__file__).parent / "py.typed").is_file()
