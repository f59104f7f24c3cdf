"""The quality gate on the construct side: ``min_f1_score`` of a copy (CopyProps), checked at synth time,
rendered as ``MinF1Score``, and the one grant it needs (DescribeProjectVersions on the source project),
present only with a bar."""

from __future__ import annotations

import math
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, Environment, Stack
from aws_cdk.assertions import Match, Template

from rekognition_model_copy import RESOURCE_TYPE, ModelCopyValidationError, RekognitionModelCopy, validation
from rekognition_model_copy.permissions import GATE_ACTIONS, gate_statements
from tests.conftest import cfn_lint_errors

from .conftest import ACCOUNT, REGION, valid_kwargs

SAME_ACCOUNT_PROJECT = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/dev-defects/1700000000000"
SAME_ACCOUNT_VERSION = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/dev-defects/version/v1/1700000000001"
OTHER_PROJECT = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/other/1700000000000"
OTHER_VERSION = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/other/version/v1/1700000000001"


def _stack() -> Stack:
    return Stack(App(), "Gate", env=Environment(account=ACCOUNT, region=REGION))


def _kwargs(stack: Stack, **overrides: Any) -> dict[str, Any]:
    return valid_kwargs(stack, **overrides)


def _same_account(stack: Stack, **overrides: Any) -> dict[str, Any]:
    return _kwargs(
        stack,
        source_project_arn=SAME_ACCOUNT_PROJECT,
        source_project_version_arn=SAME_ACCOUNT_VERSION,
        **overrides,
    )


def _described_projects(template: Template) -> set[str]:
    """Every resource of a statement of the role's policies that allows DescribeProjectVersions."""
    found: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if GATE_ACTIONS[0] in actions:
                resources = statement["Resource"]
                found.update(str(r) for r in (resources if isinstance(resources, list) else [resources]))
    return found


@pytest.fixture(scope="module")
def gated() -> Template:
    """A same-account copy with a bar and one without, from two source projects, in one stack."""
    stack = _stack()
    RekognitionModelCopy(stack, "Gated", **_same_account(stack, min_f1_score=0.9, version_name="gated"))
    RekognitionModelCopy(
        stack,
        "Ungated",
        **_kwargs(
            stack,
            source_project_arn=OTHER_PROJECT,
            source_project_version_arn=OTHER_VERSION,
            version_name="ungated",
        ),
    )
    return Template.from_stack(stack)


def test_the_bar_is_rendered_as_min_f1_score(gated: Template) -> None:
    gate = {"VersionName": "gated", "MinF1Score": 0.9}
    gated.has_resource_properties(RESOURCE_TYPE, Match.object_like(gate))
    gated.has_resource_properties(
        RESOURCE_TYPE, Match.object_like({"VersionName": "ungated", "MinF1Score": Match.absent()})
    )
    assert cfn_lint_errors(gated) == []


def test_only_the_gated_copy_reads_its_source_project(gated: Template) -> None:
    gated.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "CheckSourceQuality",
                            "Effect": "Allow",
                            "Action": "rekognition:DescribeProjectVersions",
                            "Resource": SAME_ACCOUNT_PROJECT,
                        }
                    ]
                )
            }
        },
    )
    described = _described_projects(gated)
    assert SAME_ACCOUNT_PROJECT in described
    assert OTHER_PROJECT not in described


def test_a_copy_without_a_bar_never_reads_its_source_project(template: Template) -> None:
    """The session's copies (no bar): DescribeProjectVersions only on their destination projects."""
    from .conftest import SOURCE_PROJECT_ARN

    assert SOURCE_PROJECT_ARN not in _described_projects(template)
    assert "CheckSourceQuality" not in str(template.to_json())


def test_gate_statements_name_the_source_project() -> None:
    (statement,) = gate_statements(SAME_ACCOUNT_PROJECT)
    assert statement.actions == ("rekognition:DescribeProjectVersions",)
    assert statement.resources == (SAME_ACCOUNT_PROJECT,)


@pytest.mark.parametrize("bar", [0, -0.1, 1.01, 2, math.nan, math.inf, True, "0.9"])
def test_a_bar_outside_0_to_1_fails_the_synth_naming_the_argument_and_value(bar: object) -> None:
    stack = _stack()
    with pytest.raises(ModelCopyValidationError) as error:
        RekognitionModelCopy(stack, "Copy", **_same_account(stack, min_f1_score=bar))
    assert "min_f1_score must be a number greater than 0 and at most 1" in str(error.value)
    assert f"got {bar!r}" in str(error.value)
    assert stack.node.try_find_child("Copy") is None


@pytest.mark.parametrize("bar", [1, 1.0, 0.5, 1e-9])
def test_a_bar_in_range_is_accepted(bar: float) -> None:
    validation.check_min_f1_score("min_f1_score", bar)


def test_check_min_f1_score_names_the_argument_it_is_given() -> None:
    with pytest.raises(
        ModelCopyValidationError, match=r"^add_copy_permission's min_f1_score must .* got 0\."
    ):
        validation.check_min_f1_score("add_copy_permission's min_f1_score", 0)
    validation.check_min_f1_score("min_f1_score", None)


def test_a_token_bar_is_not_checked() -> None:
    stack = _stack()
    bar = CfnParameter(stack, "Bar", type="Number").value_as_number
    RekognitionModelCopy(stack, "Copy", **_same_account(stack, min_f1_score=bar))
    Template.from_stack(stack).has_resource_properties(RESOURCE_TYPE, {"MinF1Score": {"Ref": "Bar"}})


def test_a_bar_on_a_copy_from_another_account_fails_the_synth() -> None:
    """The destination cannot read another account's versions: the bar belongs on the source account's
    project policy (RekognitionModelPromotion puts it there)."""
    stack = _stack()
    with pytest.raises(
        ModelCopyValidationError, match="needs a source version of the stack's own account"
    ) as error:
        RekognitionModelCopy(stack, "Copy", **_kwargs(stack, min_f1_score=0.9))
    assert "RekognitionModelPromotion(min_f1_score=...)" in str(error.value)
    assert stack.node.try_find_child("Copy") is None
