"""Plain CloudFormation users: the provider stack exports the ServiceToken, a YAML template imports it.

The provider stack is synthesised in-process from ``examples/provider_app.py`` (with asset metadata, as
the cdk CLI does), then the checked-in ``examples/model-copy.yaml`` runs through the lifecycle driver on
emulated AWS: create, a tag change and a start in place, delete. Parameter values are given the way
``aws cloudformation deploy --parameter-overrides`` does: the driver resolves a parameter to its value.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, MODEL_COPY_PROPERTIES, REGION, REPO, cfn_lint_errors, versions

YAML_TEMPLATE = REPO / "examples" / "model-copy.yaml"
EXPORT = "RekognitionModelCopy-ServiceToken"
DOCUMENTED_PROPERTIES = {"ServiceToken", "ServiceTimeout", *MODEL_COPY_PROPERTIES}


def load_yaml(path: Path = YAML_TEMPLATE) -> dict[str, Any]:
    """The template as CloudFormation reads it: short forms (!Ref, !GetAtt, !Sub, !ImportValue) expanded."""
    from cfnlint.decode import decode

    template, problems = decode(path)
    assert not problems, problems
    plain: dict[str, Any] = json.loads(json.dumps(template))  # cfn-lint's node types -> dicts, strings
    return plain


def with_parameters(template: dict[str, Any], **values: Any) -> dict[str, Any]:
    """``template`` deployed with these parameter values (the rest keep their defaults)."""
    rendered = copy.deepcopy(template)
    parameters = rendered["Parameters"]
    unknown = set(values) - set(parameters)
    assert not unknown, f"no such parameters: {unknown}"
    for name, value in values.items():
        parameters[name]["Default"] = value
    missing = [name for name, p in parameters.items() if "Default" not in p]
    assert not missing, f"parameters without a value: {missing}"
    return rendered


@pytest.fixture(scope="module")
def provider_assembly(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The provider stack's template and its cloud assembly directory (the asset root)."""
    from examples import provider_app

    outdir = tmp_path_factory.mktemp("provider-cdk-out")
    app = provider_app.build_app(
        {"account": DEST_ACCOUNT, "region": REGION, "aws:cdk:enable-asset-metadata": True}, outdir=str(outdir)
    )
    assembly = app.synth()
    stack = assembly.get_stack_by_name(provider_app.STACK_NAME)
    return dict(stack.template), Path(assembly.directory)


def test_the_yaml_template_is_cfn_lint_clean() -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(YAML_TEMPLATE.read_text(encoding="utf-8"), config=ManualArgs(regions=[REGION]))
    assert [str(m) for m in matches] == []


def test_the_yaml_declares_every_documented_property_and_attribute() -> None:
    template = load_yaml()
    resource = template["Resources"]["ModelCopy"]
    assert resource["Type"] == "Custom::RekognitionModelCopy"
    assert set(resource["Properties"]) == DOCUMENTED_PROPERTIES
    assert resource["Properties"]["ServiceToken"] == {"Fn::ImportValue": EXPORT}
    assert set(resource["Properties"]["OutputConfig"]) == {"S3Bucket", "S3KeyPrefix"}
    assert {name: output["Value"] for name, output in template["Outputs"].items()} == {
        attribute: {"Fn::GetAtt": ["ModelCopy", attribute]}
        for attribute in ("ProjectVersionArn", "VersionName", "Status")
    }
    types = {r["Type"] for r in template["Resources"].values()}
    assert types == {"AWS::Rekognition::Project", "AWS::S3::Bucket", "Custom::RekognitionModelCopy"}


def test_the_provider_stack_exports_the_service_token_and_lints_clean(
    provider_assembly: tuple[dict[str, Any], Path],
) -> None:
    from aws_cdk.assertions import Template

    template = Template.from_json(provider_assembly[0])
    template.has_output("ServiceToken", {"Export": {"Name": EXPORT}})
    template.resource_count_is("AWS::Lambda::Function", 1)
    assert cfn_lint_errors(template) == []


def test_yaml_copy_lifecycle_through_the_imported_service_token(
    cloud: Any, provider_assembly: tuple[dict[str, Any], Path]
) -> None:
    provider_template, assembly = provider_assembly
    source_project, source_version = custom_labels.seed_trained_version(
        DEST_ACCOUNT, REGION, "dev-defects", "defects.v1"
    )

    provider = cloud.stack(
        "RekognitionModelCopyProvider", account_id=DEST_ACCOUNT, region=REGION, asset_root=assembly
    )
    assert provider.create(provider_template) == "CREATE_COMPLETE"
    token = cloud.exports[EXPORT]
    assert token.startswith(f"arn:aws:lambda:{REGION}:{DEST_ACCOUNT}:function:")

    yaml_template = load_yaml()
    parameters = {
        "SourceProjectArn": source_project,
        "SourceProjectVersionArn": source_version,
        "VersionName": "defects-prod-1",
    }
    stack = cloud.stack("prod-model", account_id=DEST_ACCOUNT, region=REGION, asset_root=assembly)

    # Create: the copy is made by the provider stack's function, found through Fn::ImportValue.
    assert stack.create(with_parameters(yaml_template, **parameters)) == "CREATE_COMPLETE"
    arn = stack.resources["ModelCopy"].physical_id
    assert stack.outputs == {
        "ProjectVersionArn": arn,
        "VersionName": "defects-prod-1",
        "Status": "COPYING_COMPLETED",
    }
    assert {i.function for i in cloud.invocations} == {token.split(":")[-1]}  # the function name
    version = versions(stack)["defects-prod-1"]
    assert version["SourceProjectVersionArn"] == source_version
    assert version["OutputConfig"]["S3KeyPrefix"] == "rekognition-model-copy/defects-prod-1/"
    assert "KmsKeyId" not in version  # the empty KmsKeyId parameter: an AWS owned key
    client = stack.session().client("rekognition")
    tags = client.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert {k: v for k, v in tags.items() if not k.startswith("rekognition-model-copy:")} == {
        "team": "vision",
        "promoted-by": "rekognition-model-copy",
    }

    # Update: a tag change is applied in place (same physical id, no new copy).
    assert stack.update(with_parameters(yaml_template, **parameters, TeamTag="quality")) == "UPDATE_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == arn
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"]["team"] == "quality"
    assert list(versions(stack)) == ["defects-prod-1"]
    model_events = [e.status for e in cloud.events if e.stack == "prod-model" and e.logical_id == "ModelCopy"]
    assert model_events[-2:] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]

    # Update: start serving, in place.
    serving = with_parameters(yaml_template, **parameters, TeamTag="quality", MinInferenceUnits="1")
    assert stack.update(serving) == "UPDATE_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == arn
    assert stack.outputs["Status"] == "RUNNING"

    # Delete: the running copy is stopped and deleted, then the project and bucket go.
    assert stack.delete() == "DELETE_COMPLETE"
    assert versions(stack) == {}
    assert custom_labels.calls.count("StopProjectVersion", DEST_ACCOUNT) == 1
    assert provider.delete() == "DELETE_COMPLETE"


# --- The provider stack's permissions: broad by default, narrowed by its arguments ------------------------


def _provider_statements(**kwargs: Any) -> list[dict[str, Any]]:
    from aws_cdk import App, Environment
    from aws_cdk.assertions import Template

    from rekognition_model_copy import RekognitionModelCopyProviderStack

    stack = RekognitionModelCopyProviderStack(
        App(), "Provider", env=Environment(account=DEST_ACCOUNT, region=REGION), **kwargs
    )
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements if "Sid" in s}


def _flat(resource: Any) -> list[str]:
    """A statement's resources as strings (``Fn::Join`` with ``AWS::Partition`` read as ``aws``)."""
    resources = resource if isinstance(resource, list) else [resource]
    out = []
    for item in resources:
        if isinstance(item, dict):
            parts = item["Fn::Join"][1]
            item = "".join("aws" if p == {"Ref": "AWS::Partition"} else p for p in parts)
        out.append(item)
    return out


def test_provider_defaults_are_broad_but_only_for_model_copy_actions() -> None:
    sids = _by_sid(_provider_statements())
    assert _flat(sids["CopyProjectVersion"]["Resource"]) == [
        f"arn:aws:rekognition:{REGION}:*:project/*",
        f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/*/*",
    ]
    assert _flat(sids["ManageCopiedVersions"]["Resource"]) == [
        f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/*/version/*"
    ]
    assert _flat(sids["ManageProjectPolicies"]["Resource"]) == [
        f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/*"
    ]
    assert _flat(sids["OutputObjects"]["Resource"]) == ["arn:aws:s3:::*/*"]
    assert _flat(sids["UseKeys"]["Resource"]) == [f"arn:aws:kms:{REGION}:*:key/*"]
    assert sids["GrantKeysToAwsResources"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    actions = {
        a for s in sids.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not [a for a in actions if a.endswith("*")]


def test_provider_permissions_narrow_to_the_given_projects_buckets_and_keys() -> None:
    source = "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000"
    own_source = f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/staging-defects/1700000000009"
    key = f"arn:aws:kms:{REGION}:{DEST_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    source_key = "arn:aws:kms:us-east-1:111111111111:key/0000abcd-12ab-34cd-56ef-1234567890ab"
    sids = _by_sid(
        _provider_statements(
            destination_project_names=["prod-defects"],
            source_project_arns=[source, own_source],
            output_bucket_names=["prod-model-output"],
            kms_key_arns=[key],
            source_kms_key_arns=[source_key],
            role_name="prod-model-copier",
        )
    )
    assert _flat(sids["CopyProjectVersion"]["Resource"]) == [
        source,
        own_source,
        "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/*",
        f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/staging-defects/version/*",
        f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/prod-defects/*",
    ]
    assert sids["DestinationProjects"]["Action"] == [
        "rekognition:CreateProjectVersion",
        "rekognition:DescribeProjectVersions",
    ]
    # project policies only on this account's own projects, and a bar's read of their versions
    assert _flat(sids["ManageProjectPolicies"]["Resource"]) == [own_source]
    assert _flat(sids["CheckSourceQuality"]["Resource"]) == [own_source]
    assert sids["CheckSourceQuality"]["Action"] == "rekognition:DescribeProjectVersions"
    assert _flat(sids["OutputBuckets"]["Resource"]) == ["arn:aws:s3:::prod-model-output"]
    assert "Condition" not in sids["OutputBuckets"]
    assert _flat(sids["OutputObjects"]["Resource"]) == ["arn:aws:s3:::prod-model-output/*"]
    assert _flat(sids["UseKeys"]["Resource"]) == [key]
    assert _flat(sids["ReadSourceKeys"]["Resource"]) == [source_key]
    assert sids["ReadSourceKeys"]["Action"] == ["kms:DescribeKey", "kms:Decrypt"]
    assert _flat(sids["GrantKeysToAwsResources"]["Resource"]) == [key, source_key]


#: What every provider stack grants besides its copies and policies: reading the account's Lambda concurrency.
ALWAYS = {"ReadLambdaConcurrency"}


def test_provider_without_keys_or_destinations_grants_no_copies_and_no_kms() -> None:
    sids = _by_sid(_provider_statements(destination_project_names=[], kms_key_arns=[]))
    assert set(sids) == {"ManagePollingRules", "ManageProjectPolicies", "CheckSourceQuality", *ALWAYS}


def test_a_source_account_provider_narrowed_to_policies_may_read_its_projects_versions_for_a_bar() -> None:
    source = f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/dev-defects/1700000000000"
    sids = _by_sid(_provider_statements(destination_project_names=[], source_project_arns=[source]))
    assert set(sids) == {"ManagePollingRules", "ManageProjectPolicies", "CheckSourceQuality", *ALWAYS}
    assert _flat(sids["CheckSourceQuality"]["Resource"]) == [source]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"export_name": "has spaces"}, "export_name"),
        ({"destination_project_names": "prod-defects"}, "must be a list"),
        ({"destination_project_names": ["arn:aws:rekognition:x"]}, "no project name"),
        ({"source_project_arns": ["dev-defects"]}, "source_project_arns"),
        ({"output_bucket_names": ["s3://bucket"]}, "no bucket name"),
        ({"kms_key_arns": ["alias/models"]}, "no KMS key ARN"),
        ({"role_name": "x" * 65}, "role_name"),
    ],
)
def test_provider_rejects_scopes_that_can_never_match(kwargs: dict[str, Any], message: str) -> None:
    from aws_cdk import App

    from rekognition_model_copy import ModelCopyValidationError, RekognitionModelCopyProviderStack

    app = App()
    with pytest.raises(ModelCopyValidationError, match=message):
        RekognitionModelCopyProviderStack(app, "Provider", **kwargs)
    assert app.node.try_find_child("Provider") is None  # nothing was created
