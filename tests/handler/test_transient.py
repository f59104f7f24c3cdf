"""Transient faults never fail a request while its time lasts: a burst of throttling on the calls of a
request's first invocation is waited out, in a forward Update and in its rollback alike."""

from __future__ import annotations

import pytest

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, SOURCE_ACCOUNT, copy_template
from tests.handler.conftest import deploy_dev, policy_document, policy_template, reasons, rules_left
from tests.variants import variant_fixture  # noqa: F401 - the variant fixture


def test_a_throttling_burst_during_a_rollback_does_not_fail_it(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    held = stack.resources["ModelCopy"].physical_id
    custom_labels.faults.inject("TagResource", "InvalidParameterException", times=1)  # fails the Update
    # then about a minute and a half of throttling on every look at the version
    custom_labels.faults.inject("DescribeProjectVersions", "ThrottlingException", times=30)

    status = stack.update(copy_template(source_version, tags={"b": "2"}))

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert "TagResource failed: InvalidParameterException" in reasons(cloud)
    assert "throttling" not in reasons(cloud)
    tags = stack.session().client("rekognition").list_tags_for_resource(ResourceArn=held)["Tags"]
    assert {k: v for k, v in tags.items() if not k.startswith("rekognition-model-copy")} == {"a": "1"}
    assert rules_left(cloud) == []


def test_a_throttling_burst_on_a_create_is_waited_out(cloud, deploy, source_version):
    custom_labels.faults.inject("CopyProjectVersion", "ThrottlingException", times=12)

    stack = deploy(copy_template(source_version))

    assert stack.status == "CREATE_COMPLETE"
    assert custom_labels.calls.count("CopyProjectVersion", DEST_ACCOUNT) >= 13


# -- IAM and project-policy changes that take effect late ----------------------------------------------------
@pytest.fixture
def dev(cloud):
    """The dev account's trained model, and its project policy naming the destination account (put by
    the dev stack just before the prod stack copies)."""
    project_arn, version_arn = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "v1")
    principal = f"arn:aws:iam::{DEST_ACCOUNT}:root"
    dev_stack = deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, principal)))
    assert dev_stack.status == "CREATE_COMPLETE"
    return project_arn, version_arn


@pytest.mark.variant(policy_propagation_delay=30.0, iam_propagation_delay=30.0)
def test_a_first_cross_account_deploy_waits_for_its_role_and_the_policy_to_take_effect(
    variant, cloud, dev, deploy
):
    stack = deploy(copy_template(dev))

    assert stack.status == "CREATE_COMPLETE"
    assert custom_labels.calls.count("CopyProjectVersion", DEST_ACCOUNT) >= 2  # the first one was denied


@pytest.mark.variant(policy_propagation_delay=30.0)
def test_a_genuine_denial_still_fails_with_its_reason_before_the_timeout(variant, cloud, deploy):
    project_arn, version_arn = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "v1")

    stack = deploy(copy_template((project_arn, version_arn), service_timeout=900))  # no policy at all

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "CopyProjectVersion failed: AccessDeniedException" in reasons(cloud)
    assert "project policy" in reasons(cloud)
