"""The emulated evaluation of a model version (``EvaluationResult``), what the quality gate reads: set per
version, shown once trained, carried by copies."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from emulator import custom_labels
from emulator.clock import SimulatedClock
from tests.conftest import NO_RETRIES, REGION

ACCOUNT = "123456789012"  # moto's default account: the test's own credentials


@pytest.fixture
def rek(clock: SimulatedClock) -> Any:
    return boto3.client("rekognition", region_name=REGION, config=NO_RETRIES)


def described(client: Any, version_arn: str) -> dict[str, Any]:
    project_arn = next(
        p["ProjectArn"]
        for p in client.describe_projects()["ProjectDescriptions"]
        if version_arn.startswith(p["ProjectArn"].rsplit("/", 1)[0] + "/version/")
    )
    name = version_arn.split("/")[-2]
    (found,) = client.describe_project_versions(ProjectArn=project_arn, VersionNames=[name])[
        "ProjectVersionDescriptions"
    ]
    return dict(found)


def test_a_seeded_version_reports_the_f1_score_it_was_given(rek: Any) -> None:
    _, version_arn = custom_labels.seed_trained_version(ACCOUNT, REGION, "dev", "v1", f1_score=0.812)
    evaluation = described(rek, version_arn)["EvaluationResult"]
    assert evaluation["F1Score"] == 0.812
    assert evaluation["Summary"]["S3Object"]["Name"].endswith("EvaluationResultSummary.json")


def test_by_default_a_seeded_version_is_evaluated_at_the_default_score(rek: Any) -> None:
    _, version_arn = custom_labels.seed_trained_version(ACCOUNT, REGION, "dev", "v1")
    assert described(rek, version_arn)["EvaluationResult"]["F1Score"] == custom_labels.DEFAULT_F1_SCORE


def test_a_version_can_have_no_evaluation(rek: Any) -> None:
    _, version_arn = custom_labels.seed_trained_version(ACCOUNT, REGION, "dev", "v1", f1_score=None)
    description = described(rek, version_arn)
    assert description["Status"] == "TRAINING_COMPLETED"
    assert "EvaluationResult" not in description


def test_set_f1_score_changes_what_a_version_reports(rek: Any) -> None:
    _, version_arn = custom_labels.seed_trained_version(ACCOUNT, REGION, "dev", "v1", f1_score=0.5)
    custom_labels.set_f1_score(version_arn, 0.91)
    assert described(rek, version_arn)["EvaluationResult"]["F1Score"] == 0.91
    custom_labels.set_f1_score(version_arn, None)
    assert "EvaluationResult" not in described(rek, version_arn)


def test_training_through_the_api_uses_the_configured_score(rek: Any, clock: SimulatedClock) -> None:
    custom_labels.config.f1_score = 0.77
    project_arn = rek.create_project(ProjectName="dev")["ProjectArn"]
    version_arn = rek.create_project_version(
        ProjectArn=project_arn, VersionName="v1", OutputConfig={"S3Bucket": "dev-output"}
    )["ProjectVersionArn"]
    clock.advance(1)
    assert described(rek, version_arn)["EvaluationResult"]["F1Score"] == 0.77


def test_a_copy_carries_its_sources_evaluation_once_copied(rek: Any, clock: SimulatedClock) -> None:
    """Undocumented by AWS (the API says only that training results are copied): the emulator takes the
    evaluation to be one of them."""
    source_project, source_version = custom_labels.seed_trained_version(
        ACCOUNT, REGION, "dev", "v1", f1_score=0.934
    )
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="prod-output")
    copy_arn = rek.copy_project_version(
        SourceProjectArn=source_project,
        SourceProjectVersionArn=source_version,
        DestinationProjectArn=destination,
        VersionName="v1-prod",
        OutputConfig={"S3Bucket": "prod-output", "S3KeyPrefix": "copies/"},
    )["ProjectVersionArn"]
    assert "EvaluationResult" not in described(rek, copy_arn)  # COPYING_IN_PROGRESS
    clock.advance(custom_labels.config.copy_duration)
    copied = described(rek, copy_arn)
    assert copied["Status"] == "COPYING_COMPLETED"
    assert copied["EvaluationResult"]["F1Score"] == 0.934
    assert copied["EvaluationResult"]["Summary"]["S3Object"]["Bucket"] == "prod-output"
