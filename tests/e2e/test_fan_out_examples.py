"""The fan-out examples (``examples/fan_out_app.py``): one dev version promoted to three prod accounts.

Both apps are synthesised once (module fixtures) and offline. The one-app version: each prod stack holds one
copy and deploys after the dev stack, which allows every prod account. The CDK Pipelines version: the
pipeline deploys the dev stage first and then the prod stages in one wave (one pipeline stage, the same run
order), the dev stage's policy allows every prod account. Every template passes cfn-lint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import REGION, cfn_lint_errors

PROD_ACCOUNTS = ("222222222222", "333333333333", "444444444444")


@pytest.fixture(scope="module")
def example() -> Any:
    from examples import fan_out_app

    assert fan_out_app.PROD_ACCOUNTS == PROD_ACCOUNTS
    return fan_out_app


@pytest.fixture(scope="module")
def fan_out(example: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    built = example.build_fan_out(outdir=str(tmp_path_factory.mktemp("fan-out")))
    built.app.synth()
    return built


@pytest.fixture(scope="module")
def pipeline(example: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    built = example.build_pipeline(outdir=str(tmp_path_factory.mktemp("pipeline")))
    built.app.synth()
    return built


def allowed(template: Template) -> set[tuple[str, str]]:
    """(principal, version ARN) pairs allowed by the template's project policies, however they are packed;
    each document within PutProjectPolicy's 2000 characters."""
    pairs = set()
    for policy in template.find_resources("Custom::RekognitionProjectPolicy").values():
        document = policy["Properties"]["PolicyDocument"]
        assert len(document) <= 2000
        for statement in json.loads(document)["Statement"]:
            assert statement["Effect"] == "Allow" and statement["Action"] == "rekognition:CopyProjectVersion"
            principals = statement["Principal"]["AWS"]
            for principal in [principals] if isinstance(principals, str) else principals:
                pairs.add((principal, statement["Resource"]))
    return pairs


def every_prod_account(example: Any) -> set[tuple[str, str]]:
    return {(f"arn:aws:iam::{account}:root", example.SOURCE_VERSION_ARN) for account in PROD_ACCOUNTS}


def holds_one_copy_of_the_dev_version(stack: Any, example: Any) -> None:
    template = Template.from_stack(stack)
    template.resource_count_is("Custom::RekognitionModelCopy", 1)
    template.has_resource_properties(
        "Custom::RekognitionModelCopy",
        Match.object_like(
            {"SourceProjectVersionArn": example.SOURCE_VERSION_ARN, "VersionName": example.VERSION_NAME}
        ),
    )


# --- One app, cdk deploy --all ---------------------------------------------------------------------------


def test_fan_out_each_prod_stack_holds_one_copy_and_deploys_after_dev(fan_out: Any, example: Any) -> None:
    assert [p.account for p in fan_out.prods] == list(PROD_ACCOUNTS)
    for prod in fan_out.prods:
        holds_one_copy_of_the_dev_version(prod, example)
        assert fan_out.dev in prod.dependencies, prod.stack_name


def test_fan_out_dev_stack_allows_every_prod_account(fan_out: Any, example: Any) -> None:
    assert allowed(Template.from_stack(fan_out.dev)) == every_prod_account(example)
    assert {p.principal_arn for p in fan_out.promotions} == {p for p, _ in every_prod_account(example)}


def test_fan_out_templates_pass_cfn_lint(fan_out: Any) -> None:
    for stack in (fan_out.dev, *fan_out.prods):
        assert cfn_lint_errors(Template.from_stack(stack), REGION) == [], stack.stack_name


# --- CDK Pipelines ---------------------------------------------------------------------------------------


def pipeline_stages(pipeline: Any) -> list[dict[str, Any]]:
    """The ``Stages`` of the synthesised ``AWS::CodePipeline::Pipeline``, in the order they run."""
    (resource,) = (
        Template.from_stack(pipeline.pipeline_stack).find_resources("AWS::CodePipeline::Pipeline").values()
    )
    stages: list[dict[str, Any]] = resource["Properties"]["Stages"]
    return stages


def deployments(stage: dict[str, Any]) -> dict[str, list[int]]:
    """CloudFormation stack name -> run orders of its actions (create the change set, execute it)."""
    found: dict[str, list[int]] = {}
    for action in stage["Actions"]:
        if action["ActionTypeId"]["Provider"] == "CloudFormation":
            found.setdefault(action["Configuration"]["StackName"], []).append(action["RunOrder"])
    return found


def test_pipeline_deploys_dev_first_then_every_prod_account_in_one_wave(pipeline: Any, example: Any) -> None:
    stages = pipeline_stages(pipeline)
    dev_stack = pipeline.dev.stack.stack_name
    prod_stacks = {prod.stack.stack_name for prod in pipeline.prods}
    assert len(prod_stacks) == len(PROD_ACCOUNTS)
    where = {name: index for index, stage in enumerate(stages) for name in deployments(stage)}
    assert set(where) == {dev_stack, *prod_stacks}
    assert stages[where[dev_stack]]["Name"] == example.DEV_STAGE_ID
    (wave,) = {where[name] for name in prod_stacks}  # one pipeline stage: the wave
    assert stages[wave]["Name"] == example.PROD_WAVE_ID
    assert where[dev_stack] < wave
    # side by side: every prod stack's change set is created, and then executed, at the same run order
    run_orders = {tuple(orders) for orders in deployments(stages[wave]).values()}
    assert run_orders == {(1, 2)}


def test_pipeline_prod_stages_hold_one_copy_each_and_dev_allows_every_prod_account(
    pipeline: Any, example: Any
) -> None:
    assert [prod.stack.account for prod in pipeline.prods] == list(PROD_ACCOUNTS)
    for prod in pipeline.prods:
        holds_one_copy_of_the_dev_version(prod.stack, example)
    assert pipeline.dev.stack.account == example.DEV_ACCOUNT
    assert allowed(Template.from_stack(pipeline.dev.stack)) == every_prod_account(example)


# cfn-lint 1.x reports its informational I1022 ("Prefer using Fn::Sub over Fn::Join with an empty
# delimiter") under the error rule E3703 when it validates a CodePipeline action's Configuration: CDK
# Pipelines writes each deploy action's RoleArn as Fn::Join (arn:${AWS::Partition}:...). A style hint, not an
# error; only it is let through, and only on the pipeline stack.
_STYLE_HINT = "Prefer using Fn::Sub over Fn::Join with an empty delimiter"


def test_pipeline_templates_pass_cfn_lint(pipeline: Any) -> None:
    found = cfn_lint_errors(Template.from_stack(pipeline.pipeline_stack), REGION)
    assert [e for e in found if not (e.startswith("[E3703:") and _STYLE_HINT in e)] == []
    for stack in (pipeline.dev.stack, *(prod.stack for prod in pipeline.prods)):
        assert cfn_lint_errors(Template.from_stack(stack), REGION) == [], stack.stack_name


def test_pipeline_synthesises_without_lookups(pipeline: Any) -> None:
    """Offline: no context lookups were needed (none reported missing), every stage has its assembly."""
    for assembly in (pipeline.app.synth(), *(s.synth() for s in (pipeline.dev, *pipeline.prods))):
        manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
        assert "missing" not in manifest, manifest.get("missing")
