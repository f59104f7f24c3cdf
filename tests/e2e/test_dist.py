"""What ``make dist`` hands over, used the way a CloudFormation user without CDK uses it.

- The function's zip is reproducible (the same sources give the same bytes, whatever their file times and
  modes) and carries the handler, crhelper and crhelper's licence;
- the plain provider template is cfn-lint clean, has nothing of CDK (no asset metadata, no bootstrap
  version, no CDKMetadata), takes the zip's location and every narrowing argument of the CDK provider
  stack as parameters, and names the version in its Description;
- it never drifts from the CDK provider stack: both are deployed on the lifecycle driver with the same
  narrowing, and their roles get the same permissions (read back from emulated IAM);
- on the driver, with no CDK involved: the zip uploaded to an emulated bucket of each account, the plain
  provider template deployed in the source account (narrowed to project policies) and in the destination
  account (narrowed to its project and bucket), the example policy template with a quality bar in the
  source account and the example copy template in the destination account: promotion, updates (a bar the
  version does not meet is refused and rolled back), delete.
  Without the source provider's DescribeProjectVersions grant, the bar is denied.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from emulator import custom_labels
from emulator.cloudformation import CloudFormation
from tests.conftest import DEST_ACCOUNT, REGION, REPO, SOURCE_ACCOUNT, pyproject_version, versions
from tools import dist, provider_template

SOURCE_PROJECT = f"arn:aws:rekognition:{REGION}:{SOURCE_ACCOUNT}:project/dev-defects/1700000000000"
OWN_PROJECT = f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/staging-defects/1700000000009"
KEY = f"arn:aws:kms:{REGION}:{DEST_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SOURCE_KEY = f"arn:aws:kms:{REGION}:{SOURCE_ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab"
CDK_ARGUMENTS = {
    "export_name": "ExportName",
    "destination_project_names": "DestinationProjectNames",
    "source_project_arns": "SourceProjectArns",
    "output_bucket_names": "OutputBucketNames",
    "kms_key_arns": "KmsKeyArns",
    "source_kms_key_arns": "SourceKmsKeyArns",
    "role_name": "RoleName",
}
"""Each narrowing argument of RekognitionModelCopyProviderStack and its plain template parameter."""
FUNCTION_OPTIONS = {
    "vpc",
    "vpc_subnets",
    "security_groups",
    "role",
    "reserved_concurrent_executions",
    "log_group",
    "environment_encryption",
    "dead_letter_queue",
}
"""The stack's arguments that set the function up (``RekognitionModelCopyProvider.of``'s options)."""


def load_yaml(path: Path) -> dict[str, Any]:
    """A template as CloudFormation reads it (short forms expanded), as plain dicts."""
    from cfnlint.decode import decode

    template, problems = decode(path)
    assert not problems, problems
    plain: dict[str, Any] = json.loads(json.dumps(template))
    return plain


def with_parameters(template: dict[str, Any], **values: Any) -> dict[str, Any]:
    """``template`` deployed with these parameter values (lists comma-joined, as the CLI takes them)."""
    rendered = copy.deepcopy(template)
    parameters = rendered["Parameters"]
    assert set(values) <= set(parameters), set(values) - set(parameters)
    for name, value in values.items():
        parameters[name]["Default"] = ",".join(value) if isinstance(value, list) else value
    missing = [name for name, p in parameters.items() if "Default" not in p]
    assert not missing, f"parameters without a value: {missing}"
    return rendered


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip, the plain template and the examples, as ``make dist`` writes them (the wheel has its own
    tests in test_wheel.py)."""
    out = tmp_path_factory.mktemp("dist")
    dist.build_zip(out)
    dist.build_template(out)
    for example in dist.EXAMPLES:
        shutil.copyfile(REPO / "examples" / example, out / example)
    return out


def zip_path(out: Path) -> Path:
    return out / provider_template.zip_name(pyproject_version())


# --- The zip ----------------------------------------------------------------------------------------------


def test_the_zip_is_named_by_the_version_and_holds_the_handler_and_crhelper_with_its_licence(
    built: Path,
) -> None:
    with zipfile.ZipFile(zip_path(built)) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {
            "index.py",
            "cfn/polling.py",
            "resources/model_copy.py",
            "crhelper/__init__.py",
            "crhelper/LICENSE",
            "crhelper/NOTICE",
        } <= set(names)
        assert not [n for n in names if n.startswith("test_") or "__pycache__" in n]
        for info in archive.infolist():
            assert info.date_time == dist.ZIP_TIMESTAMP
            assert info.external_attr >> 16 == 0o100644
        assert archive.read("index.py") == (REPO / "lambda" / "index.py").read_bytes()


def test_the_same_sources_give_the_same_zip_bytes(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    again.mkdir()
    assert zip_path(built).read_bytes() == dist.build_zip(again).read_bytes()

    # Other file times and modes, another directory: the same bytes.
    code = tmp_path / "code"
    with zipfile.ZipFile(zip_path(built)) as archive:
        archive.extractall(code)
    for i, path in enumerate(sorted(code.rglob("*.py"))):
        os.utime(path, (1_800_000_000 + i, 1_800_000_000 + i))
        path.chmod(0o755 if i % 2 else 0o600)
    assert dist.write_reproducible_zip(code, tmp_path / "b.zip").read_bytes() == zip_path(built).read_bytes()

    # A changed source: other bytes.
    (code / "index.py").write_text((code / "index.py").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert dist.write_reproducible_zip(code, tmp_path / "c.zip").read_bytes() != zip_path(built).read_bytes()


# --- The plain provider template ----------------------------------------------------------------------------


def test_the_plain_template_is_cfn_lint_clean_without_warnings(built: Path) -> None:
    from cfnlint.api import ManualArgs, lint

    for name in (dist.TEMPLATE_NAME, *dist.EXAMPLES):
        matches = lint((built / name).read_text(encoding="utf-8"), config=ManualArgs(regions=[REGION]))
        assert [str(m) for m in matches] == [], name


def test_the_plain_template_has_nothing_of_cdk_and_names_the_version(built: Path) -> None:
    text = (built / dist.TEMPLATE_NAME).read_text(encoding="utf-8")
    for cdk in ("aws:cdk", "CDKMetadata", "BootstrapVersion", "cdk-hnb659fds", "AssetParameters"):
        assert cdk not in text
    template = load_yaml(built / dist.TEMPLATE_NAME)
    assert pyproject_version() in template["Description"]
    assert not [r for r in template["Resources"].values() if "Metadata" in r]
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert function["Properties"]["Code"] == {
        "S3Bucket": {"Ref": "CodeS3Bucket"},
        "S3Key": {"Ref": "CodeS3Key"},
    }
    assert template["Parameters"]["CodeS3Key"]["Default"] == zip_path(built).name


def test_the_plain_template_takes_every_narrowing_argument_of_the_cdk_provider_stack(built: Path) -> None:
    import inspect

    from rekognition_model_copy import RekognitionModelCopyProviderStack

    keyword_only = {
        name
        for name, p in inspect.signature(RekognitionModelCopyProviderStack.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    # The function's options (RekognitionModelCopyProvider.of's) are parameters of their own, with other
    # names and types (test_the_plain_template_takes_the_provider_options).
    assert keyword_only - FUNCTION_OPTIONS == set(CDK_ARGUMENTS)
    parameters = load_yaml(built / dist.TEMPLATE_NAME)["Parameters"]
    options = set(provider_template.OPTIONS)
    assert set(parameters) == {"CodeS3Bucket", "CodeS3Key", *CDK_ARGUMENTS.values(), *options}
    lists = {name: p["Default"] for name, p in parameters.items() if p["Type"] == "CommaDelimitedList"}
    assert {name: default for name, default in lists.items() if name not in options} == {
        "DestinationProjectNames": "*",
        "SourceProjectArns": "*",
        "OutputBucketNames": "*",
        "KmsKeyArns": "*",
        "SourceKmsKeyArns": "",
    }


# --- No drift: the plain template's role gets what the CDK provider stack's role gets -----------------------

NARROWINGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "narrowed": {
        "destination_project_names": ["prod-defects", "qa-*"],
        "source_project_arns": [SOURCE_PROJECT, OWN_PROJECT],
        "output_bucket_names": ["prod-model-output"],
        "kms_key_arns": [KEY],
        "source_kms_key_arns": [SOURCE_KEY],
        "role_name": "prod-model-copier",
    },
    "policies only": {
        "destination_project_names": [],
        "source_project_arns": [OWN_PROJECT],
        "output_bucket_names": [],
        "kms_key_arns": [],
    },
    "cross-account sources only, no keys, any source key": {
        "source_project_arns": [SOURCE_PROJECT],
        "kms_key_arns": [],
        "source_kms_key_arns": ["*"],
    },
    "any source and a named one, no buckets": {
        "source_project_arns": ["*", OWN_PROJECT],
        "output_bucket_names": [],
    },
    "no sources": {"source_project_arns": []},
    "ten of each": {
        "destination_project_names": [f"prod-{i}" for i in range(10)],
        "source_project_arns": [SOURCE_PROJECT.replace("dev-defects", f"dev-{i}") for i in range(5)]
        + [OWN_PROJECT.replace("staging-defects", f"staging-{i}") for i in range(5)],
        "output_bucket_names": [f"bucket-{i}" for i in range(10)],
        "kms_key_arns": [KEY.replace("1234abcd", f"{i:04d}abcd") for i in range(10)],
        "source_kms_key_arns": [SOURCE_KEY.replace("0000abcd", f"{i:04d}abcd") for i in range(10)],
    },
}
MAX_INLINE_POLICY_CHARACTERS = 10_240
"""IAM's quota on the size of a role's inline policies, together (whitespace not counted): "IAM and AWS STS
quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html."""


def inline_policy_size(cloud: CloudFormation, stack: Any) -> int:
    iam = cloud.session(stack.account_id, stack.region).client("iam")
    (role,) = [r for r in stack.resources.values() if r.type == "AWS::IAM::Role"]
    size = 0
    for name in iam.list_role_policies(RoleName=role.physical_id)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role.physical_id, PolicyName=name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        size += len(json.dumps(document, separators=(",", ":")))
    return size


def role_permissions(cloud: CloudFormation, stack: Any) -> dict[tuple[Any, ...], set[str]]:
    """The stack's function role's policies in emulated IAM: for each action and condition, the resources
    granted (the stack's own log group written as ``<log group>``). Allow statements add up, so two roles
    with the same map grant the same, however their statements group the actions."""
    iam = cloud.session(stack.account_id, stack.region).client("iam")
    (role,) = [r for r in stack.resources.values() if r.type == "AWS::IAM::Role"]
    (log_group,) = [r for r in stack.resources.values() if r.type == "AWS::Logs::LogGroup"]
    documents = [
        iam.get_role_policy(RoleName=role.physical_id, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role.physical_id)["PolicyNames"]
    ]
    for attached in iam.list_attached_role_policies(RoleName=role.physical_id)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        documents.append(
            iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])[
                "PolicyVersion"
            ]["Document"]
        )
    granted: dict[tuple[Any, ...], set[str]] = {}
    for document in documents:
        document = json.loads(document) if isinstance(document, str) else document
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            assert resources, statement
            for action in actions:
                granted.setdefault((action, condition), set()).update(
                    r.replace(log_group.attributes["Arn"], "<log group>") for r in resources
                )
    return granted


@pytest.mark.parametrize("narrowing", NARROWINGS.values(), ids=list(NARROWINGS))
def test_the_plain_template_grants_what_the_cdk_provider_stack_grants(
    cloud: CloudFormation, built: Path, tmp_path: Path, narrowing: dict[str, Any]
) -> None:
    from examples import provider_app

    assembly = provider_app.build_app(
        {"account": DEST_ACCOUNT, "region": REGION, "aws:cdk:enable-asset-metadata": True, **narrowing},
        outdir=str(tmp_path / "cdk.out"),
    ).synth()
    cdk_stack = cloud.stack(
        "CdkProvider", account_id=DEST_ACCOUNT, region=REGION, asset_root=assembly.directory
    )
    assert (
        cdk_stack.create(dict(assembly.get_stack_by_name(provider_app.STACK_NAME).template))
        == "CREATE_COMPLETE"
    )

    bucket = upload_zip(cloud, DEST_ACCOUNT, built)
    parameters: dict[str, Any] = {CDK_ARGUMENTS[k]: v for k, v in narrowing.items() if k != "role_name"}
    if "role_name" in narrowing:
        parameters["RoleName"] = narrowing["role_name"] + "-plain"  # role names are unique in an account
    plain = cloud.stack("PlainProvider", account_id=DEST_ACCOUNT, region=REGION, asset_root=tmp_path)
    template = with_parameters(
        load_yaml(built / dist.TEMPLATE_NAME),
        CodeS3Bucket=bucket,
        ExportName="Plain-ServiceToken",
        **parameters,
    )
    assert plain.create(template) == "CREATE_COMPLETE", [e.reason for e in cloud.events if e.reason]

    assert role_permissions(cloud, plain) == role_permissions(cloud, cdk_stack)
    # The plain template's statements are one inline policy: ten items of every list still fit IAM's quota.
    assert inline_policy_size(cloud, plain) <= MAX_INLINE_POLICY_CHARACTERS
    if "role_name" in narrowing:
        (role,) = [r for r in plain.resources.values() if r.type == "AWS::IAM::Role"]
        assert role.physical_id == parameters["RoleName"]
    assert plain.delete() == "DELETE_COMPLETE"
    assert cdk_stack.delete() == "DELETE_COMPLETE"


# --- On the driver, without CDK: the dist template, the zip in S3, the example templates -------------------


def upload_zip(cloud: CloudFormation, account: str, built: Path) -> str:
    """An artifacts bucket of ``account`` holding the zip under its own name; returns the bucket."""
    bucket = f"artifacts-{account}"
    s3 = cloud.session(account, REGION).client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=zip_path(built).name, Body=zip_path(built).read_bytes())
    return bucket


def deploy_provider(cloud: CloudFormation, account: str, built: Path, root: Path, **narrowing: Any) -> Any:
    bucket = upload_zip(cloud, account, built)
    template = with_parameters(load_yaml(built / dist.TEMPLATE_NAME), CodeS3Bucket=bucket, **narrowing)
    return deploy_plain_provider(cloud, account, root, template)


def deploy_plain_provider(cloud: CloudFormation, account: str, root: Path, template: dict[str, Any]) -> Any:
    provider = cloud.stack("RekognitionModelCopyProvider", account_id=account, region=REGION, asset_root=root)
    assert provider.create(template) == "CREATE_COMPLETE", [e.reason for e in cloud.events if e.reason]
    return provider


def test_promotion_update_and_delete_with_the_dist_templates_and_no_cdk(
    cloud: CloudFormation, built: Path, tmp_path: Path
) -> None:
    source_project, source_version = custom_labels.seed_trained_version(
        SOURCE_ACCOUNT, REGION, "dev-defects", "defects.v1", f1_score=0.95
    )
    bucket_name = f"prod-model-output-{DEST_ACCOUNT}"
    source_provider = deploy_provider(
        cloud,
        SOURCE_ACCOUNT,
        built,
        tmp_path / "source",
        DestinationProjectNames="",
        SourceProjectArns=[source_project],
        OutputBucketNames="",
        KmsKeyArns="",
    )
    dest_provider = deploy_provider(
        cloud,
        DEST_ACCOUNT,
        built,
        tmp_path / "dest",
        DestinationProjectNames=["prod-defects"],
        SourceProjectArns=[source_project],
        OutputBucketNames=[bucket_name],
        KmsKeyArns="",
    )
    assert not [s for s in cloud.events if s.status.endswith("FAILED")]

    # Source account: the policy, put only after the version met the bar (read with DescribeProjectVersions).
    policy_template = load_yaml(built / "project-policy.yaml")
    policy_parameters = {
        "SourceProjectArn": source_project,
        "SourceProjectVersionArn": source_version,
        "DestinationAccountId": DEST_ACCOUNT,
        "MinF1Score": "0.9",
    }
    policy = cloud.stack("dev-model-policy", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=tmp_path)
    assert policy.create(with_parameters(policy_template, **policy_parameters)) == "CREATE_COMPLETE"
    assert custom_labels.calls.count("DescribeProjectVersions", SOURCE_ACCOUNT) >= 1
    revision = policy.outputs["PolicyRevisionId"]

    # Destination account: the copy into its project and named bucket, through the imported ServiceToken.
    copy_template = load_yaml(built / "model-copy.yaml")
    copy_parameters = {
        "SourceProjectArn": source_project,
        "SourceProjectVersionArn": source_version,
        "VersionName": "defects-prod-1",
        "OutputBucketName": bucket_name,
    }
    model = cloud.stack("prod-model", account_id=DEST_ACCOUNT, region=REGION, asset_root=tmp_path)
    assert model.create(with_parameters(copy_template, **copy_parameters)) == "CREATE_COMPLETE"
    first = model.resources["ModelCopy"].physical_id
    assert model.outputs["Status"] == "COPYING_COMPLETED"
    version = versions(model)["defects-prod-1"]
    assert version["SourceProjectVersionArn"] == source_version
    assert version["OutputConfig"] == {
        "S3Bucket": bucket_name,
        "S3KeyPrefix": "rekognition-model-copy/defects-prod-1/",
    }

    # Updates: a tag in place; a new version name is a new copy, the old one deleted in the cleanup.
    assert (
        model.update(with_parameters(copy_template, **copy_parameters, TeamTag="quality"))
        == "UPDATE_COMPLETE"
    )
    assert model.resources["ModelCopy"].physical_id == first
    client = model.session().client("rekognition")
    assert client.list_tags_for_resource(ResourceArn=first)["Tags"]["team"] == "quality"
    renamed = {**copy_parameters, "VersionName": "defects-prod-2"}
    assert model.update(with_parameters(copy_template, **renamed, TeamTag="quality")) == "UPDATE_COMPLETE"
    assert model.resources["ModelCopy"].physical_id != first
    assert list(versions(model)) == ["defects-prod-2"]

    # A bar the version does not meet: the update fails with the score in its reason and rolls back.
    assert policy.update(with_parameters(policy_template, **{**policy_parameters, "MinF1Score": "0.99"})) == (
        "UPDATE_ROLLBACK_COMPLETE"
    )
    (refused,) = [e for e in cloud.events if e.logical_id == "ProjectPolicy" and e.status == "UPDATE_FAILED"]
    assert "0.95" in refused.reason and "0.99" in refused.reason, refused.reason

    # The policy updated in place: a higher bar, checked again (the version still meets it). The policy's
    # document does not name the bar, so nothing is put and the revision stays.
    reads = custom_labels.calls.count("DescribeProjectVersions", SOURCE_ACCOUNT)
    assert policy.update(with_parameters(policy_template, **{**policy_parameters, "MinF1Score": "0.95"})) == (
        "UPDATE_COMPLETE"
    )
    assert custom_labels.calls.count("DescribeProjectVersions", SOURCE_ACCOUNT) > reads
    assert policy.outputs["PolicyRevisionId"] == revision
    source_client = cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition")
    on_project = source_client.list_project_policies(ProjectArn=source_project)["ProjectPolicies"]
    assert [p["PolicyRevisionId"] for p in on_project] == [revision]

    # Delete: the copy, the policy, then the providers.
    assert model.delete() == "DELETE_COMPLETE"
    assert versions(model) == {}
    assert policy.delete() == "DELETE_COMPLETE"
    assert source_client.list_project_policies(ProjectArn=source_project)["ProjectPolicies"] == []
    assert dest_provider.delete() == "DELETE_COMPLETE"
    assert source_provider.delete() == "DELETE_COMPLETE"


def test_without_describe_project_versions_the_source_providers_bar_is_denied(
    cloud: CloudFormation, built: Path, tmp_path: Path
) -> None:
    """The same source provider with the CheckSourceQuality statement taken out: the policy's bar cannot
    read the version, so the policy is refused (the grant above is what makes MinF1Score work)."""
    source_project, source_version = custom_labels.seed_trained_version(
        SOURCE_ACCOUNT, REGION, "dev-defects", "defects.v1", f1_score=0.95
    )
    bucket = upload_zip(cloud, SOURCE_ACCOUNT, built)
    template = with_parameters(
        load_yaml(built / dist.TEMPLATE_NAME),
        CodeS3Bucket=bucket,
        DestinationProjectNames="",
        SourceProjectArns=[source_project],
        OutputBucketNames="",
        KmsKeyArns="",
    )
    (policy_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Policy"]
    statements = template["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]
    kept = [s for s in statements if "CheckSourceQuality" not in json.dumps(s)]
    assert len(kept) == len(statements) - 1
    template["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"] = kept
    deploy_plain_provider(cloud, SOURCE_ACCOUNT, tmp_path, template)

    policy = cloud.stack("dev-model-policy", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=tmp_path)
    parameters = {
        "SourceProjectArn": source_project,
        "SourceProjectVersionArn": source_version,
        "DestinationAccountId": DEST_ACCOUNT,
        "MinF1Score": "0.9",
    }
    assert policy.create(with_parameters(load_yaml(built / "project-policy.yaml"), **parameters)) == (
        "ROLLBACK_COMPLETE"
    )
    (failed,) = [e for e in cloud.events if e.logical_id == "ProjectPolicy" and e.status == "CREATE_FAILED"]
    assert "DescribeProjectVersions" in failed.reason, failed.reason


def test_the_zip_from_s3_is_what_the_function_runs(
    cloud: CloudFormation, built: Path, tmp_path: Path
) -> None:
    provider = deploy_provider(cloud, DEST_ACCOUNT, built, tmp_path)
    (function,) = cloud.functions.values()
    with zipfile.ZipFile(io.BytesIO(zip_path(built).read_bytes())) as archive:
        for name in archive.namelist():
            assert (function.asset_dir / name).read_bytes() == archive.read(name)
    assert provider.delete() == "DELETE_COMPLETE"


def test_the_plain_provider_leaves_lambda_no_retry_of_the_functions_invocations(
    cloud: CloudFormation, built: Path, tmp_path: Path
) -> None:
    template = load_yaml(built / dist.TEMPLATE_NAME)
    (config,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert config["Properties"]["MaximumRetryAttempts"] == 0
    provider = deploy_provider(cloud, DEST_ACCOUNT, built, tmp_path)
    (function,) = cloud.functions.values()
    assert function.max_retry_attempts == 0  # as emulated Lambda runs it, from the deployed template
    assert provider.delete() == "DELETE_COMPLETE"


def test_the_plain_template_refuses_subnets_without_security_groups_and_the_reverse(built: Path) -> None:
    """Lambda takes subnets and security groups together: a template Rule refuses one without the other
    before anything is made (the driver does not evaluate Rules: the assertion is read from the template)."""
    rules = load_yaml(built / dist.TEMPLATE_NAME)["Rules"]
    (assertion,) = rules["SubnetIdsWithSecurityGroupIds"]["Assertions"]
    none = {"Fn::And": [{"Fn::Contains": [{"Ref": p}, ""]} for p in ("SubnetIds", "SecurityGroupIds")]}
    assert none in assertion["Assert"]["Fn::Or"]
    assert "both or neither" in assertion["AssertDescription"]


def test_the_plain_template_takes_the_provider_options(
    cloud: CloudFormation, built: Path, tmp_path: Path
) -> None:
    """The options of ``RekognitionModelCopyProvider.of`` as parameters: every one set, the function and
    its permissions read back from the emulated services."""
    session = cloud.session(DEST_ACCOUNT, REGION)
    ec2, iam, sqs = session.client("ec2"), session.client("iam"), session.client("sqs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(VpcId=vpc, GroupName="model-copy", Description="model copy")["GroupId"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role_arn = iam.create_role(RoleName="platform-model-copy", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    session.client("logs").create_log_group(logGroupName="/platform/model-copy")
    key = session.client("kms").create_key()["KeyMetadata"]["Arn"]
    queue_url = sqs.create_queue(QueueName="model-copy-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    queue = attributes["QueueArn"]

    provider = deploy_provider(
        cloud,
        DEST_ACCOUNT,
        built,
        tmp_path,
        SubnetIds=[subnet],
        SecurityGroupIds=[group],
        RoleArn=role_arn,
        ReservedConcurrentExecutions="5",
        LogGroupName="/platform/model-copy",
        EnvironmentKmsKeyArn=key,
        DeadLetterQueueArn=queue,
    )
    made = {r.type for r in provider.resources.values()}
    assert not made & {"AWS::IAM::Role", "AWS::Logs::LogGroup"}
    # The function as CloudFormation creates it (the driver runs functions itself, not in emulated Lambda):
    # its properties resolved with these parameters, and the role it runs as.
    (function_id,) = [k for k, r in provider.resources.items() if r.type == "AWS::Lambda::Function"]
    properties = provider.resolve(provider.template["Resources"][function_id]["Properties"])
    assert properties["VpcConfig"] == {"SubnetIds": [subnet], "SecurityGroupIds": [group]}
    assert properties["ReservedConcurrentExecutions"] == "5"
    assert properties["Environment"]["Variables"]["RESERVED_CONCURRENCY"] == "5"  # the handler's pool
    assert properties["KmsKeyArn"] == key
    assert properties["DeadLetterConfig"] == {"TargetArn": queue}
    assert properties["LoggingConfig"]["LogGroup"] == "/platform/model-copy"
    assert cloud.functions[provider.resources[function_id].attributes["Arn"]].role_arn == role_arn
    (name,) = iam.list_role_policies(RoleName="platform-model-copy")["PolicyNames"]
    document = iam.get_role_policy(RoleName="platform-model-copy", PolicyName=name)["PolicyDocument"]
    text = json.dumps(document)
    actions = ("ec2:CreateNetworkInterface", "sqs:SendMessage", "kms:Decrypt", "lambda:GetAccountSettings")
    for needed in (*actions, "/platform/model-copy"):
        assert needed in text
    assert provider.outputs["RoleArn"] == role_arn
    assert provider.delete() == "DELETE_COMPLETE"
    assert iam.get_role(RoleName="platform-model-copy")["Role"]["Arn"] == role_arn
