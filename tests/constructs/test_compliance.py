"""The scanner findings the provider options resolve, checked with cdk-nag's NIST 800-53 R5 pack.

checkov's AWS checks report five findings on the provider function and its log group without the
options: CKV_AWS_116 (no dead-letter queue), CKV_AWS_117 (not in a VPC), CKV_AWS_115 (no function-level
concurrency limit), CKV_AWS_173 (environment not encrypted with a customer key), CKV_AWS_158 (log group not
encrypted with KMS). checkov itself cannot share the project's environment (checkov 3.3.30 pins boto3,
packaging and networkx to releases older than the project's), so the pinned cdk-nag's NIST pack checks
the same settings: LambdaDLQ, LambdaInsideVPC, LambdaConcurrency and CloudWatchLogGroupEncrypted; the pack
has no rule for a function's environment key, so CKV_AWS_173's property (``KmsKeyArn``) is asserted on the
template. cdk-nag 3 needs aws-cdk-lib 2.257.0 or later: skipped in the floor environment.
"""

from __future__ import annotations

import pytest

pytest.importorskip(
    "cdk_nag", reason="cdk-nag 3 needs aws-cdk-lib >= 2.257.0; the floor environment has an older one"
)

from aws_cdk import App, Stack  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402
from cdk_nag import NIST80053R5Checks  # noqa: E402

from rekognition_model_copy import PROVIDER_ID, RekognitionModelCopyProvider  # noqa: E402

from .conftest import ENV  # noqa: E402

RESOLVED_BY_OPTIONS = {
    "NIST.800.53.R5-LambdaDLQ": "Function",  # checkov CKV_AWS_116: dead_letter_queue
    "NIST.800.53.R5-LambdaInsideVPC": "Function",  # CKV_AWS_117: vpc
    "NIST.800.53.R5-LambdaConcurrency": "Function",  # CKV_AWS_115: reserved_concurrent_executions
    "NIST.800.53.R5-CloudWatchLogGroupEncrypted": "LogGroup",  # CKV_AWS_158: log_group with a KMS key
}
"""The pack's rules the options resolve, and the provider's construct each is reported on by default."""

BY_DESIGN = {"NIST.800.53.R5-IAMNoInlinePolicy"}
"""What stays (README, "Compliance"): the function's permissions are an inline policy of its role, one
statement per kind shared by every copy of the stack."""


def _provider_findings(app: App, stack: Stack) -> set[tuple[str, str]]:
    """(rule, construct path below the provider) of every NIST finding on the provider's resources (and,
    with options, on the log group given)."""
    report = NIST80053R5Checks(app).validate_scope(app)
    prefix = f"{stack.node.path}/{PROVIDER_ID}/"
    found = set()
    for violation in report.violations:
        for resource in violation.violating_resources:
            path = resource.construct_path or ""
            if path.startswith(prefix):
                found.add((violation.rule_name, path.removeprefix(prefix).split("/")[0]))
            elif path == f"{stack.node.path}/ModelCopyLogs/Resource":
                found.add((violation.rule_name, "LogGroup"))
    return found


def test_without_options_the_findings_are_reported() -> None:
    app = App()
    stack = Stack(app, "Plain", env=ENV)
    RekognitionModelCopyProvider.of(stack)
    found = _provider_findings(app, stack)
    assert set(RESOLVED_BY_OPTIONS.items()) <= found
    assert "KmsKeyArn" not in _function_properties(stack)


def test_with_every_option_they_are_resolved() -> None:
    from examples.compliant_app import build_app

    app = build_app()
    (stack,) = [child for child in app.node.children if isinstance(child, Stack)]
    found = _provider_findings(app, stack)
    assert {rule for rule, _ in found} <= BY_DESIGN, found
    assert _function_properties(stack)["KmsKeyArn"]


def _function_properties(stack: Stack) -> dict[str, object]:
    (function,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    properties: dict[str, object] = function["Properties"]
    return properties
