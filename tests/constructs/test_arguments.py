"""CopyArguments: the copy's keywords (CopyProps) checked once into one frozen value, built and read by both
RekognitionModelCopy and RekognitionModelPromotion."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from aws_cdk import App, Stack

from rekognition_model_copy import (
    DEFAULT_TIMEOUT,
    CopyArguments,
    CopyProps,
    ModelCopyValidationError,
    RekognitionModelCopy,
    RekognitionModelPromotion,
)

from .conftest import DEST_PROJECT_ARN, DEV_ENV, ENV, SOURCE_VERSION_ARN, valid_kwargs


def _init_fields() -> dict[str, dataclasses.Field[typing.Any]]:
    return {f.name: f for f in dataclasses.fields(CopyArguments) if f.init}


SOURCE_WAYS = {"source", "source_project_arn", "source_project_version_arn"}


def test_the_value_holds_the_keywords_of_copy_props_with_the_source_as_its_two_arns_and_the_stack() -> None:
    assert set(_init_fields()) == set(CopyProps.__annotations__) - {"source"} | {"stack"}


def test_required_keywords_are_those_without_a_default() -> None:
    required = {name for name, f in _init_fields().items() if f.default is dataclasses.MISSING}
    optional = {name for name, hint in CopyProps.__annotations__.items() if "NotRequired" in str(hint)}
    # The source is required one of two ways (source=, or both ARNs): each keyword is optional itself.
    assert SOURCE_WAYS <= optional
    assert required == set(CopyProps.__annotations__) - optional | {"stack"} | SOURCE_WAYS - {"source"}
    assert required == {
        "stack",
        "source_project_arn",
        "source_project_version_arn",
        "destination_project",
        "version_name",
        "output_bucket",
    }


def test_the_value_is_checked_when_made_and_frozen() -> None:
    stack = Stack(App(), "Arguments", env=ENV)
    arguments = CopyArguments(stack=stack, **valid_kwargs(stack))  # type: ignore[arg-type]
    assert arguments.s3_key_prefix == "rekognition-model-copy/defects.2026-11-01/"
    assert arguments.output_prefix is None  # as given
    assert arguments.timeout is DEFAULT_TIMEOUT
    assert arguments.destination is not None and arguments.destination.project_name == "prod-imported"
    assert arguments.destination_project_arn == DEST_PROJECT_ARN
    assert arguments.destination_versions_arn == (
        "arn:aws:rekognition:us-east-1:222222222222:project/prod-imported/version/*"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        arguments.version_name = "other"  # type: ignore[misc]
    with pytest.raises(ModelCopyValidationError, match="version_name must be 1-255 characters"):
        CopyArguments(stack=stack, **valid_kwargs(stack, version_name="bad name"))  # type: ignore[arg-type]


def test_the_copy_keeps_the_value_it_was_made_with() -> None:
    stack = Stack(App(), "Kept", env=ENV)
    copy = RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack, output_prefix="models/"))  # type: ignore[arg-type]
    assert isinstance(copy.arguments, CopyArguments)
    assert copy.arguments.stack is stack
    assert copy.arguments.s3_key_prefix == "models/"
    assert copy.arguments.source_project_version_arn == SOURCE_VERSION_ARN


def test_a_missing_or_unknown_keyword_is_a_type_error_as_in_any_call() -> None:
    app = App()
    stack = Stack(app, "Keywords", env=ENV)
    kwargs = valid_kwargs(stack)
    with pytest.raises(TypeError, match="version_nam"):
        RekognitionModelCopy(stack, "Typo", **{**kwargs, "version_nam": "x"})  # type: ignore[arg-type]
    del kwargs["version_name"]
    with pytest.raises(TypeError, match="version_name"):
        RekognitionModelCopy(stack, "Missing", **kwargs)  # type: ignore[arg-type]
    dev = Stack(app, "KeywordsDev", env=DEV_ENV)
    with pytest.raises(TypeError, match="version_name"):
        RekognitionModelPromotion(id="Missing", source_stack=dev, destination_stack=stack, **kwargs)  # type: ignore[arg-type]
    assert stack.node.try_find_child("Missing") is None and dev.node.try_find_child("Missing") is None
