"""Tags as on every taggable CDK resource: ``Tags.of(scope).add(...)`` reaches the copied model version,
merged with the ``tags`` argument, checked when the app synthesises, and applied by the handler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Tags
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from emulator import custom_labels
from rekognition_model_copy import RESOURCE_TYPE, RekognitionModelCopy
from rekognition_model_copy.contract import OWNER_TAG

from .conftest import ACCOUNT, ENV, REGION, valid_kwargs

KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _tagged_stack(app: App, **tags: str) -> tuple[Stack, RekognitionModelCopy]:
    return _stack_tagged_with(app, tags)


def _stack_tagged_with(
    app: App, tags: dict[str, str], keyed: bool = False
) -> tuple[Stack, RekognitionModelCopy]:
    stack = Stack(app, "Tagged", env=ENV)
    extra: dict[str, Any] = {"tags": {"stage": "prod"}}
    if keyed:
        extra["encryption_key"] = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    copy = RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack, **extra))  # type: ignore[arg-type]
    for key, value in tags.items():
        Tags.of(stack).add(key, value)
    return stack, copy


def test_a_stack_tag_reaches_the_copy_merged_with_the_tags_argument() -> None:
    stack, _ = _tagged_stack(App(), team="vision")
    Template.from_stack(stack).has_resource_properties(
        RESOURCE_TYPE, {"Tags": {"stage": "prod", "team": "vision"}}
    )


def test_a_tag_of_the_same_key_from_tags_of_wins_as_for_every_cdk_resource() -> None:
    stack, copy = _tagged_stack(App(), stage="staging")
    Template.from_stack(stack).has_resource_properties(RESOURCE_TYPE, {"Tags": {"stage": "staging"}})
    assert copy.tags.tag_values() == {"stage": "staging"}


def test_tags_of_with_the_resource_type_excluded_leaves_the_copy_alone() -> None:
    app = App()
    stack, _ = _tagged_stack(app)
    Tags.of(stack).add("team", "vision", exclude_resource_types=[RESOURCE_TYPE])
    Template.from_stack(stack).has_resource_properties(RESOURCE_TYPE, {"Tags": {"stage": "prod"}})


def test_a_copy_without_tags_has_no_tags_property() -> None:
    stack = Stack(App(), "Untagged", env=ENV)
    RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    Template.from_stack(stack).has_resource_properties(RESOURCE_TYPE, {"Tags": Match.absent()})


def test_the_owner_tag_from_tags_of_fails_the_synthesis() -> None:
    app = App()
    _tagged_stack(app, **{OWNER_TAG: "someone"})
    with pytest.raises(RuntimeError, match=rf"Tagged/Copy.*{OWNER_TAG}.*reserved.*Tags\.of"):
        app.synth()


def test_more_than_199_tags_in_all_fail_the_synthesis() -> None:
    app = App()
    _tagged_stack(app, **{f"k{i}": "v" for i in range(199)})  # 200 with the argument's "stage"
    with pytest.raises(RuntimeError, match=r"at most 199 tags.*got 200"):
        app.synth()


def test_199_tags_in_all_synthesise() -> None:
    app = App()
    stack, _ = _tagged_stack(app, **{f"k{i}": "v" for i in range(198)})
    app.synth()
    assert len(Template.from_stack(stack).find_resources(RESOURCE_TYPE)) == 1


def test_with_an_encryption_key_199_tags_in_all_fail_the_synthesis_and_198_synthesise() -> None:
    app = App()
    _stack_tagged_with(app, {f"k{i}": "v" for i in range(198)}, keyed=True)  # 199 with "stage"
    with pytest.raises(RuntimeError, match=r"at most 198 tags.*encryption_key.*got 199"):
        app.synth()
    app = App()
    stack, _ = _stack_tagged_with(app, {f"k{i}": "v" for i in range(197)}, keyed=True)
    app.synth()
    assert len(Template.from_stack(stack).find_resources(RESOURCE_TYPE)) == 1


def test_a_stack_tag_reaches_the_copied_version_on_emulated_aws(cloud: Any, tmp_path: Path) -> None:
    """A fresh app with a stack tag, synthesised and deployed: the emulated version carries the tag."""
    project_arn, version_arn = custom_labels.seed_trained_version(
        ACCOUNT, REGION, "dev-defects", "defects.v1"
    )
    app = App(outdir=str(tmp_path), context={"aws:cdk:enable-asset-metadata": True})
    stack = Stack(app, "TaggedModel", env=ENV)
    RekognitionModelCopy(
        stack,
        "Copy",
        source_project_arn=project_arn,
        source_project_version_arn=version_arn,
        destination_project=rekognition.CfnProject(stack, "Project", project_name="prod-defects"),
        version_name="defects-prod-1",
        output_bucket=s3.Bucket(stack, "Output"),
        tags={"stage": "prod"},
    )
    Tags.of(stack).add("team", "vision")
    assembly = app.synth()

    deployed = cloud.stack("TaggedModel", account_id=ACCOUNT, region=REGION, asset_root=assembly.directory)
    assert deployed.create(dict(assembly.get_stack_by_name("TaggedModel").template)) == "CREATE_COMPLETE"
    (copy,) = [r for r in deployed.resources.values() if r.type == RESOURCE_TYPE]
    client = deployed.session().client("rekognition")
    tags = client.list_tags_for_resource(ResourceArn=copy.physical_id)["Tags"]
    assert {key: value for key, value in tags.items() if key != OWNER_TAG} == {
        "stage": "prod",
        "team": "vision",
    }
    assert OWNER_TAG in tags
    assert deployed.delete() == "DELETE_COMPLETE"
