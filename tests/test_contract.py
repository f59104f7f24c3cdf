"""The handler asset and the construct library state their shared facts once each; they must agree."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from rekognition_model_copy import contract as library
from tests.conftest import REPO


def _handler_contract() -> ModuleType:
    spec = importlib.util.spec_from_file_location("handler_contract", REPO / "lambda" / "contract.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _facts(module: ModuleType) -> dict[str, object]:
    return {name: value for name, value in vars(module).items() if name.isupper()}


def test_the_handler_and_the_library_state_the_same_facts() -> None:
    handler = _handler_contract()
    assert _facts(handler) == _facts(library)
    expected = {
        "MODEL_COPY_TYPE",
        "PROJECT_POLICY_TYPE",
        "OWNER_TAG",
        "KMS_KEY_TAG",
        "REMADE_TAG",
        "TAKEN_TAG",
        "POLL_RULE_PREFIX_ENV",
        "RESERVED_CONCURRENCY_ENV",
    }
    assert set(_facts(library)) == expected


def test_the_handler_serves_exactly_the_library_resource_types() -> None:
    import sys

    sys.path.insert(0, str(REPO / "lambda"))
    import index  # noqa: PLC0415

    assert set(index.RESOURCES) == {library.MODEL_COPY_TYPE, library.PROJECT_POLICY_TYPE}
