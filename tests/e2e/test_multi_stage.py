"""The multi-stage example (``examples/multi_stage_app.py``): dev -> staging -> prod in one CDK app.

Synthesised in-process: the stack dependencies give the deploy order, each template passes cfn-lint.
Then both modes run on emulated AWS in that order: prod promoted from the dev version, and then (the
chained mode, with staging's copy given as context) prod promoted from staging's copy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from emulator import custom_labels
from tests.conftest import REGION, cfn_lint_errors

DEV, STAGING, PROD = "111111111111", "333333333333", "222222222222"


def _pipeline(context: Mapping[str, Any] | None = None, outdir: Path | None = None) -> Any:
    from examples import multi_stage_app

    return multi_stage_app.build_pipeline(context, outdir=str(outdir) if outdir else None)


def deploy_order(stacks: list[Any]) -> list[str]:
    """Stack names in an order that respects ``stack.dependencies`` (what ``cdk deploy --all`` does)."""
    order: list[str] = []
    pending = {s.stack_name: {d.stack_name for d in s.dependencies} for s in stacks}
    while pending:
        ready = sorted(name for name, needs in pending.items() if needs <= set(order))
        assert ready, f"dependency cycle among {sorted(pending)}"
        order.append(ready[0])
        del pending[ready[0]]
    return order


def _policy_principals(template: Any) -> list[str]:
    (policy,) = template.find_resources("Custom::RekognitionProjectPolicy").values()
    document = json.loads(policy["Properties"]["PolicyDocument"])
    return sorted(s["Principal"]["AWS"] for s in document["Statement"])


@pytest.fixture(scope="module")
def pipeline() -> Any:
    return _pipeline()


def test_stages_deploy_dev_then_staging_then_prod(pipeline: Any) -> None:
    from examples import multi_stage_app as example

    assert [d.stack_name for d in pipeline.staging.dependencies] == [example.DEV_STACK_NAME]
    assert example.STAGING_STACK_NAME in [d.stack_name for d in pipeline.prod.dependencies]
    assert deploy_order([pipeline.prod, pipeline.staging, pipeline.dev]) == [
        example.DEV_STACK_NAME,
        example.STAGING_STACK_NAME,
        example.PROD_STACK_NAME,
    ]
    assert (pipeline.dev.account, pipeline.staging.account, pipeline.prod.account) == (DEV, STAGING, PROD)
    assert not pipeline.chained


def test_each_template_passes_cfn_lint(pipeline: Any) -> None:
    from aws_cdk.assertions import Template

    for stack in (pipeline.dev, pipeline.staging, pipeline.prod):
        assert cfn_lint_errors(Template.from_stack(stack), REGION) == [], stack.stack_name


def test_by_default_one_dev_policy_lets_both_stages_copy_the_dev_version(pipeline: Any) -> None:
    from aws_cdk.assertions import Match, Template

    from examples import multi_stage_app as example

    dev = Template.from_stack(pipeline.dev)
    # the stages' accounts (the default principal); each stage's copy role alone may copy by its own policy
    assert _policy_principals(dev) == sorted([f"arn:aws:iam::{STAGING}:root", f"arn:aws:iam::{PROD}:root"])
    assert [pipeline.to_staging.principal_arn, pipeline.to_prod.principal_arn] == [
        f"arn:aws:iam::{STAGING}:root",
        f"arn:aws:iam::{PROD}:root",
    ]
    for stack in (pipeline.staging, pipeline.prod):
        Template.from_stack(stack).has_resource_properties(
            "Custom::RekognitionModelCopy",
            Match.object_like({"SourceProjectVersionArn": example.DEFAULT_SOURCE_VERSION_ARN}),
        )


def test_chained_mode_moves_prods_policy_to_staging() -> None:
    from aws_cdk.assertions import Match, Template

    from examples import multi_stage_app as example

    staging_project = f"arn:aws:rekognition:{REGION}:{STAGING}:project/staging-defects"
    staging_version = f"{staging_project}/version/defects.2026-11-01/1800000000001"
    chained = _pipeline(
        {"staging_project_arn": f"{staging_project}/1800000000000", "staging_version_arn": staging_version}
    )
    assert chained.chained
    assert deploy_order([chained.prod, chained.staging, chained.dev]) == [
        example.DEV_STACK_NAME,
        example.STAGING_STACK_NAME,
        example.PROD_STACK_NAME,
    ]
    assert _policy_principals(Template.from_stack(chained.dev)) == [chained.to_staging.principal_arn]
    assert _policy_principals(Template.from_stack(chained.staging)) == [chained.to_prod.principal_arn]
    Template.from_stack(chained.prod).has_resource_properties(
        "Custom::RekognitionModelCopy", Match.object_like({"SourceProjectVersionArn": staging_version})
    )
    for stack in (chained.dev, chained.staging, chained.prod):
        assert cfn_lint_errors(Template.from_stack(stack), REGION) == [], stack.stack_name


def test_chained_mode_needs_both_staging_values() -> None:
    from rekognition_model_copy import ModelCopyValidationError

    with pytest.raises(ModelCopyValidationError, match="both staging_project_arn and staging_version_arn"):
        _pipeline({"staging_version_arn": "arn:aws:rekognition:us-east-1:333333333333:project/x/version/y/1"})


# --- On emulated AWS ---------------------------------------------------------------------------------------


def _synth(context: dict[str, Any], outdir: Path) -> tuple[dict[str, dict[str, Any]], list[str], Path]:
    """Templates by stack name, the deploy order and the assembly directory (the asset root)."""
    pipeline = _pipeline({**context, "aws:cdk:enable-asset-metadata": True}, outdir)
    stacks = [pipeline.dev, pipeline.staging, pipeline.prod]
    assembly = pipeline.app.synth()
    templates = {s.stack_name: dict(assembly.get_stack_by_name(s.stack_name).template) for s in stacks}
    return templates, deploy_order(stacks), Path(assembly.directory)


def _source_of(stack: Any) -> str:
    copy = next(r for r in stack.resources.values() if r.type == "Custom::RekognitionModelCopy")
    version = copy.physical_id
    client = stack.session().client("rekognition")
    project_arn = version.split("/version/")[0]
    (project,) = [
        p
        for p in client.describe_projects()["ProjectDescriptions"]
        if p["ProjectArn"].startswith(project_arn + "/")
    ]
    (description,) = client.describe_project_versions(
        ProjectArn=project["ProjectArn"], VersionNames=[version.split("/")[-2]]
    )["ProjectVersionDescriptions"]
    return str(description["SourceProjectVersionArn"])


def test_both_modes_deploy_in_order_on_emulated_accounts(cloud: Any, tmp_path: Path) -> None:
    from examples import multi_stage_app as example

    project_arn, version_arn = custom_labels.seed_trained_version(DEV, REGION, "dev-defects", "defects.v1")
    context = {"source_project_arn": project_arn, "source_version_arn": version_arn}
    accounts = {
        example.DEV_STACK_NAME: DEV,
        example.STAGING_STACK_NAME: STAGING,
        example.PROD_STACK_NAME: PROD,
    }

    templates, order, assembly = _synth(context, tmp_path / "one")
    stacks = {
        name: cloud.stack(name, account_id=accounts[name], region=REGION, asset_root=assembly)
        for name in order
    }
    for name in order:
        assert stacks[name].create(templates[name]) == "CREATE_COMPLETE", name
    staging, prod = stacks[example.STAGING_STACK_NAME], stacks[example.PROD_STACK_NAME]
    assert _source_of(staging) == _source_of(prod) == version_arn

    # Chained: prod copies staging's copy (new version name: the source changes, so a new copy).
    chained_context = {
        **context,
        "staging_project_arn": staging.outputs["ProjectArn"],
        "staging_version_arn": staging.outputs["ProjectVersionArn"],
        "prod_version_name": "defects.v1-from-staging",
    }
    templates, order, assembly = _synth(chained_context, tmp_path / "two")
    for name in order:
        stacks[name].asset_root = assembly
        assert stacks[name].update(templates[name]) == "UPDATE_COMPLETE", name
    assert _source_of(prod) == staging.outputs["ProjectVersionArn"]
    assert prod.outputs["VersionName"] == "defects.v1-from-staging"

    for name in reversed(order):
        assert stacks[name].delete() == "DELETE_COMPLETE", name
