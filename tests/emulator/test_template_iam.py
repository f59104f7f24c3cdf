"""The CloudFormation driver puts a template's IAM, bucket and key policies into moto as the template
defines them, so that the emulator evaluates every call of a function against its real role."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest

from emulator.cloudformation import CloudFormation, DriverError
from tests.conftest import DEST_ACCOUNT, REGION, REPO

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def statement(action: Any, resource: Any) -> dict[str, Any]:
    """An Allow statement."""
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    """A policy document as a template holds it (an object, with intrinsic functions resolved later)."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


PROJECT_ARN = {"Fn::GetAtt": ["Project", "Arn"]}
TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Project": {"Type": "AWS::Rekognition::Project", "Properties": {"ProjectName": "prod-defects"}},
        "Output": {"Type": "AWS::S3::Bucket"},
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ),
                "ManagedPolicyArns": [BASIC_EXECUTION],
                "Policies": [
                    {
                        "PolicyName": "Describe",
                        "PolicyDocument": document(
                            statement("rekognition:DescribeProjectVersions", PROJECT_ARN)
                        ),
                    }
                ],
            },
        },
        "DefaultPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "DefaultPolicy",
                "Roles": [{"Ref": "Role"}],
                "PolicyDocument": document(statement("rekognition:ListProjectPolicies", PROJECT_ARN)),
            },
        },
        "Overflow": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Roles": [{"Ref": "Role"}],
                "PolicyDocument": document(statement("rekognition:ListTagsForResource", "*")),
            },
        },
        "OutputPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Output"},
                "PolicyDocument": document(
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": {"Fn::Sub": "${Output.Arn}/*"},
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ),
            },
        },
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "KeyPolicy": document(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                )
            },
        },
    }
}


def as_stack_role(cloud: CloudFormation, role_arn: str) -> Any:
    """A Rekognition client with the credentials Lambda would give a function of that role."""
    return cloud.session(DEST_ACCOUNT, REGION, role_arn).client("rekognition")


def test_the_template_policies_are_deployed_evaluated_and_deleted(cloud: CloudFormation) -> None:
    stack = cloud.stack("prod", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
    assert stack.create(json.loads(json.dumps(TEMPLATE))) == "CREATE_COMPLETE"
    iam = stack.session().client("iam")
    role_name = stack.resources["Role"].physical_id
    assert sorted(iam.list_role_policies(RoleName=role_name)["PolicyNames"]) == ["DefaultPolicy", "Describe"]
    attached = {
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    }
    assert attached == {BASIC_EXECUTION, stack.resources["Overflow"].physical_id}
    bucket = stack.resources["Output"].physical_id
    bucket_policy = json.loads(stack.session().client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    assert bucket_policy["Statement"][0]["Resource"] == f"arn:aws:s3:::{bucket}/*"
    key_policy = json.loads(
        stack.session()
        .client("kms")
        .get_key_policy(KeyId=stack.resources["Key"].physical_id, PolicyName="default")["Policy"]
    )
    assert key_policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{DEST_ACCOUNT}:root"}

    project = stack.resources["Project"].attributes["Arn"]
    client = as_stack_role(cloud, stack.resources["Role"].attributes["Arn"])
    client.describe_project_versions(ProjectArn=project)  # inline Policies
    client.list_project_policies(ProjectArn=project)  # AWS::IAM::Policy
    client.list_tags_for_resource(ResourceArn=project)  # AWS::IAM::ManagedPolicy
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.delete_project(ProjectArn=project)
    assert "rekognition:DeleteProject" in str(excinfo.value)

    overflow = stack.resources["Overflow"].physical_id
    assert stack.delete() == "DELETE_COMPLETE"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role_name)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy(PolicyArn=overflow)


def test_removing_the_policy_resource_takes_the_permission_away(cloud: CloudFormation) -> None:
    stack = cloud.stack("prod", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
    assert stack.create(json.loads(json.dumps(TEMPLATE))) == "CREATE_COMPLETE"
    project = stack.resources["Project"].attributes["Arn"]
    client = as_stack_role(cloud, stack.resources["Role"].attributes["Arn"])
    client.list_project_policies(ProjectArn=project)
    smaller = json.loads(json.dumps(TEMPLATE))
    del smaller["Resources"]["DefaultPolicy"]
    assert stack.update(smaller) == "UPDATE_COMPLETE"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.list_project_policies(ProjectArn=project)
    assert "because no identity-based policy allows the rekognition:ListProjectPolicies action" in str(
        excinfo.value
    )


@pytest.mark.parametrize("logical_id", ["Key", "OutputPolicy"])
def test_a_key_or_bucket_policy_naming_a_missing_principal_is_rejected(
    cloud: CloudFormation, logical_id: str
) -> None:
    template = json.loads(json.dumps(TEMPLATE))
    policy = template["Resources"][logical_id]["Properties"]
    statements = (policy.get("KeyPolicy") or policy["PolicyDocument"])["Statement"]
    statements[0]["Principal"] = {"AWS": f"arn:aws:iam::{DEST_ACCOUNT}:role/not-yet-deployed"}
    stack = cloud.stack("prod", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
    with pytest.raises(DriverError, match=r"missing principals \['arn:aws:iam::222222222222:role/not-yet"):
        stack.create(template)
