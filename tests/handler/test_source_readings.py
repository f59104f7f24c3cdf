"""Which source versions CopyProjectVersion accepts, and whether a copy carries its source's evaluation,
are not documented: the copy's behaviour and its Reasons are right under each reading."""

from __future__ import annotations

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, copy_template
from tests.handler.conftest import reasons, versions
from tests.variants import each_reading, variant_fixture  # noqa: F401 - the variant fixture


@each_reading("copy_source_statuses")
def test_a_running_source_is_copied_or_refused_with_a_reason_that_says_why(
    variant, cloud, deploy, source_version
):
    client = cloud.session(DEST_ACCOUNT, REGION).client("rekognition")
    client.start_project_version(ProjectVersionArn=source_version[1], MinInferenceUnits=1)
    cloud.settle(120)

    stack = deploy(copy_template(source_version))

    if variant["copy_source_statuses"] == "trained_or_later":
        assert stack.status == "CREATE_COMPLETE"
    else:
        assert stack.status == "ROLLBACK_COMPLETE"
        assert "CopyProjectVersion failed" in reasons(cloud) and "RUNNING" in reasons(cloud)
        assert "version name" not in reasons(cloud)  # not mistaken for a name taken
        assert versions(stack) == {}
    assert client.describe_project_versions(
        ProjectArn=source_version[0], VersionNames=["defects.v1"]
    )["ProjectVersionDescriptions"][0]["Status"] == "RUNNING"  # the source is left as it is


@each_reading("copy_evaluation")
def test_a_quality_bar_on_a_source_that_is_a_copy_follows_its_evaluation(
    variant, cloud, deploy, source_version
):
    first = deploy(copy_template(source_version, version_name="defects-stage"), name="stage")
    staged = (first.resources["Project"].attributes["Arn"], first.resources["ModelCopy"].physical_id)
    template = copy_template(staged, version_name="defects-prod-1", extra={"MinF1Score": "0.9"})
    template["Resources"]["Project"]["Properties"]["ProjectName"] = "prod-defects-2"

    stack = deploy(template)

    if variant["copy_evaluation"] == "carried":
        assert stack.status == "CREATE_COMPLETE"
    else:
        assert stack.status == "ROLLBACK_COMPLETE"
        assert "it is not copied" in reasons(cloud)
        assert custom_labels.calls.count("CopyProjectVersion", DEST_ACCOUNT) == 1  # the stage copy only
