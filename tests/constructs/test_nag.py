"""cdk-nag's AwsSolutions pack over the example app and the library's own resources.

cdk-nag 3 is a CDK policy-validation plugin: ``Validations.of(app).add_plugins(AwsSolutionsChecks(app))``
runs it at synth (any finding fails the synth), ``pack.validate_scope(app)`` returns its report directly.
Findings are acknowledged with the metadata ``Validations.of(construct).acknowledge(...)`` records: the
library writes it for the wildcards and the runtime of the function it creates; the example app needs none
of its own. cdk-nag 3 needs aws-cdk-lib 2.257.0 or later: in the floor environment (an older aws-cdk-lib,
no cdk-nag) this module is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "cdk_nag", reason="cdk-nag 3 needs aws-cdk-lib >= 2.257.0; the floor environment has an older one"
)

from aws_cdk import App, Stack, Validations  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from rekognition_model_copy import PROVIDER_ID, RekognitionModelCopyProvider, nag, permissions  # noqa: E402
from rekognition_model_copy.provider import HANDLER_RUNTIME  # noqa: E402

from .conftest import ENV, CopyStacks, PolicyStacks, PromotionStacks  # noqa: E402

CONTEXTS = {"copy only": None, "serving": {"min_inference_units": 1}}
MIN_REASON_LENGTH = 40
RUNTIME_PERMISSION_ACTIONS = {"lambda:AddPermission", "lambda:RemovePermission"}


def _findings(app: App, *, within: str | None = None) -> list[str]:
    """Every unacknowledged AwsSolutions finding (errors and warnings) as ``severity rule path``."""
    report = AwsSolutionsChecks(app, verbose=True).validate_scope(app)
    return [
        f"{violation.severity} {violation.rule_name} {resource.construct_path}: {violation.description}"
        for violation in report.violations
        for resource in violation.violating_resources
        if within is None or within in (resource.construct_path or "")
    ]


def _report(findings: list[str]) -> str:
    return "cdk-nag findings:\n" + "\n".join(f"  {finding}" for finding in findings)


@pytest.mark.parametrize("context", list(CONTEXTS.values()), ids=list(CONTEXTS))
def test_example_app_has_no_unacknowledged_findings(context: Mapping[str, Any] | None) -> None:
    from app import build_app

    findings = _findings(build_app(context))
    assert findings == [], _report(findings)


@pytest.fixture(scope="module", params=list(CONTEXTS.values()), ids=list(CONTEXTS))
def synthesised_app(request: pytest.FixtureRequest) -> Iterator[dict[str, dict[str, Any]]]:
    """The example app synthesised as a user would check it: the pack as a validation plugin (a finding
    fails the synth), writing its acknowledgments into the templates (``cdk_nag.rules_to_suppress``)."""
    from app import build_app

    app = build_app(request.param)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    assembly = app.synth()
    yield {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in Path(assembly.directory).glob("*.template.json")
    }


def _suppressions(templates: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(stack, logical id, rule id, reason) of every acknowledgment written into the templates."""
    found = []
    for stack, template in templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                found.append((stack, logical_id, rule["id"], rule["reason"]))
    return found


def test_synth_with_the_plugin_passes_and_records_every_acknowledgment(
    synthesised_app: dict[str, dict[str, Any]],
) -> None:
    from app import DEV_STACK_NAME, STACK_NAME

    assert set(synthesised_app) == {STACK_NAME, DEV_STACK_NAME}
    suppressions = _suppressions(synthesised_app)
    assert suppressions, "no acknowledgment reached the templates"
    for stack, logical_id, rule, reason in suppressions:
        assert len(reason) >= MIN_REASON_LENGTH, f"{stack}/{logical_id} {rule}: reason too short: {reason!r}"


def test_only_expected_rules_are_acknowledged_each_on_its_own_resource(
    synthesised_app: dict[str, dict[str, Any]],
) -> None:
    by_rule: dict[str, set[str]] = {}
    for _, logical_id, rule, _ in _suppressions(synthesised_app):
        by_rule.setdefault(rule, set()).add(logical_id)
    wildcards = {rule for rule in by_rule if rule.startswith("AwsSolutions-IAM5")}
    # IAM5 only ever for one exact resource (never a whole rule, never an action wildcard), on the role;
    # the bare "*" only for lambda:GetAccountSettings, which has no resource type (one finding per stack).
    one_resource = r"AwsSolutions-IAM5\[Resource::(.+)?\*\]"
    assert wildcards and all(re.fullmatch(one_resource, rule) for rule in wildcards)
    assert "AwsSolutions-IAM5[Resource::*]" in wildcards
    # The polling rules of each stack, the destination project's versions, the copy's output prefix, the
    # owned-version statements (versions carrying the owner marker, projects: this account's), and "*".
    assert len(wildcards) == 7, sorted(wildcards)
    assert any(rule.endswith(":project/*/version/*]") for rule in wildcards)
    assert any(rule.endswith(":project/prod-defects/version/*]") for rule in wildcards)
    assert any(rule.endswith(">/rekognition-model-copy/defects.2026-11-01/*]") for rule in wildcards)
    assert sum(bool(re.search(r":rule/rmc-[0-9a-f]{8}\*\]$", rule)) for rule in wildcards) == 2
    for rule in wildcards:
        assert all(logical_id.startswith(f"{PROVIDER_ID}ServiceRole") for logical_id in by_rule[rule])
    assert set(by_rule) - wildcards == {"AwsSolutions-L1"}
    assert all(logical_id.startswith(f"{PROVIDER_ID}Function") for logical_id in by_rule["AwsSolutions-L1"])


def test_output_bucket_logs_to_the_access_logs_bucket(synthesised_app: dict[str, dict[str, Any]]) -> None:
    from app import STACK_NAME

    template = Template.from_json(synthesised_app[STACK_NAME])
    logs_bucket = template.find_resources("AWS::S3::Bucket", {"Properties": {"LifecycleConfiguration": {}}})
    assert len(logs_bucket) == 1
    (logs_id,) = logs_bucket
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LoggingConfiguration": {
                "DestinationBucketName": {"Ref": logs_id},
                "LogFilePrefix": "output-bucket/",
            }
        },
    )
    # S3 log delivery through the bucket policy, only for the output bucket; no ACL.
    policy = template.find_resources("AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": logs_id}}})
    (statements,) = [p["Properties"]["PolicyDocument"]["Statement"] for p in policy.values()]
    delivery = [s for s in statements if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}]
    assert len(delivery) == 1 and delivery[0]["Action"] == "s3:PutObject"
    assert delivery[0]["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::GetAtt"][1] == "Arn"
    assert "AccessControl" not in synthesised_app[STACK_NAME]["Resources"][logs_id]["Properties"]


def _identity_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for resource in template.get("Resources", {}).values():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Role":
            assert "ManagedPolicyArns" not in resource["Properties"]
            for policy in resource["Properties"].get("Policies", []):
                statements += policy["PolicyDocument"]["Statement"]
    return statements


def test_example_app_function_holds_no_permission_management_and_no_bare_wildcard(
    synthesised_app: dict[str, dict[str, Any]],
) -> None:
    for stack, template in synthesised_app.items():
        statements = _identity_statements(template)
        assert statements, stack
        for statement in statements:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            assert not RUNTIME_PERMISSION_ACTIONS & set(actions), (stack, statement)
            assert not [a for a in actions if a.startswith("iam:") or "*" in a], (stack, statement)
            if set(actions) <= set(permissions.CONCURRENCY_ACTIONS):
                assert resources == ["*"], (stack, statement)  # the action has no resource type
                continue
            assert "*" not in resources, (stack, statement)


def _library_findings(app: App) -> list[str]:
    return _findings(app, within=f"/{PROVIDER_ID}/")


def test_library_resources_are_clean_in_every_test_stack(
    copy_stacks: CopyStacks, promotion_stacks: PromotionStacks, policy_stacks: PolicyStacks
) -> None:
    """The function, its role and its policy need no acknowledgment from the app: with a CfnProject or a
    literal or deploy-time (Fn::Select) destination, KMS keys, an environment-agnostic stack, policies."""
    findings = [
        finding
        for app in (copy_stacks.app, promotion_stacks.app, policy_stacks.app)
        for finding in _library_findings(app)
    ]
    assert findings == [], _report(findings)


def test_runtime_acknowledgment_covers_only_the_known_newer_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    newer = nag.newer_python_runtimes(HANDLER_RUNTIME)
    assert newer <= nag.UNTESTED_NEWER_RUNTIMES, (
        f"aws-cdk-lib knows Python runtimes newer than {HANDLER_RUNTIME.name}: {newer}. "
        "Run the handler tests on the newest and move HANDLER_RUNTIME to it."
    )
    monkeypatch.setattr(nag, "UNTESTED_NEWER_RUNTIMES", frozenset())
    app = App()
    RekognitionModelCopyProvider.of(Stack(app, "RuntimeStack", env=ENV))
    findings = _library_findings(app)
    if newer:
        assert [f for f in findings if " AwsSolutions-L1 " in f], _report(findings)
    else:
        assert findings == [], _report(findings)
