"""Quotas a stack of copies meets: each Reason says what is limited and how to raise it."""

from __future__ import annotations

from emulator import custom_labels
from tests.conftest import copy_template
from tests.handler.conftest import reasons


def test_the_inference_units_quota_is_named_with_how_to_raise_it(cloud, deploy, source_version):
    custom_labels.faults.inject("StartProjectVersion", "LimitExceededException", times=None)

    stack = deploy(copy_template(source_version, extra={"MinInferenceUnits": 1}))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "StartProjectVersion failed: LimitExceededException" in reasons(cloud)
    assert "inference units" in reasons(cloud) and "Service Quotas" in reasons(cloud)
    assert "remove unused model versions" not in reasons(cloud)
