"""Parts of hand-written templates for the driver (tests and benchmarks that synthesise no CDK app)."""

from __future__ import annotations

import json
from typing import Any

from rekognition_model_copy import permissions


def function_role(role_name: str | None = None, *, region: str = "us-east-1") -> dict[str, Any]:
    """The backing function's role for hand-written templates, with the library's own statements
    (:mod:`rekognition_model_copy.permissions`) on this Region's projects, buckets and keys, the way the
    plain-CloudFormation provider stack grants them by pattern. The emulator enforces them: a template
    whose role lacks a permission the handler needs fails as it would in AWS."""
    partition_region = f"arn:aws:{{}}:{region}:"
    projects = [partition_region.format("rekognition") + "*:project/*"]
    statements = [
        *permissions.policy_statements(
            [partition_region.format("rekognition") + "${AWS::AccountId}:project/*"]
        ),
        *permissions.copy_statements(
            source_project_arns=projects,
            source_version_arns=[partition_region.format("rekognition") + "*:project/*/version/*"],
            destination_project_arns=[partition_region.format("rekognition") + "${AWS::AccountId}:project/*"],
            destination_version_arns=[
                partition_region.format("rekognition") + "${AWS::AccountId}:project/*/version/*"
            ],
            bucket_arns=["arn:aws:s3:::*"],
            object_arns=["arn:aws:s3:::*/*"],
            key_arns=[partition_region.format("kms") + "${AWS::AccountId}:key/*"],
        ),
        *permissions.polling_statements([partition_region.format("events") + "${AWS::AccountId}:rule/*"]),
    ]
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": statement.sid,
                "Effect": "Allow",
                "Action": list(statement.actions),
                "Resource": [{"Fn::Sub": resource} for resource in statement.resources],
                **(
                    {"Condition": json.loads(json.dumps(statement.conditions))}
                    if statement.conditions
                    else {}
                ),
            }
            for statement in statements
        ],
    }
    properties: dict[str, Any] = {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        "Policies": [{"PolicyName": "model-copy", "PolicyDocument": document}],
    }
    if role_name:
        properties["RoleName"] = role_name
    return {"Type": "AWS::IAM::Role", "Properties": properties}
