"""``RekognitionModelCopyProviderStack``: the backing function on its own, for plain CloudFormation templates.

Deploy it once per account and Region. It exports the function's ARN under ``export_name`` (default
``RekognitionModelCopy-ServiceToken``), so any template of that account and Region can declare::

    ModelCopy:
      Type: Custom::RekognitionModelCopy
      Properties:
        ServiceToken: !ImportValue RekognitionModelCopy-ServiceToken
        SourceProjectArn: ...

CDK users do not need this stack: every :class:`RekognitionModelCopy` creates (or shares) its stack's
function and grants it exactly what that copy touches. A standalone function cannot know the resources of
templates written later, so its permissions are given here, up front, as patterns. **The defaults are
broad**: every project, bucket and key of the account (and, for sources, every account) in the Region.
Narrow them to what your templates use::

    RekognitionModelCopyProviderStack(
        app, "RekognitionModelCopyProvider",
        env=Environment(account="222222222222", region="us-east-1"),
        destination_project_names=["prod-defects"],
        source_project_arns=["arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000"],
        output_bucket_names=["prod-model-output"],
        kms_key_arns=[],  # the copies use AWS owned keys
    )

A role's policy (IAM) and a project policy (Rekognition, in the source account) must both allow a
cross-account copy. The source account's project policy names this account (``arn:aws:iam::<account>:root``),
and this role's own policy narrows who may copy; ``role_name`` lets it name the role instead, which must then
exist before the policy is put, and stops matching if the role is ever recreated (the policy binds its
unique id).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Arn, ArnComponents, CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import permissions, validation
from .arguments import project_versions_arn
from .provider import RekognitionModelCopyProvider

DEFAULT_EXPORT_NAME = "RekognitionModelCopy-ServiceToken"
"""The export that plain CloudFormation templates import as their ``ServiceToken``."""

ANY = "*"
"""In a scope argument: any project, bucket or key (see :class:`RekognitionModelCopyProviderStack`)."""

EXPORT_NAME_PATTERN = re.compile(r"^[A-Za-z0-9:-]{1,255}$")
# Project names and bucket names, each optionally with IAM's `*` and `?` wildcards.
_PROJECT_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_\-*?]{1,255}$")
_BUCKET_NAME_PATTERN = re.compile(r"^[a-z0-9.\-*?]{1,63}$")
_KEY_ARN_PATTERN = re.compile(r"^arn:[a-z\d-]+:kms:[a-z\d-]+:\d{12}:key/[a-zA-Z0-9\-*?]+$")


class RekognitionModelCopyProviderStack(Stack):
    """A stack holding only the model-copy function, its ServiceToken exported for plain CloudFormation.

    One per account and Region (the export name is unique there). It serves both
    ``Custom::RekognitionModelCopy`` (destination account) and ``Custom::RekognitionProjectPolicy`` (source
    account) resources of any stack that imports the token.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        export_name: str = DEFAULT_EXPORT_NAME,
        destination_project_names: Sequence[str] = (ANY,),
        source_project_arns: Sequence[str] = (ANY,),
        output_bucket_names: Sequence[str] = (ANY,),
        kms_key_arns: Sequence[str] = (ANY,),
        source_kms_key_arns: Sequence[str] = (),
        role_name: str | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        role: iam.IRole | None = None,
        reserved_concurrent_executions: int | float | None = None,
        log_group: logs.ILogGroup | None = None,
        environment_encryption: kms.IKey | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        **stack_kwargs: Any,
    ) -> None:
        """Create the stack, its function and the function's permissions.

        :param export_name: name of the CloudFormation export holding the ServiceToken (1-255 letters,
            digits, ``:`` or ``-``). Default: ``RekognitionModelCopy-ServiceToken``.
        :param destination_project_names: names (``*`` and ``?`` wildcards allowed) of this account's
            projects that copies go into: CopyProjectVersion, CreateProjectVersion and
            DescribeProjectVersions on the projects, Tag/Untag/ListTagsForResource and Start/Stop/Delete
            ProjectVersion on their versions (:mod:`.permissions`). Default: ``["*"]``, every
            project of this account and Region. Empty: the function makes no copies.
        :param source_project_arns: ARNs of the projects copies are made from, in this or another account
            of the Region: CopyProjectVersion on them and their versions, and (for projects of this
            account) Put/Delete/ListProjectPolicies, so ``Custom::RekognitionProjectPolicy`` can let other
            accounts copy from them, and DescribeProjectVersions, so a ``MinF1Score`` (of a policy, or of
            a copy from this account) can read the versions' scores. Default: ``["*"]``, any project of
            any account in the Region (project policies: any project of this account). Empty: no copies,
            no project policies.
        :param output_bucket_names: buckets (``*`` and ``?`` wildcards allowed) of the copies'
            ``OutputConfig``: ListBucket, GetBucketAcl, GetBucketLocation, and PutObject, GetObject,
            GetObjectAcl, GetObjectTagging, GetObjectVersion on any key (Custom Labels writes the output
            with the caller's permissions).
            Default: ``["*"]``, every bucket the account can reach.
        :param kms_key_arns: keys of ``KmsKeyId`` and of SSE-KMS output buckets: DescribeKey, GenerateDataKey,
            Decrypt, and CreateGrant for AWS resources only. A key of another account must also allow this
            role in its key policy. Default: ``["*"]``, every key in the Region. Empty: no KMS permissions
            (copies encrypted with AWS owned keys, buckets with SSE-S3).
        :param source_kms_key_arns: customer managed keys the SOURCE models were trained with (``*``
            allowed): DescribeKey, Decrypt, and CreateGrant for AWS resources. A key of another account must
            also allow this role (or its account) in its key policy. Default: none; with ``kms_key_arns``
            ``["*"]`` every key of the Region is usable anyway.
        :param role_name: a fixed name for the function's role, for a source account that names the role
            (``arn:aws:iam::<account>:role/<name>``) rather than the account in its project policy (deploy
            this stack first; recreating the role breaks that policy). Default: a name CloudFormation
            generates.
        :param vpc: the function's options, as :meth:`RekognitionModelCopyProvider.of` takes them
            (README, "The backing function's options"); also ``vpc_subnets``, ``security_groups``, ``role``,
            ``reserved_concurrent_executions``, ``log_group``, ``environment_encryption``,
            ``dead_letter_queue``.
        :param stack_kwargs: passed to :class:`aws_cdk.Stack` (``env``, ``description``, ...).
        :raises validation.ModelCopyValidationError: a name or ARN that can never match (the message names
            the argument and the value). Tokens are not checked.
        """
        _check_scopes(
            export_name=export_name,
            destination_project_names=destination_project_names,
            source_project_arns=source_project_arns,
            output_bucket_names=output_bucket_names,
            kms_key_arns=kms_key_arns,
            source_kms_key_arns=source_kms_key_arns,
        )
        if role_name is not None:
            validation.check_role_name(role_name)
        stack_kwargs.setdefault(
            "description",
            "Backing function of Custom::RekognitionModelCopy and Custom::RekognitionProjectPolicy; exports "
            f"its ServiceToken as {export_name}",
        )
        super().__init__(scope, id, **stack_kwargs)

        self.provider: RekognitionModelCopyProvider = RekognitionModelCopyProvider.of(
            self,
            role_name=role_name,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            role=role,
            reserved_concurrent_executions=reserved_concurrent_executions,
            log_group=log_group,
            environment_encryption=environment_encryption,
            dead_letter_queue=dead_letter_queue,
        )
        """The function, its role and log group."""
        self.export_name: str = export_name
        """Name of the export holding :attr:`service_token`; templates use ``!ImportValue <export_name>``."""
        self.provider.allow(
            self._statements(
                destination_project_names,
                source_project_arns,
                output_bucket_names,
                kms_key_arns,
                source_kms_key_arns,
            )
        )
        if destination_project_names and source_project_arns:
            # the copies' stacks, those of the templates that import the token: not known here
            any_stack = self.format_arn(service="cloudformation", resource="stack", resource_name="*")
            self.provider.allow(permissions.stack_status_statements([any_stack]))
            self.provider.acknowledge_wildcard(
                any_stack,
                "The function serves the model copies of any stack of this account and Region that imports "
                "its ServiceToken, written after it: a copy's Update reads its stack's status "
                "(DescribeStacks, DescribeStackEvents, read-only) to tell a rollback from an update.",
            )

        CfnOutput(
            self,
            "ServiceToken",
            value=self.provider.service_token,
            export_name=export_name,
            description="ServiceToken of Custom::RekognitionModelCopy and Custom::RekognitionProjectPolicy",
        )
        CfnOutput(
            self,
            "RoleArn",
            value=self.provider.role.role_arn,
            description="The copy role; name it in a source project's policy for cross-account copies",
        )

    @property
    def service_token(self) -> str:
        """The function's ARN (a token in this stack; other stacks import :attr:`export_name`)."""
        return self.provider.service_token

    @property
    def role(self) -> iam.IRole:
        """The function's role, for further grants."""
        return self.provider.role

    def _statements(
        self,
        destination_project_names: Sequence[str],
        source_project_arns: Sequence[str],
        output_bucket_names: Sequence[str],
        kms_key_arns: Sequence[str],
        source_kms_key_arns: Sequence[str],
    ) -> list[permissions.Statement]:
        """The function's permissions (:mod:`.permissions`) on the patterns given."""
        # `project/<name>/*` holds the project (`project/<name>/<timestamp>`) and its versions.
        destinations = [
            self.format_arn(service="rekognition", resource="project", resource_name=f"{name}/*")
            for name in destination_project_names
        ]
        destination_versions = [
            self.format_arn(service="rekognition", resource="project", resource_name=f"{name}/version/*")
            for name in destination_project_names
        ]
        sources: list[str] = []
        source_versions: list[str] = []
        policy_projects: list[str] = []
        for arn in source_project_arns:
            if arn == ANY:
                sources.append(
                    Arn.format(
                        ArnComponents(
                            service="rekognition", account="*", resource="project", resource_name="*"
                        ),
                        self,
                    )
                )
                policy_projects.append(
                    self.format_arn(service="rekognition", resource="project", resource_name="*")
                )
            else:
                parsed = validation.parse_project_arn("source_project_arns", arn)
                sources.append(arn)
                source_versions.append(project_versions_arn(arn, parsed))
                # A project policy can only be put by the project's own account.
                if parsed is None or validation.is_token(self.account) or parsed.account == self.account:
                    policy_projects.append(arn)
        # A quality bar (MinF1Score) reads the versions of this account's source projects, for a policy's
        # bar and for a same-account copy's: read-only, granted with the policies on the same projects.
        statements = permissions.policy_statements(policy_projects)
        if policy_projects:
            statements.append(
                permissions.Statement("CheckSourceQuality", permissions.GATE_ACTIONS, tuple(policy_projects))
            )
        if not destinations or not sources:
            return statements  # no copies: nothing to read, write or encrypt
        buckets = [f"arn:{self.partition}:s3:::{name}" for name in output_bucket_names]
        return statements + permissions.copy_statements(
            source_project_arns=sources,
            source_version_arns=source_versions,
            destination_project_arns=destinations,
            destination_version_arns=destination_versions,
            bucket_arns=buckets,
            object_arns=[f"{bucket}/*" for bucket in buckets],
            key_arns=[self._key_arn(arn) for arn in kms_key_arns],
            source_key_arns=[self._key_arn(arn) for arn in source_kms_key_arns],
        )

    def _key_arn(self, arn: str) -> str:
        if arn != ANY:
            return arn
        return Arn.format(ArnComponents(service="kms", account="*", resource="key", resource_name="*"), self)


def _check_scopes(
    *,
    export_name: str,
    destination_project_names: Sequence[str],
    source_project_arns: Sequence[str],
    output_bucket_names: Sequence[str],
    kms_key_arns: Sequence[str],
    source_kms_key_arns: Sequence[str],
) -> None:
    """Reject values that can never match before any construct is created (tokens pass)."""
    if not validation.is_token(export_name) and not EXPORT_NAME_PATTERN.match(export_name):
        raise validation.ModelCopyValidationError(
            f"export_name must be 1-255 letters, digits, ':' or '-' (a CloudFormation export name); got "
            f"{export_name!r}. Use a name such as {DEFAULT_EXPORT_NAME!r}."
        )
    for argument, values in (
        ("destination_project_names", destination_project_names),
        ("source_project_arns", source_project_arns),
        ("output_bucket_names", output_bucket_names),
        ("kms_key_arns", kms_key_arns),
        ("source_kms_key_arns", source_kms_key_arns),
    ):
        if isinstance(values, str):
            raise validation.ModelCopyValidationError(
                f"{argument} must be a list of values, got the string {values!r}. Write [{values!r}]."
            )
    for name in destination_project_names:
        if not validation.is_token(name) and not _PROJECT_NAME_PATTERN.match(name):
            raise validation.ModelCopyValidationError(
                f"destination_project_names holds {name!r}, which is no project name: give names of "
                "1-255 letters, digits, '_' or '-' (wildcards '*' and '?' allowed), not ARNs."
            )
    for arn in source_project_arns:
        if arn != ANY:
            validation.parse_project_arn("source_project_arns", arn)
    for name in output_bucket_names:
        if not validation.is_token(name) and not _BUCKET_NAME_PATTERN.match(name):
            raise validation.ModelCopyValidationError(
                f"output_bucket_names holds {name!r}, which is no bucket name: give names of 1-63 lowercase "
                "letters, digits, '.' or '-' (wildcards '*' and '?' allowed), not ARNs or s3:// URLs."
            )
    for argument, arns in (("kms_key_arns", kms_key_arns), ("source_kms_key_arns", source_kms_key_arns)):
        for arn in arns:
            if arn != ANY and not validation.is_token(arn) and not _KEY_ARN_PATTERN.match(arn):
                raise validation.ModelCopyValidationError(
                    f"{argument} holds {arn!r}, which is no KMS key ARN: give key ARNs (IAM does not match "
                    "aliases) such as "
                    "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab, or '*'."
                )
