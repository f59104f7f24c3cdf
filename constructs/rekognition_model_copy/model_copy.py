"""``RekognitionModelCopy``: copy a Rekognition Custom Labels model version into a project of this stack."""

from __future__ import annotations

from typing import Any, Unpack

import jsii
from aws_cdk import (
    Annotations,
    CfnDeletionPolicy,
    CustomResource,
    IAnyProducer,
    IResolveContext,
    ITaggable,
    Lazy,
    RemovalPolicy,
    Stack,
    TagManager,
    TagType,
)
from aws_cdk import aws_rekognition as rekognition
from constructs import Construct, IValidation

from . import compat, contract, permissions, validation
from .arguments import CopyArguments, CopyProps, with_source_arns
from .project_version import ProjectVersionBase, arn_part
from .provider import RekognitionModelCopyProvider

RESOURCE_TYPE = contract.MODEL_COPY_TYPE


@jsii.implements(ITaggable)
class RekognitionModelCopy(ProjectVersionBase):
    """A copy of a trained Rekognition Custom Labels model version, made by CopyProjectVersion.

    An :class:`IProjectVersion` (a CDK ``Resource``: ``stack``, ``env``, ``apply_removal_policy``), with
    grants and the metrics of the served copy; it can be the ``source`` of a further copy.

    On create the backing function starts the copy and waits (polling, up to ``timeout``) until the new
    version is COPYING_COMPLETED; the deployment fails with the service's status message on COPYING_FAILED.
    A change of source, destination, version name, output location or key makes a new copy and deletes the
    old one; a change of tags alone is applied in place. On delete the version is stopped if running and
    deleted, unless ``removal_policy`` is RETAIN. With ``min_f1_score`` (a same-account copy) the source
    version must be trained and evaluated at least that well, or nothing is copied.

    Cross-account copies need a project policy on the source project allowing the destination account
    (or the function's role) ``rekognition:CopyProjectVersion`` on the source version:
    :class:`RekognitionModelPromotion` creates both sides (:class:`RekognitionProjectPolicy` in the source
    account's stack, this copy in the destination's).

    Taggable like every CDK resource: ``Tags.of(scope).add(key, value)`` tags the copied version too (its
    ``Tags`` property holds the ``tags`` argument and those tags, see :attr:`tags`).
    """

    def __init__(self, scope: Construct, id: str, **props: Unpack[CopyProps]) -> None:
        """Copy the ``source`` version into ``destination_project`` as ``version_name``.

        The keyword arguments are those of :class:`CopyProps` (required: ``source``, or instead
        ``source_project_arn`` and ``source_project_version_arn``; ``destination_project``, ``version_name``,
        ``output_bucket``), each documented there with its default.

        :raises validation.ModelCopyValidationError: a value that can never deploy (see
            :class:`CopyArguments`), or ``min_f1_score`` with a source version of another account (the
            bar belongs on that account's project policy); nothing is created then. Tokens are not
            checked.
        """
        # Validate everything before creating any construct.
        check_source_stack(props.get("source"), Stack.of(scope))
        arguments = CopyArguments(stack=Stack.of(scope), **with_source_arns(props))
        if arguments.min_f1_score is not None:
            validation.check_bar_readable(arguments.source, arguments.stack.account)

        super().__init__(scope, id)
        self.arguments: CopyArguments = arguments
        """The copy's arguments as checked, with what follows from them."""
        _warn_if_the_project_goes_first(self, arguments.destination_project, arguments.removal_policy)

        self.provider = RekognitionModelCopyProvider.of(self)
        """The stack's shared backing function (one per stack)."""

        self._tags = TagManager(TagType.MAP, RESOURCE_TYPE, arguments.tags, tag_property_name="Tags")
        properties: dict[str, object] = {
            "SourceProjectArn": arguments.source_project_arn,
            "SourceProjectVersionArn": arguments.source_project_version_arn,
            "DestinationProjectArn": arguments.destination_project_arn,
            "VersionName": arguments.version_name,
            "OutputConfig": {
                "S3Bucket": arguments.output_bucket.bucket_name,
                "S3KeyPrefix": arguments.s3_key_prefix,
            },
            "Tags": Lazy.uncached_any(_TagsProducer(self._tags)),
        }
        if arguments.encryption_key is not None:
            properties["KmsKeyId"] = arguments.encryption_key.key_arn
        if arguments.min_inference_units is not None:
            properties["MinInferenceUnits"] = arguments.min_inference_units
        if arguments.max_inference_units is not None:
            properties["MaxInferenceUnits"] = arguments.max_inference_units
        if arguments.min_f1_score is not None:
            properties["MinF1Score"] = arguments.min_f1_score

        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            removal_policy=arguments.removal_policy,
            **compat.service_timeout(properties, arguments.timeout),
            properties=properties,
        )
        """The ``Custom::RekognitionModelCopy`` resource."""
        # The function's policy, log group and EventBridge permission must exist before the first request
        # (the function itself is already a dependency through the ServiceToken).
        self.resource.node.add_dependency(*self.provider.ready)
        self.node.add_validation(_TagsValidation(self._tags, keyed=arguments.encryption_key is not None))

        self._grant_handler(arguments)

        self.project_version_arn = self.resource.get_att_string("ProjectVersionArn")
        """ARN of the copied model version in the destination project."""
        self.project_arn = arguments.destination_project_arn
        """ARN of the destination project."""
        self.version_name: str = self.resource.get_att_string("VersionName")
        """Name of the copied model version (as the handler reports it)."""
        self.status: str = self.resource.get_att_string("Status")
        """Status of the copy when the deployment finished (COPYING_COMPLETED after a successful create,
        RUNNING when ``min_inference_units`` is set)."""

    @property
    def tags(self) -> TagManager:
        """The copied version's tags (``ITaggable``): the ``tags`` argument and those added with
        ``Tags.of(scope).add(...)``, rendered into the ``Tags`` property when the app synthesises (checked
        then against the limits of :class:`CopyProps` ``tags``)."""
        return self._tags

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """What happens to the copied version when the resource is deleted or replaced (as the
        ``removal_policy`` argument): ``DESTROY`` stops and deletes it, ``RETAIN`` keeps it."""
        self.resource.apply_removal_policy(policy)
        _warn_if_the_project_goes_first(self, self.arguments.destination_project, policy)

    def _metric_dimensions(self) -> dict[str, str]:
        """The copy's ``ProjectName`` and ``VersionName`` as this app knows them (no template lookups)."""
        project = self.arguments.destination_project
        if isinstance(project, rekognition.CfnProject) and project.project_name is not None:
            project_name = project.project_name
        elif self.arguments.destination is not None:
            project_name = self.arguments.destination.project_name
        else:
            project_name = arn_part(self.arguments.destination_project_arn, 1)
        return {"ProjectName": project_name, "VersionName": self.arguments.version_name}

    def _grant_handler(self, arguments: CopyArguments) -> None:
        """Give the shared function exactly what this copy needs (:func:`permissions.copy_statements`, and
        :func:`permissions.gate_statements` with a quality bar), on this copy's resources only, added to the
        role's shared statements. Keys are granted in the role's policy: enough for a key of this account
        whose policy delegates to IAM (the CDK's default); a key of another account must also allow the role
        in its key policy."""
        provider = self.provider
        objects_arn = arguments.output_bucket.arn_for_objects(f"{arguments.s3_key_prefix}*")
        source_key_arn = arguments.source_key_arn
        provider.allow(
            permissions.copy_statements(
                source_project_arns=[arguments.source_project_arn],
                source_version_arns=[arguments.source_project_version_arn],
                destination_project_arns=[arguments.destination_project_arn],
                destination_version_arns=[arguments.destination_versions_arn],
                bucket_arns=[arguments.output_bucket.bucket_arn],
                object_arns=[objects_arn],
                key_arns=[key.key_arn for key in arguments.output_keys],
                source_key_arns=[source_key_arn] if source_key_arn is not None else [],
            )
        )
        if arguments.min_f1_score is not None:
            provider.allow(permissions.gate_statements(arguments.source_project_arn))
        # the copy's Update reads whether its stack is rolling back (the provider is this stack's)
        provider.allow(permissions.stack_status_statements([Stack.of(provider).stack_id]))
        provider.acknowledge_wildcard(
            arguments.destination_versions_arn,
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
        for resource, reason in permissions.owned_wildcards(arguments.destination_project_arn).items():
            provider.acknowledge_wildcard(resource, reason)


def check_source_stack(source: object, stack: Stack) -> None:
    """A copy of this app as the ``source`` must be in another stack than the new copy.

    In one stack the new copy's statements in the stack's shared function policy would name the source
    copy's ARN (its ``Fn::GetAtt``), while every copy waits for that policy: a dependency cycle
    CloudFormation refuses. From another stack the ARN is an export, deployed first.

    :raises validation.ModelCopyValidationError: ``source`` is a copy in ``stack``.
    """
    if isinstance(source, RekognitionModelCopy) and Stack.of(source) is stack:
        raise validation.ModelCopyValidationError(
            f"source {source.node.path!r} is a copy in the same stack {stack.stack_name!r}: the stack's "
            "shared function would need the source's ARN in its policy before any copy runs, a dependency "
            "cycle. Make the second copy in another stack (or copy from the original source version)."
        )


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


@jsii.implements(IAnyProducer)
class _TagsProducer:
    """Renders the ``Tags`` property when the template is written (after ``Tags.of`` has applied)."""

    def __init__(self, tags: TagManager) -> None:
        self._tags = tags

    def produce(self, context: IResolveContext) -> Any:
        return self._tags.render_tags()


@jsii.implements(IValidation)
class _TagsValidation:
    """Fails the synthesis when the merged tags (argument and ``Tags.of``) break a limit: the reserved marker
    keys, more than 199 tags (198 with an encryption key), a key or value too long."""

    def __init__(self, tags: TagManager, *, keyed: bool) -> None:
        self._tags = tags
        self._keyed = keyed

    def validate(self) -> list[str]:
        try:
            validation.check_tags(self._tags.tag_values(), keyed=self._keyed)
        except validation.ModelCopyValidationError as error:
            return [f"{error} (The copy's tags are its tags argument and those added with Tags.of.)"]
        return []
