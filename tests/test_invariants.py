"""The invariants module agrees with the handler (owner marker) and the README (the allowed causes)."""

from __future__ import annotations

import sys

from tests.conftest import REPO
from tests.invariants import ALLOWED_FAILURE_CAUSES, OWNER_TAG, allowed_cause, owner_of

sys.path.insert(0, str(REPO / "lambda"))
import contract  # noqa: E402 - the handler's modules, from its asset directory
import copy_properties  # noqa: E402


def test_the_owner_marker_is_the_handlers():
    assert OWNER_TAG == contract.OWNER_TAG
    event = {
        "StackId": "arn:aws:cloudformation:us-east-1:222222222222:stack/prod/1",
        "LogicalResourceId": "Copy",
    }
    assert owner_of(event["StackId"], event["LogicalResourceId"]) == copy_properties.owner_of(event)


def test_the_readme_lists_every_allowed_cause():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for description in ALLOWED_FAILURE_CAUSES:
        assert f"  - {description};" in readme, description


def test_a_transient_reason_is_never_an_allowed_cause():
    assert allowed_cause("CopyProjectVersion failed: AccessDeniedException: not allowed.") is not None
    assert allowed_cause("Rekognition kept throttling after retries; deploy again later.") is None
    assert allowed_cause("LimitExceededException after ThrottlingException") is None
