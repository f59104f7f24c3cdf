"""``RekognitionModelCopy``: copy a Rekognition Custom Labels model version into a project of this stack."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import (
    Annotations,
    Arn,
    ArnComponents,
    ArnFormat,
    CfnDeletionPolicy,
    CustomResource,
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import contract, permissions, validation
from .provider import RekognitionModelCopyProvider

RESOURCE_TYPE = contract.MODEL_COPY_TYPE
DEFAULT_OUTPUT_PREFIX_TEMPLATE = "rekognition-model-copy/{version_name}/"
DEFAULT_TIMEOUT = Duration.hours(1)


def default_output_prefix(version_name: str) -> str:
    """The output prefix used when none is given: ``rekognition-model-copy/<version_name>/``."""
    return DEFAULT_OUTPUT_PREFIX_TEMPLATE.format(version_name=version_name)


def check_copy_arguments(
    scope: Construct,
    *,
    source_project_arn: str,
    source_project_version_arn: str,
    destination_project: rekognition.CfnProject | str,
    version_name: str,
    output_prefix: str | None = None,
    tags: Mapping[str, str] | None = None,
    timeout: Duration = DEFAULT_TIMEOUT,
    min_inference_units: int | None = None,
    max_inference_units: int | None = None,
    source_kms_key: kms.IKey | str | None = None,
) -> validation.ParsedArn | None:
    """The synth-time checks of :class:`RekognitionModelCopy`'s arguments for a copy in ``scope``'s stack.

    Returns the parts of ``destination_project`` when it is a literal ARN (``None`` for a ``CfnProject``
    or a token). Creates nothing.

    :raises validation.ModelCopyValidationError: as :class:`RekognitionModelCopy` does.
    """
    if output_prefix is None:
        output_prefix = default_output_prefix(version_name)
    stack = Stack.of(scope)
    source_project = validation.parse_project_arn("source_project_arn", source_project_arn)
    source_version = validation.parse_project_version_arn(
        "source_project_version_arn", source_project_version_arn
    )
    validation.check_source_matches_version(source_project_arn, source_project, source_version)
    validation.check_version_name(version_name)
    destination = None
    if isinstance(destination_project, rekognition.CfnProject):
        validation.check_project_name(destination_project.project_name)
        destination_region: str | None = Stack.of(destination_project).region
    else:
        destination = validation.parse_project_arn("destination_project", destination_project)
        destination_region = destination.region if destination is not None else None
        validation.check_destination_account(destination, stack.account)
    validation.check_regions(source_version or source_project, destination_region, stack.region)
    validation.check_output_prefix(output_prefix)
    validation.check_tags(tags)
    validation.check_timeout(timeout)
    validation.check_inference_units(min_inference_units, max_inference_units)
    if source_kms_key is not None:
        validation.check_source_key_arn("source_kms_key", key_arn_of(source_kms_key), source_version)
    return destination


def key_arn_of(key: kms.IKey | str) -> str:
    """The ARN of a key given as an ``IKey`` or as an ARN string."""
    return key if isinstance(key, str) else key.key_arn


class RekognitionModelCopy(Construct):
    """A copy of a trained Rekognition Custom Labels model version, made by CopyProjectVersion.

    On create the backing function starts the copy and waits (polling, up to ``timeout``) until the new
    version is COPYING_COMPLETED; the deployment fails with the service's status message on COPYING_FAILED.
    A change of source, destination, version name, output location or key makes a new copy and deletes the
    old one; a change of tags alone is applied in place. On delete the version is stopped if running and
    deleted, unless ``removal_policy`` is RETAIN.

    Cross-account copies need a project policy on the source project allowing the destination account
    (or the function's role) ``rekognition:CopyProjectVersion`` on the source version:
    :class:`RekognitionModelPromotion` creates both sides (:class:`RekognitionProjectPolicy` in the source
    account's stack, this copy in the destination's).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source_project_arn: str,
        source_project_version_arn: str,
        destination_project: rekognition.CfnProject | str,
        version_name: str,
        output_bucket: s3.IBucket,
        output_prefix: str | None = None,
        encryption_key: kms.IKey | None = None,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        timeout: Duration = DEFAULT_TIMEOUT,
        min_inference_units: int | None = None,
        max_inference_units: int | None = None,
        source_kms_key: kms.IKey | str | None = None,
    ) -> None:
        """Copy ``source_project_version_arn`` into ``destination_project`` as ``version_name``.

        :param source_project_arn: ARN of the project the source version belongs to (same partition,
            account, Region and project name as the version ARN). Required: the version ARN does not
            carry the project's creation timestamp.
        :param source_project_version_arn: ARN of the trained model version to copy; it may be in another
            account of the same Region (that account must allow the copy with a project policy).
        :param destination_project: the project receiving the copy: an ``AWS::Rekognition::Project`` of
            this app (``CfnProject``) or a project ARN. It must be in the stack's account and Region.
        :param version_name: name of the new version in the destination project, 1-255 characters of
            ``[a-zA-Z0-9_.-]``.
        :param output_bucket: bucket where Rekognition writes the copy's training results
            (``OutputConfig.S3Bucket``).
        :param output_prefix: key prefix in ``output_bucket`` (``OutputConfig.S3KeyPrefix``, at most 1024
            characters). Default: ``rekognition-model-copy/<version_name>/``.
        :param encryption_key: KMS key that encrypts the copied model (``KmsKeyId``). Default: none, the
            model is encrypted with an AWS owned key.
        :param tags: tags of the new model version (at most 200; keys 1-128 characters not starting with
            ``aws:``, values at most 256). Default: no tags.
        :param removal_policy: what happens to the copied version when the resource is deleted or replaced.
            Default: ``DESTROY``, the version is stopped if running and deleted. ``RETAIN`` keeps it
            (``DeletionPolicy`` and ``UpdateReplacePolicy`` ``Retain``).
        :param timeout: the longest CloudFormation waits for a create, update or delete to finish
            (``ServiceTimeout``, 1 second to 1 hour). Default: 1 hour.
        :param min_inference_units: serve the copy: after the copy, StartProjectVersion with this many
            inference units and wait until the model is RUNNING. Changing it restarts the model in place;
            removing it stops the model. A running model is billed per inference unit and hour. Default:
            ``None``, the copy is not started.
        :param max_inference_units: with ``min_inference_units``, the most units Rekognition scales the
            running model to. Default: ``None``, as many as ``min_inference_units``.
        :param source_kms_key: the customer managed KMS key the SOURCE model was trained with (its
            ``KmsKeyId``), as an ``IKey`` or a key ARN: the function gets ``kms:DescribeKey``, ``kms:Decrypt``
            and ``kms:CreateGrant`` (for AWS resources) on that key alone. The key's policy must allow it
            too when the key is in another account (see
            :meth:`RekognitionModelPromotion.source_key_policy_statements`). Default: ``None``, the source
            model is encrypted with an AWS owned key.
        :raises validation.ModelCopyValidationError: a value that can never deploy (wrong ARN shape,
            mismatched project, Region, name, prefix, tag or timeout limits, a source key that is not a key
            ARN of the source's Region). Tokens are not checked.
        """
        if output_prefix is None:
            output_prefix = default_output_prefix(version_name)

        # Validate everything before creating any construct.
        destination = check_copy_arguments(
            scope,
            source_project_arn=source_project_arn,
            source_project_version_arn=source_project_version_arn,
            destination_project=destination_project,
            version_name=version_name,
            output_prefix=output_prefix,
            tags=tags,
            timeout=timeout,
            min_inference_units=min_inference_units,
            max_inference_units=max_inference_units,
            source_kms_key=source_kms_key,
        )

        super().__init__(scope, id)
        _warn_if_the_project_goes_first(self, destination_project, removal_policy)

        self.provider = RekognitionModelCopyProvider.of(self)
        """The stack's shared backing function (one per stack)."""

        if isinstance(destination_project, rekognition.CfnProject):
            destination_project_arn = destination_project.attr_arn
            project_stack = Stack.of(destination_project)
            destination_versions_arn = Arn.format(
                ArnComponents(
                    partition=project_stack.partition,
                    service="rekognition",
                    region=project_stack.region,
                    account=project_stack.account,
                    resource="project",
                    resource_name=f"{destination_project.project_name}/version/*",
                )
            )
        else:
            destination_project_arn = destination_project
            destination_versions_arn = _project_versions_arn(destination_project, destination)

        properties: dict[str, object] = {
            "SourceProjectArn": source_project_arn,
            "SourceProjectVersionArn": source_project_version_arn,
            "DestinationProjectArn": destination_project_arn,
            "VersionName": version_name,
            "OutputConfig": {"S3Bucket": output_bucket.bucket_name, "S3KeyPrefix": output_prefix},
        }
        if tags:
            properties["Tags"] = dict(tags)
        if encryption_key is not None:
            properties["KmsKeyId"] = encryption_key.key_arn
        if min_inference_units is not None:
            properties["MinInferenceUnits"] = min_inference_units
        if max_inference_units is not None:
            properties["MaxInferenceUnits"] = max_inference_units

        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            removal_policy=removal_policy,
            service_timeout=timeout,
        )
        """The ``Custom::RekognitionModelCopy`` resource."""
        # The function's policy, log group and EventBridge permission must exist before the first request
        # (the function itself is already a dependency through the ServiceToken).
        self.resource.node.add_dependency(*self.provider.ready)

        self._grant_handler(
            source_project_arn=source_project_arn,
            source_project_version_arn=source_project_version_arn,
            destination_project_arn=destination_project_arn,
            destination_versions_arn=destination_versions_arn,
            output_bucket=output_bucket,
            output_prefix=output_prefix,
            encryption_key=encryption_key,
            source_kms_key=source_kms_key,
        )

        self.project_version_arn: str = self.resource.get_att_string("ProjectVersionArn")
        """ARN of the copied model version in the destination project."""
        self.version_name: str = self.resource.get_att_string("VersionName")
        """Name of the copied model version (as the handler reports it)."""
        self.status: str = self.resource.get_att_string("Status")
        """Status of the copy when the deployment finished (COPYING_COMPLETED after a successful create,
        RUNNING when ``min_inference_units`` is set)."""

    def grant_detect_custom_labels(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (the application using the model) call DetectCustomLabels on this copy only."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(permissions.DETECT_ACTIONS),
            resource_arns=[self.project_version_arn],
        )

    def _grant_handler(
        self,
        *,
        source_project_arn: str,
        source_project_version_arn: str,
        destination_project_arn: str,
        destination_versions_arn: str,
        output_bucket: s3.IBucket,
        output_prefix: str,
        encryption_key: kms.IKey | None,
        source_kms_key: kms.IKey | str | None,
    ) -> None:
        """Give the shared function exactly what this copy needs (:func:`permissions.copy_statements`), on
        this copy's resources only, added to the role's shared statements. Keys are granted in the role's
        policy: enough for a key of this account whose policy delegates to IAM (the CDK's default); a key
        of another account must also allow the role in its key policy."""
        provider = self.provider
        objects_arn = output_bucket.arn_for_objects(f"{output_prefix}*")
        output_keys = [key.key_arn for key in output_keys_of(encryption_key, output_bucket)]
        provider.allow(
            permissions.copy_statements(
                source_project_arns=[source_project_arn],
                source_version_arns=[source_project_version_arn],
                destination_project_arns=[destination_project_arn],
                destination_version_arns=[destination_versions_arn],
                bucket_arns=[output_bucket.bucket_arn],
                object_arns=[objects_arn],
                key_arns=output_keys,
                source_key_arns=[key_arn_of(source_kms_key)] if source_kms_key is not None else [],
            )
        )
        provider.acknowledge_wildcard(
            destination_versions_arn,
            "A model version's ARN ends in its creation timestamp, known only once CopyProjectVersion "
            "returns. The statement is on the versions of this one destination project, not of the version "
            "name, so that the Delete of a replaced copy (sent with its old name after the policy changed) "
            "can still stop and delete it. The handler deletes only the version it created (its physical id, "
            "or the one carrying its owner tag).",
        )
        provider.acknowledge_wildcard(
            objects_arn,
            "Rekognition chooses the keys of the files it writes for a copy (with the caller's permissions); "
            "the wildcard is limited to this copy's output prefix in the output bucket.",
        )


def output_keys_of(encryption_key: kms.IKey | None, output_bucket: s3.IBucket) -> list[kms.IKey]:
    """The keys a copy's output is written with: ``KmsKeyId`` and the output bucket's SSE-KMS key (Rekognition
    writes through the caller, so the caller needs that key too)."""
    keys: list[kms.IKey] = []
    if encryption_key is not None:
        keys.append(encryption_key)
    if output_bucket.encryption_key is not None and output_bucket.encryption_key is not encryption_key:
        keys.append(output_bucket.encryption_key)
    return keys


def _warn_if_the_project_goes_first(
    scope: Construct, project: rekognition.CfnProject | str, removal_policy: RemovalPolicy
) -> None:
    """RETAIN keeps the copy, but Rekognition cannot delete a project that still has versions: a
    destination CfnProject that is not retained too makes the stack's deletion fail on the project."""
    if removal_policy != RemovalPolicy.RETAIN or not isinstance(project, rekognition.CfnProject):
        return
    if project.cfn_options.deletion_policy == CfnDeletionPolicy.RETAIN:
        return
    Annotations.of(scope).add_warning_v2(
        "rekognition-model-copy:retained-copy-in-deleted-project",
        f"removal_policy=RETAIN keeps the copied model, but the destination project "
        f"{project.node.path} is deleted with the stack, and Rekognition cannot delete a project that "
        "still has model versions: the stack's deletion would fail. Retain the project too "
        "(project.apply_removal_policy(RemovalPolicy.RETAIN)) or keep it in another stack.",
    )


def _project_versions_arn(project_arn: str, parsed: validation.ParsedArn | None) -> str:
    """``arn:<partition>:rekognition:<region>:<account>:project/<name>/version/*`` of a project ARN.

    Parsed at synth time when the ARN is a literal; built with ``Fn::Split``/``Fn::Select`` when it is a
    token.
    """
    if parsed is not None:
        return (
            f"arn:{parsed.partition}:rekognition:{parsed.region}:{parsed.account}:"
            f"project/{parsed.project_name}/version/*"
        )
    parts = Arn.split(project_arn, ArnFormat.SLASH_RESOURCE_NAME)
    return Arn.format(
        ArnComponents(
            partition=parts.partition,
            service="rekognition",
            region=parts.region,
            account=parts.account,
            resource="project",
            resource_name=f"{parts.resource_name}/version/*",
        )
    )
