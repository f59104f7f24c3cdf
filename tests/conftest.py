"""Shared fixtures and helpers: emulated AWS (moto + the Custom Labels emulator), a simulated clock, the
driver and readers of what it recorded; the repo's Node for the CDK, cfn-lint, the wheel."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import NODE_BIN as NODE_BIN  # the tests' too
from bench.common import path_with_repo_node

# jsii runs the CDK in Node: the repo's pinned Node 22 goes first on PATH, here, before the first import that
# reaches aws_cdk (emulator.templates imports rekognition_model_copy) starts the jsii kernel. pytest imports
# this root conftest before any other conftest or test module under tests/, in every pytest-xdist worker
# too; subprocesses inherit the PATH. (pytest_configure would come too late: pytest imports the conftests of
# the paths it is given, and so aws_cdk, before it calls that hook.)
os.environ["PATH"] = path_with_repo_node(os.environ.get("PATH", ""))

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from emulator import botocore_models, custom_labels
from emulator.clock import SimulatedClock
from emulator.cloudformation import CloudFormation
from emulator.templates import function_role, without_lambda_retries

botocore_models.share()  # before any test makes a session: botocore's models parsed once per process

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

REPO = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
SOURCE_ACCOUNT = "111111111111"
DEST_ACCOUNT = "222222222222"
#: The properties of a ``Custom::RekognitionModelCopy`` besides ServiceToken and ServiceTimeout.
MODEL_COPY_PROPERTIES = (
    "SourceProjectArn",
    "SourceProjectVersionArn",
    "DestinationProjectArn",
    "VersionName",
    "OutputConfig",
    "Tags",
    "KmsKeyId",
    "MinInferenceUnits",
    "MaxInferenceUnits",
)
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})  # injected faults surface
LATE = 20 * 60  # simulated seconds the cloud fixture lets pass before its audit (late answers)


def role_client(account_id: str, role_name: str, service: str = "rekognition") -> Any:
    """A client of ``service`` whose credentials come from sts.assume_role of ``role_name`` in
    ``account_id`` (the role must exist), retries off."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}", RoleSessionName="test"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=NO_RETRIES,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "own_invariants: the test checks tests/invariants.py itself")


@pytest.fixture(autouse=True)
def invariants(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The resource's guarantees (tests/invariants.py) checked after every stack event of every driver a
    test makes (the ``cloud`` fixture's and any other), and when the driver closes (after the fixture's
    settle); the test fails on a violation, unless KNOWN_VIOLATIONS lists it for this test. Yields the
    monitors, for tests that look at them."""
    from tests.invariants import BY_DESIGN, KNOWN_VIOLATIONS, Monitor

    if request.node.get_closest_marker("own_invariants"):  # the explorer checks them itself
        yield []
        return
    exempt = {**KNOWN_VIOLATIONS, **BY_DESIGN}
    skip = frozenset(inv for (test, inv) in exempt if test == request.node.nodeid)
    monitors: list[Monitor] = []
    found: list[tuple[str, str]] = []
    original_init, original_close = CloudFormation.__init__, CloudFormation.close

    def init(self: CloudFormation, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        monitors.append(Monitor(skip=skip).attach(self))

    def close(self: CloudFormation) -> None:
        for monitor in monitors:
            if monitor.cloud is self and monitor in _attached():
                found.extend(monitor.finish())
        original_close(self)

    monkeypatch.setattr(CloudFormation, "__init__", init)
    monkeypatch.setattr(CloudFormation, "close", close)
    yield monitors
    for monitor in monitors:
        if monitor in _attached():  # a driver never closed: check what it saw
            found.extend(monitor.finish())
    assert not found, "invariants violated:\n" + "\n".join(f"{i}: {t}" for i, t in found)


def _attached() -> list[Any]:
    from tests.invariants import _ACTIVE

    return _ACTIVE


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Emulated AWS with fake credentials; no request leaves the machine."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    custom_labels.reset()
    with mock_aws():
        yield
    custom_labels.reset()


@pytest.fixture
def clock(aws: None) -> SimulatedClock:
    """The simulated clock shared by the emulator and the driver."""
    simulated = SimulatedClock()
    custom_labels.set_clock(simulated)
    return simulated


@pytest.fixture
def cloud(clock: SimulatedClock) -> Iterator[CloudFormation]:
    """The CloudFormation lifecycle driver; every test that uses it must leave no protocol violation
    (``audit`` also counts the responses that arrived after a request was settled)."""
    with CloudFormation(clock) as driver:
        custom_labels.set_clock(driver.runtime.service_clock())
        yield driver
        driver.settle(LATE)  # what is still running or scheduled answers now, or never
        assert driver.audit() == []


@pytest.fixture
def source_version() -> tuple[str, str]:
    """A trained model in the destination account (same-account copy): (project ARN, version ARN)."""
    return custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "defects.v1")


def copy_template(
    source: tuple[str, str],
    *,
    version_name: str = "defects-prod-1",
    tags: dict[str, str] | None = None,
    kms: bool = False,
    service_timeout: int | None = 3600,
    deletion_policy: str | None = None,
    extra: dict[str, Any] | None = None,
    logical_id: str = "ModelCopy",
    lambda_retries: bool = False,
) -> dict[str, Any]:
    """A template shaped like the construct's: project, bucket, role, function (no Lambda retries, unless
    ``lambda_retries``: then Lambda's default of two), one model copy."""
    properties: dict[str, Any] = {
        "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
        "SourceProjectArn": source[0],
        "SourceProjectVersionArn": source[1],
        "DestinationProjectArn": {"Fn::GetAtt": ["Project", "Arn"]},
        "VersionName": version_name,
        "OutputConfig": {"S3Bucket": {"Ref": "Output"}, "S3KeyPrefix": f"copies/{version_name}/"},
    }
    if tags:
        properties["Tags"] = tags
    if kms:
        properties["KmsKeyId"] = {"Fn::GetAtt": ["Key", "Arn"]}
    if service_timeout is not None:
        properties["ServiceTimeout"] = service_timeout
    properties.update(extra or {})
    copy: dict[str, Any] = {"Type": "Custom::RekognitionModelCopy", "Properties": properties}
    if deletion_policy:
        copy["DeletionPolicy"] = copy["UpdateReplacePolicy"] = deletion_policy
    resources: dict[str, Any] = {
        "Project": {"Type": "AWS::Rekognition::Project", "Properties": {"ProjectName": "prod-defects"}},
        "Output": {"Type": "AWS::S3::Bucket"},
        "Role": function_role(),
        "Handler": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Handler": "index.handler",
                "Timeout": 900,
                "Environment": {"Variables": {"POLL_RULE_PREFIX": "rmc-test-"}},
            },
            "Metadata": {"aws:asset:path": "lambda"},
        },
        logical_id: copy,
    }
    if kms:
        resources["Key"] = {"Type": "AWS::KMS::Key", "Properties": {}}
    return {"Resources": resources} if lambda_retries else without_lambda_retries({"Resources": resources})


@pytest.fixture
def deploy(cloud: CloudFormation) -> Callable[..., Any]:
    """Create a stack from a template in the destination account; returns the Stack."""

    def _deploy(template: dict[str, Any], name: str = "prod", account_id: str = DEST_ACCOUNT) -> Any:
        stack = cloud.stack(name, account_id=account_id, region=REGION, asset_root=REPO)
        stack.create(json.loads(json.dumps(template)))
        return stack

    return _deploy


# --- What the driver and the emulator recorded -------------------------------------------------------------


def versions(stack: Any, project_name: str = "prod-defects") -> dict[str, dict[str, Any]]:
    """The destination project's versions in the emulator, by name ({} once the project is deleted:
    the emulator refuses to delete a project that still has versions)."""
    client = stack.session().client("rekognition")
    found = client.describe_projects(ProjectNames=[project_name])["ProjectDescriptions"]
    if not found:
        return {}
    listed = client.describe_project_versions(ProjectArn=found[0]["ProjectArn"])["ProjectVersionDescriptions"]
    return {d["ProjectVersionArn"].split("/")[-2]: d for d in listed}


def statuses(cloud: Any, logical_id: str = "ModelCopy") -> list[str]:
    """The stack events' statuses of one resource, in order."""
    return [e.status for e in cloud.events if e.logical_id == logical_id]


def reasons(cloud: Any, logical_id: str = "ModelCopy") -> str:
    """The stack events' reasons of one resource, joined."""
    return " | ".join(e.reason for e in cloud.events if e.logical_id == logical_id and e.reason)


# --- Synthesised templates and the package -----------------------------------------------------------------


def cfn_lint_errors(template: Template, region: str = REGION) -> list[str]:
    """cfn-lint's errors (E rules) for a synthesised template; warnings and informational rules pass."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template.to_json()), config=ManualArgs(regions=[region]))
    return [str(match) for match in matches if match.rule.id.startswith("E")]


def pyproject_version() -> str:
    return str(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def build_wheel(out: Path) -> Path:
    """The wheel as ``make dist`` builds it (offline, crhelper vendored, nothing left in the checkout)."""
    from tools.dist import build_wheel as dist_build_wheel

    return dist_build_wheel(out)
