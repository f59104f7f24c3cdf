"""Transient faults never fail a request while its time lasts: a burst of throttling on the calls of a
request's first invocation is waited out, in a forward Update and in its rollback alike."""

from __future__ import annotations

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, copy_template
from tests.handler.conftest import reasons, rules_left


def test_a_throttling_burst_during_a_rollback_does_not_fail_it(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    held = stack.resources["ModelCopy"].physical_id
    custom_labels.faults.inject("TagResource", "AccessDeniedException", times=1)  # fails the Update
    # then about a minute and a half of throttling on every look at the version
    custom_labels.faults.inject("DescribeProjectVersions", "ThrottlingException", times=30)

    status = stack.update(copy_template(source_version, tags={"b": "2"}))

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert "TagResource failed: AccessDeniedException" in reasons(cloud)
    assert "throttling" not in reasons(cloud)
    tags = stack.session().client("rekognition").list_tags_for_resource(ResourceArn=held)["Tags"]
    assert {k: v for k, v in tags.items() if not k.startswith("rekognition-model-copy")} == {"a": "1"}
    assert rules_left(cloud) == []


def test_a_throttling_burst_on_a_create_is_waited_out(cloud, deploy, source_version):
    custom_labels.faults.inject("CopyProjectVersion", "ThrottlingException", times=12)

    stack = deploy(copy_template(source_version))

    assert stack.status == "CREATE_COMPLETE"
    assert custom_labels.calls.count("CopyProjectVersion", DEST_ACCOUNT) >= 13
