"""Every permission the backing function needs, written once: the construct and the provider stack use it.

Each constant is a group of IAM actions granted together on one kind of resource; :func:`copy_statements`
and :func:`policy_statements` say on which resources. :class:`RekognitionModelCopy` (one copy's ARNs,
added to the stack's shared statements), :class:`RekognitionProjectPolicy` and
:class:`RekognitionModelCopyProviderStack` (patterns given up front) all build their statements here, so an
action is never listed twice. Sources:

- Service Authorization Reference, "Actions, resources, and condition keys for Amazon Rekognition", table
  "API operations defined by Amazon Rekognition": the CopyProjectVersion call is authorized as
  ``rekognition:CopyProjectVersion`` (resource types ``project*`` and ``projectversion*``),
  ``rekognition:CreateProjectVersion`` (``project*``) and ``rekognition:TagResource``. Which concrete
  ARNs each is evaluated on is not spelled out: CopyProjectVersion is granted on the source project, the
  source version and the destination project; CreateProjectVersion on the destination project;
  TagResource on the destination project's versions (the new version). Every other call needs the action
  of its own name.
- S3: Custom Labels reads and writes the copy's output with the caller's own permissions. The set is the
  AWS managed policy ``AmazonRekognitionCustomLabelsFullAccess``'s, without ``s3:ListAllMyBuckets`` (not
  needed to write into a named bucket), scoped to the output bucket and prefix.
- KMS: CopyProjectVersion's API reference (``KmsKeyId``): ``kms:CreateGrant``, ``DescribeKey``,
  ``GenerateDataKey`` and ``Decrypt`` on the output key. ``CreateGrant`` is limited to grants for AWS
  resources (``kms:GrantIsForAWSResource``): Rekognition creates the grant, the function never does.
  A source model trained with a customer managed key: the read side (``Decrypt``, ``DescribeKey``,
  ``CreateGrant``) on that key alone (not documented in detail; generous on that one key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Aws, Token
from aws_cdk import aws_iam as iam

from .contract import OWNER_TAG

COPY_ACTIONS = ("rekognition:CopyProjectVersion",)
"""On the source project, the source version and the destination project."""
DESTINATION_PROJECT_ACTIONS = ("rekognition:CreateProjectVersion", "rekognition:DescribeProjectVersions")
"""On the destination project: CopyProjectVersion's dependent CreateProjectVersion (the new version is
created there) and the status polling."""
VERSION_ACTIONS = (
    "rekognition:TagResource",
    "rekognition:UntagResource",
    "rekognition:ListTagsForResource",
    "rekognition:StartProjectVersion",
    "rekognition:StopProjectVersion",
    "rekognition:DeleteProjectVersion",
)
"""On the destination project's versions (a copy's ARN ends in its creation time, unknown before it exists):
TagResource is also CopyProjectVersion's dependent action for the new version's tags."""
OWNED_VERSION_ACTIONS = (
    "rekognition:ListTagsForResource",
    "rekognition:StopProjectVersion",
    "rekognition:DeleteProjectVersion",
)
"""On every version of the destination accounts' Regions that carries the owner marker
(:data:`OWNER_MARKER`): what a Delete (and a cleanup left for later) needs on a copy the function made,
whichever destination project the role is narrowed to now. CloudFormation updates the role (narrowed to a
new destination project) before its cleanup deletes the old copy; these do not depend on the project.
The Service Authorization Reference lists ``aws:ResourceTag/${TagKey}`` for each of them on the
``projectversion`` resource type. The handler itself touches only versions carrying its own marker."""
OWNED_PROJECT_ACTIONS = ("rekognition:DescribeProjectVersions",)
"""On every project of the destination accounts' Regions: reading the status of a copy that is removed
from a project the role is no longer narrowed to (a project carries no owner marker; the action reads)."""
OWNER_MARKER: Mapping[str, Mapping[str, str]] = {"Null": {f"aws:ResourceTag/{OWNER_TAG}": "false"}}
"""The condition of :data:`OWNED_VERSION_ACTIONS`: the version carries an owner marker."""
GATE_ACTIONS = ("rekognition:DescribeProjectVersions",)
"""On the source project, only with a quality bar (``min_f1_score``): reading the source version's status
and ``EvaluationResult`` before it is copied or allowed to be copied."""
POLICY_ACTIONS = (
    "rekognition:PutProjectPolicy",
    "rekognition:DeleteProjectPolicy",
    "rekognition:ListProjectPolicies",
)
"""On the project a ``Custom::RekognitionProjectPolicy`` is attached to (the source project)."""
BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketLocation")
"""On the output bucket (AmazonRekognitionCustomLabelsFullAccess's bucket-level actions)."""
OBJECT_ACTIONS = (
    "s3:PutObject",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
)
"""On the objects under the output prefix (AmazonRekognitionCustomLabelsFullAccess's object actions)."""
KEY_USE_ACTIONS = ("kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt")
"""On the output key (``KmsKeyId``) and on an SSE-KMS output bucket's key."""
SOURCE_KEY_USE_ACTIONS = ("kms:DescribeKey", "kms:Decrypt")
"""On the customer managed key the source model was trained with: reading it."""
KEY_GRANT_ACTIONS = ("kms:CreateGrant",)
"""On every key above, only for grants to AWS resources (:data:`GRANT_FOR_AWS_RESOURCE`)."""
GRANT_FOR_AWS_RESOURCE: Mapping[str, Mapping[str, str]] = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
"""The condition of :data:`KEY_GRANT_ACTIONS`: Rekognition creates the grant on the caller's behalf."""
DETECT_ACTIONS = ("rekognition:DetectCustomLabels",)
"""What an application using a copy needs on it (``RekognitionModelCopy.grant_detect_custom_labels``)."""
POLLING_ACTIONS = (
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:DeleteRule",
    "events:DescribeRule",
)
"""On the EventBridge rules of crhelper's polling (the stack's rule-name prefix)."""
CONCURRENCY_ACTIONS = ("lambda:GetAccountSettings",)
"""Reading the account's Lambda concurrency (the handler's fast path is short in a small pool). The action
has no resource type (the Service Authorization Reference: ``*`` only) and reads limits and usage only."""
STACK_STATUS_ACTIONS = ("cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents")
"""Reading the status of the stacks the function serves: an Update of a copy that cannot tell a rollback
from a forward update asks whether its stack is rolling back, and, when it is, whether the stack's events
show this very request answered FAILED already (a second delivery of the update being rolled back). Both
actions' resource type is ``stack`` (``arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>``);
both are read-only."""
POLLING_INVOKE_ACTION = "lambda:InvokeFunction"
"""What EventBridge may do on the function, from the polling rules only (its resource-based policy)."""


VPC_ACCESS_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
"""What a function in a VPC needs to manage its network interfaces: the actions of the AWS managed policy
AWSLambdaVPCAccessExecutionRole, which aws-cdk-lib attaches only to a role it creates itself
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html). Written inline by the provider, so a
role the user brings gets them too, and listed for an immutable one."""

LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
"""What the function needs on its log group (``LogGroup.grant_write``)."""

DEAD_LETTER_ACTIONS = ("sqs:SendMessage",)
"""What the function's role needs for Lambda to send a failed asynchronous event to the dead-letter queue."""

DEAD_LETTER_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
"""What sending to an SSE-KMS dead-letter queue needs on the queue's key."""

ENVIRONMENT_KEY_ACTIONS = ("kms:Decrypt",)
"""On the customer managed key of the function's environment (``environment_encryption``)."""


@dataclass(frozen=True)
class Statement:
    """One Allow statement of the function's role: ``actions`` on ``resources`` under ``conditions``."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What statements of the same kind share (actions and conditions): copies add resources to it."""
        return json.dumps([self.sid, self.actions, self.conditions], sort_keys=True)

    def to_policy_statement(self) -> iam.PolicyStatement:
        """The CDK statement (with its ``Sid``)."""
        return iam.PolicyStatement(
            sid=self.sid,
            actions=list(self.actions),
            resources=list(self.resources),
            conditions=_plain(self.conditions) if self.conditions else None,
        )


def _plain(conditions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {operator: dict(values) for operator, values in conditions.items()}


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


_ARN_FIELDS = re.compile(r"(?:\$\{[^}]*\}|[^:$])+|(?<=:)(?=:)")


def _in_account_of(arn: str, resource: str) -> str:
    """``resource`` (a pattern) in the partition, Region and account of the destination project ``arn``.
    A copy is made in the function's own account and Region, so for a token (unknown at synth) that is
    the stack's: one pattern for every copy of the stack."""
    if Token.is_unresolved(arn):
        return f"arn:{Aws.PARTITION}:rekognition:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"
    fields = _ARN_FIELDS.findall(arn) + ["*"] * 5  # a ${...} substitution is one field, colons and all
    return f"arn:{fields[1]}:rekognition:{fields[3]}:{fields[4]}:{resource}"


OWNED_WILDCARDS = {
    "project/*/version/*": (
        "A Delete must be able to stop and delete a copy this function made after CloudFormation narrowed "
        "the role to another destination project (it updates the role before its cleanup deletes the old "
        "copy). Limited to versions carrying the owner marker tag (aws:ResourceTag condition), in this "
        "account and Region; the handler also checks the marker is its own before it acts."
    ),
    "project/*": (
        "Reading the status of that copy (DescribeProjectVersions is authorized on the project, which "
        "carries no owner marker): read-only, in this account and Region."
    ),
}
"""The patterns of the owned-version statements (by resource) and why their wildcards are needed."""


def owned_wildcards(destination_project_arn: str) -> dict[str, str]:
    """The wildcard resources of :func:`copy_statements`' owned-version statements for a destination
    project, each with its reason (for cdk-nag acknowledgments)."""
    arn = destination_project_arn
    return {_in_account_of(arn, pattern): reason for pattern, reason in OWNED_WILDCARDS.items()}


def copy_statements(
    *,
    source_project_arns: Sequence[str],
    source_version_arns: Sequence[str],
    destination_project_arns: Sequence[str],
    destination_version_arns: Sequence[str],
    bucket_arns: Sequence[str],
    object_arns: Sequence[str],
    key_arns: Sequence[str] = (),
    source_key_arns: Sequence[str] = (),
) -> list[Statement]:
    """The statements that let the function copy into, poll, serve, tag and delete in the destination.

    :param source_project_arns: the source projects (CopyProjectVersion).
    :param source_version_arns: the source versions (CopyProjectVersion).
    :param destination_project_arns: the destination projects (CopyProjectVersion, CreateProjectVersion,
        DescribeProjectVersions).
    :param destination_version_arns: the destination projects' versions, ``project/<name>/version/*``.
    :param bucket_arns: the output buckets.
    :param object_arns: the objects under the output prefixes, ``<bucket ARN>/<prefix>*``.
    :param key_arns: the output keys (``KmsKeyId``, SSE-KMS bucket keys).
    :param source_key_arns: the customer managed keys of the source models.
    """
    statements = [
        Statement(
            "CopyProjectVersion",
            COPY_ACTIONS,
            _unique([*source_project_arns, *source_version_arns, *destination_project_arns]),
        ),
        Statement("DestinationProjects", DESTINATION_PROJECT_ACTIONS, _unique(destination_project_arns)),
        Statement("ManageCopiedVersions", VERSION_ACTIONS, _unique(destination_version_arns)),
        Statement(
            "RemoveOwnedVersions",
            OWNED_VERSION_ACTIONS,
            _unique(_in_account_of(a, "project/*/version/*") for a in destination_project_arns),
            OWNER_MARKER,
        ),
        Statement(
            "ReadOwnedVersions",
            OWNED_PROJECT_ACTIONS,
            _unique(_in_account_of(a, "project/*") for a in destination_project_arns),
        ),
        Statement("OutputBuckets", BUCKET_ACTIONS, _unique(bucket_arns)),
        Statement("OutputObjects", OBJECT_ACTIONS, _unique(object_arns)),
    ]
    if key_arns:
        statements.append(Statement("UseKeys", KEY_USE_ACTIONS, _unique(key_arns)))
    if source_key_arns:
        statements.append(Statement("ReadSourceKeys", SOURCE_KEY_USE_ACTIONS, _unique(source_key_arns)))
    if key_arns or source_key_arns:
        statements.append(
            Statement(
                "GrantKeysToAwsResources",
                KEY_GRANT_ACTIONS,
                _unique([*key_arns, *source_key_arns]),
                GRANT_FOR_AWS_RESOURCE,
            )
        )
    return [s for s in statements if s.resources]


def policy_statements(project_arns: Sequence[str]) -> list[Statement]:
    """The statement that lets the function put, update and delete project policies on ``project_arns``."""
    return [Statement("ManageProjectPolicies", POLICY_ACTIONS, _unique(project_arns))] if project_arns else []


def gate_statements(source_project_arn: str) -> list[Statement]:
    """The statement that lets the function check a source version against a quality bar:
    DescribeProjectVersions on its project (the action's resource type is ``project``, ARN
    ``arn:<partition>:rekognition:<region>:<account>:project/<name>/<creation timestamp>``). Only for a
    bar: a copy or policy without one never reads the source project."""
    return [Statement("CheckSourceQuality", GATE_ACTIONS, (source_project_arn,))]


def polling_statements(rule_arns: Sequence[str]) -> list[Statement]:
    """The statement that lets crhelper's polling manage its EventBridge rules."""
    return [Statement("ManagePollingRules", POLLING_ACTIONS, _unique(rule_arns))]


def stack_status_statements(stack_arns: Sequence[str]) -> list[Statement]:
    """The function's role: reading the status of the stacks it serves (:data:`STACK_STATUS_ACTIONS`)."""
    return [Statement("ReadStackStatus", STACK_STATUS_ACTIONS, _unique(stack_arns))]


def concurrency_statements() -> list[Statement]:
    """The function's role: reading the account's Lambda concurrency (:data:`CONCURRENCY_ACTIONS`)."""
    return [Statement("ReadLambdaConcurrency", CONCURRENCY_ACTIONS, ("*",))]


def key_policy_statements(principal_arn: str, *, source: bool = False) -> list[iam.PolicyStatement]:
    """What a key's owner adds to its key policy so ``principal_arn`` (the copy role, or its account) may
    use the key for a copy: ``Resource: "*"`` is the key itself in a key policy.

    :param source: the key of the SOURCE model (read side: DescribeKey, Decrypt); else an output key
        (DescribeKey, GenerateDataKey, Decrypt). CreateGrant for AWS resources in both cases.
    """
    principal = iam.ArnPrincipal(principal_arn)
    prefix = "RekognitionModelCopySourceKey" if source else "RekognitionModelCopyOutputKey"
    return [
        iam.PolicyStatement(
            sid=f"{prefix}Use",
            principals=[principal],
            actions=list(SOURCE_KEY_USE_ACTIONS if source else KEY_USE_ACTIONS),
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid=f"{prefix}Grants",
            principals=[principal],
            actions=list(KEY_GRANT_ACTIONS),
            resources=["*"],
            conditions=_plain(GRANT_FOR_AWS_RESOURCE),
        ),
    ]
