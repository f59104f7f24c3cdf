"""Parts of hand-written templates for the driver (tests and benchmarks that synthesise no CDK app)."""

from __future__ import annotations

import json
from typing import Any

from rekognition_model_copy import permissions

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def function_policy(account: str, region: str = "us-east-1") -> dict[str, Any]:
    """The backing function's identity policy: the library's own statements
    (:mod:`rekognition_model_copy.permissions`) on the projects, buckets, keys and rules of ``account``
    in ``region`` (copies from any account's projects there), granted by pattern the way the
    plain-CloudFormation provider stack grants them. The emulator enforces it as AWS would."""
    arn = f"arn:aws:{{}}:{region}:{{}}:"
    own_projects = arn.format("rekognition", account) + "project/*"
    statements = [
        *permissions.policy_statements([own_projects]),
        *permissions.copy_statements(
            source_project_arns=[arn.format("rekognition", "*") + "project/*"],
            source_version_arns=[arn.format("rekognition", "*") + "project/*/version/*"],
            destination_project_arns=[own_projects],
            destination_version_arns=[own_projects + "/version/*"],
            bucket_arns=["arn:aws:s3:::*"],
            object_arns=["arn:aws:s3:::*/*"],
            key_arns=[arn.format("kms", account) + "key/*"],
        ),
        *permissions.polling_statements([arn.format("events", account) + "rule/*"]),
        *permissions.concurrency_statements(),
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": statement.sid,
                "Effect": "Allow",
                "Action": list(statement.actions),
                "Resource": list(statement.resources),
                **(
                    {"Condition": json.loads(json.dumps(statement.conditions))}
                    if statement.conditions
                    else {}
                ),
            }
            for statement in statements
        ],
    }


def function_role(role_name: str | None = None, *, region: str = "us-east-1") -> dict[str, Any]:
    """An ``AWS::IAM::Role`` for a hand-written template's backing function, with :func:`function_policy`
    for the stack's own account."""
    document = function_policy("${AWS::AccountId}", region)
    for statement in document["Statement"]:
        statement["Resource"] = [{"Fn::Sub": resource} for resource in statement["Resource"]]
    properties: dict[str, Any] = {
        "AssumeRolePolicyDocument": LAMBDA_TRUST,
        "Policies": [{"PolicyName": "model-copy", "PolicyDocument": document}],
    }
    if role_name:
        properties["RoleName"] = role_name
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def without_lambda_retries(template: dict[str, Any], function_id: str = "Handler") -> dict[str, Any]:
    """``template`` (changed in place, and returned) with the backing function set up as the construct sets
    it up: an ``AWS::Lambda::EventInvokeConfig`` of ``MaximumRetryAttempts`` 0 (Lambda does not retry an
    invocation that errored or timed out; throttled events are still tried until they are too old), which
    every custom resource served by the function depends on (so no request comes before it)."""
    resources: dict[str, Any] = template["Resources"]
    config_id = f"{function_id}InvokeConfig"
    resources[config_id] = {
        "Type": "AWS::Lambda::EventInvokeConfig",
        "Properties": {
            "FunctionName": {"Ref": function_id},
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 0,
        },
    }
    token = {"Fn::GetAtt": [function_id, "Arn"]}
    for resource in resources.values():
        served = resource.get("Properties", {}).get("ServiceToken") == token
        if resource["Type"].startswith("Custom::") and served:
            depends = resource.get("DependsOn", [])
            resource["DependsOn"] = [*([depends] if isinstance(depends, str) else depends), config_id]
    return template


def _condition(statement: permissions.Statement) -> dict[str, Any]:
    return {"Condition": json.loads(json.dumps(statement.conditions))} if statement.conditions else {}


def with_quality_bar(template: dict[str, Any], bar: float, *, grant: bool = True) -> dict[str, Any]:
    """A copy of a synthesised source (dev) stack ``template`` whose project policies carry the quality bar
    ``MinF1Score`` = ``bar`` and, when ``grant``, whose backing function may read the source project's
    versions (:func:`rekognition_model_copy.permissions.gate_statements`, added to the role policy that
    manages the project policies): what a project policy with ``min_f1_score`` renders, for an app that
    sets no bar itself."""
    edited: dict[str, Any] = json.loads(json.dumps(template))
    resources = edited["Resources"].values()
    projects = []
    for resource in resources:
        if resource["Type"] == "Custom::RekognitionProjectPolicy":
            resource["Properties"]["MinF1Score"] = bar
            projects.append(resource["Properties"]["ProjectArn"])
    if grant:
        role_policy = next(
            r["Properties"]["PolicyDocument"]
            for r in resources
            if r["Type"] == "AWS::IAM::Policy" and permissions.POLICY_ACTIONS[0] in json.dumps(r)
        )
        for project_arn in dict.fromkeys(projects):
            for statement in permissions.gate_statements(project_arn):
                role_policy["Statement"].append(
                    {
                        "Sid": statement.sid,
                        "Effect": "Allow",
                        "Action": list(statement.actions),
                        "Resource": list(statement.resources),
                    }
                )
    return edited
