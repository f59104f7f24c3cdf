"""The arguments of one copy, stated once: the keywords users pass (:class:`CopyProps`, taken by both
:class:`RekognitionModelCopy` and :class:`RekognitionModelPromotion`) and their checked, frozen value
(:class:`CopyArguments`), which both constructs build and read.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from aws_cdk import Arn, ArnComponents, ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3

from . import validation

if TYPE_CHECKING:
    from .project_version import IProjectVersion

DEFAULT_OUTPUT_PREFIX_TEMPLATE = "rekognition-model-copy/{version_name}/"
DEFAULT_TIMEOUT = Duration.hours(1)
"""How long CloudFormation waits for a copy when no ``timeout`` is given: 1 hour, its longest."""


def default_output_prefix(version_name: str) -> str:
    """The output prefix used when none is given: ``rekognition-model-copy/<version_name>/``."""
    return DEFAULT_OUTPUT_PREFIX_TEMPLATE.format(version_name=version_name)


class CopyProps(TypedDict):
    """The keyword arguments of a copy: all of :class:`RekognitionModelCopy`'s, and those
    :class:`RekognitionModelPromotion` takes besides its own. Each is checked at synth time (tokens are
    not); see :class:`CopyArguments`."""

    source: NotRequired[IProjectVersion]
    """The trained model version to copy: a version imported with
    :meth:`ProjectVersion.from_project_version_attributes` (its project ARN and version ARN, checked
    there), or another copy of this app. It may be in another account of the same Region (that account must
    allow the copy with a project policy). Give either ``source`` or both ARNs below."""
    source_project_arn: NotRequired[str]
    """Instead of ``source``: ARN of the project the source version belongs to (same partition, account,
    Region and project name as the version ARN; the version ARN does not carry the project's creation
    timestamp)."""
    source_project_version_arn: NotRequired[str]
    """Instead of ``source``: ARN of the trained model version to copy."""
    destination_project: rekognition.CfnProject | str
    """The project receiving the copy: an ``AWS::Rekognition::Project`` of this app (``CfnProject``) or a
    project ARN. It must be in the stack's account and Region."""
    version_name: str
    """Name of the new version in the destination project, 1-255 characters of ``[a-zA-Z0-9_.-]``."""
    output_bucket: s3.IBucket
    """Bucket where Rekognition writes the copy's training results (``OutputConfig.S3Bucket``)."""
    output_prefix: NotRequired[str | None]
    """Key prefix in ``output_bucket`` (``OutputConfig.S3KeyPrefix``, at most 1024 characters). Default:
    ``rekognition-model-copy/<version_name>/``."""
    encryption_key: NotRequired[kms.IKey | None]
    """KMS key that encrypts the copied model (``KmsKeyId``). Default: none, the model is encrypted with an
    AWS owned key. A key of another account needs the copy role in its key policy
    (:meth:`RekognitionModelPromotion.key_policy_statements`)."""
    tags: NotRequired[Mapping[str, str] | None]
    """Tags of the new model version, merged with those added by ``Tags.of(scope).add(...)`` (which win on
    a key given both ways, as for every CDK resource): at most 199 in all (a version holds 200, the
    handler's owner marker takes one), 198 with an ``encryption_key`` (the handler's key marker takes
    another); keys 1-128 characters, not starting with ``aws:``; values at most 256. Default: no tags."""
    removal_policy: NotRequired[RemovalPolicy]
    """What happens to the copied version when the resource is deleted or replaced. Default: ``DESTROY``,
    the version is stopped if running and deleted. ``RETAIN`` keeps it (``DeletionPolicy`` and
    ``UpdateReplacePolicy`` ``Retain``)."""
    timeout: NotRequired[Duration]
    """The longest CloudFormation waits for a create, update or delete to finish (``ServiceTimeout``,
    1 second to 1 hour). Default: 1 hour."""
    min_inference_units: NotRequired[int | None]
    """Serve the copy: after the copy, StartProjectVersion with this many inference units and wait until
    the model is RUNNING. Changing it restarts the model in place; removing it stops the model. A running
    model is billed per inference unit and hour. Default: ``None``, the copy is not started."""
    max_inference_units: NotRequired[int | None]
    """With ``min_inference_units``, the most units Rekognition scales the running model to. Default:
    ``None``, as many as ``min_inference_units``."""
    source_kms_key: NotRequired[kms.IKey | str | None]
    """The customer managed KMS key the SOURCE model was trained with (its ``KmsKeyId``), as an ``IKey``
    or a key ARN: the function gets ``kms:DescribeKey``, ``kms:Decrypt`` and ``kms:CreateGrant`` (for AWS
    resources) on that key alone. The key's policy must allow it too when the key is in another account
    (:meth:`RekognitionModelPromotion.source_key_policy_statements`). Default: ``None``, the source model
    is encrypted with an AWS owned key."""
    min_f1_score: NotRequired[float | None]
    """A quality bar, greater than 0 and at most 1: the source version is read (DescribeProjectVersions)
    before it is copied, and the deployment fails, with nothing copied, unless it is trained and its
    ``EvaluationResult.F1Score`` is at least this (``MinF1Score``). Raising it later checks the source
    again; the copy is left as it is. On a :class:`RekognitionModelCopy`, only for a source version of the
    stack's own account (a destination cannot read another account's versions); a
    :class:`RekognitionModelPromotion` across accounts checks it in the source account's project policy.
    Default: ``None``, no bar (and no DescribeProjectVersions on the source project)."""


@dataclass(frozen=True, kw_only=True)
class CopyArguments:
    """The arguments of one copy in ``stack``, checked when the value is made: it raises
    :class:`~.validation.ModelCopyValidationError` for a value that can never deploy (wrong ARN shape,
    mismatched project, account or Region, name, prefix, tag, timeout or inference-unit limits, a source
    key that is not a key ARN of the source's Region, a quality bar outside 0 < x <= 1). Tokens are not
    checked. Made from the keywords:
    ``CopyArguments(stack=stack, **props)``; the fields are those of :class:`CopyProps` (as given), then
    what follows from them.
    """

    stack: Stack
    """The stack the copy is made in: its account and Region are the destination's."""
    source_project_arn: str
    source_project_version_arn: str
    destination_project: rekognition.CfnProject | str
    version_name: str
    output_bucket: s3.IBucket
    output_prefix: str | None = None
    encryption_key: kms.IKey | None = None
    tags: Mapping[str, str] | None = None
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    timeout: Duration = DEFAULT_TIMEOUT
    min_inference_units: int | None = None
    max_inference_units: int | None = None
    source_kms_key: kms.IKey | str | None = None
    min_f1_score: float | None = None

    s3_key_prefix: str = field(init=False)
    """The prefix the copy writes under: ``output_prefix``, or :func:`default_output_prefix`."""
    source_key_arn: str | None = field(init=False)
    """The ARN of ``source_kms_key``, or ``None``."""
    destination: validation.ParsedArn | None = field(init=False)
    """The parts of ``destination_project`` when it is a literal ARN (``None`` for a ``CfnProject`` or a
    token)."""
    destination_project_arn: str = field(init=False)
    """The destination project's ARN (``Fn::GetAtt Arn`` of a ``CfnProject``)."""
    destination_versions_arn: str = field(init=False)
    """``arn:<partition>:rekognition:<region>:<account>:project/<name>/version/*``: the versions of the
    destination project, where the copy is made."""

    def __post_init__(self) -> None:
        prefix = self.output_prefix
        self._set("s3_key_prefix", default_output_prefix(self.version_name) if prefix is None else prefix)
        key = self.source_kms_key
        self._set("source_key_arn", key if isinstance(key, str) or key is None else key.key_arn)
        self._set("destination", self._check())
        project = self.destination_project
        self._set(
            "destination_project_arn",
            project.attr_arn if isinstance(project, rekognition.CfnProject) else project,
        )
        self._set("destination_versions_arn", project_versions_arn(project, self.destination))

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _check(self) -> validation.ParsedArn | None:
        """Every check, in the order users meet them; the parts of a literal destination ARN."""
        source_project = validation.parse_project_arn("source_project_arn", self.source_project_arn)
        source_version = validation.parse_project_version_arn(
            "source_project_version_arn", self.source_project_version_arn
        )
        validation.check_source_matches_version(self.source_project_arn, source_project, source_version)
        validation.check_version_name(self.version_name)
        destination = None
        if isinstance(self.destination_project, rekognition.CfnProject):
            validation.check_project_name(self.destination_project.project_name)
            destination_region: str | None = Stack.of(self.destination_project).region
        else:
            destination = validation.parse_project_arn("destination_project", self.destination_project)
            destination_region = destination.region if destination is not None else None
            validation.check_destination_account(destination, self.stack.account)
        validation.check_regions(source_version or source_project, destination_region, self.stack.region)
        validation.check_output_prefix(self.s3_key_prefix)
        validation.check_tags(self.tags, keyed=self.encryption_key is not None)
        validation.check_timeout(self.timeout)
        validation.check_inference_units(self.min_inference_units, self.max_inference_units)
        validation.check_min_f1_score("min_f1_score", self.min_f1_score)
        if self.source_key_arn is not None:
            validation.check_source_key_arn("source_kms_key", self.source_key_arn, source_version)
        return destination

    @property
    def source(self) -> validation.ParsedArn | None:
        """The parts of ``source_project_version_arn`` (``None`` for a token)."""
        return validation.parse_project_version_arn(
            "source_project_version_arn", self.source_project_version_arn
        )

    @property
    def output_keys(self) -> list[kms.IKey]:
        """The keys the copy's output is written with: ``encryption_key`` and the output bucket's SSE-KMS
        key (Rekognition writes through the caller, so the caller needs that key too)."""
        keys: list[kms.IKey] = []
        if self.encryption_key is not None:
            keys.append(self.encryption_key)
        bucket_key = self.output_bucket.encryption_key
        if bucket_key is not None and bucket_key is not self.encryption_key:
            keys.append(bucket_key)
        return keys


def project_versions_arn(project: rekognition.CfnProject | str, parsed: validation.ParsedArn | None) -> str:
    """``arn:<partition>:rekognition:<region>:<account>:project/<name>/version/*``: the versions of a
    project given as a ``CfnProject`` (in its stack's account and Region) or as an ARN.

    A literal ARN's parts are ``parsed`` at synth time; a token ARN is taken apart with
    ``Fn::Split``/``Fn::Select``.
    """
    partition: str | None
    region: str | None
    account: str | None
    name: str | None
    if isinstance(project, rekognition.CfnProject):
        stack = Stack.of(project)
        partition, region, account = stack.partition, stack.region, stack.account
        name = project.project_name
    elif parsed is not None:
        partition, region, account = parsed.partition, parsed.region, parsed.account
        name = parsed.project_name
    else:
        parts = Arn.split(project, ArnFormat.SLASH_RESOURCE_NAME)
        partition, region, account, name = parts.partition, parts.region, parts.account, parts.resource_name
    components = ArnComponents(
        partition=partition,
        service="rekognition",
        region=region,
        account=account,
        resource="project",
        resource_name=f"{name}/version/*",
    )
    return Arn.format(components)


def with_source_arns(props: Mapping[str, Any]) -> dict[str, Any]:
    """``props`` with ``source`` (an :class:`IProjectVersion`) replaced by its two ARNs,
    ``source_project_arn`` and ``source_project_version_arn``, which the rest of the library works with.

    :raises validation.ModelCopyValidationError: ``source`` together with either ARN, or neither ``source``
        nor both ARNs.
    """
    given = dict(props)
    source = given.pop("source", None)
    arns = [name for name in ("source_project_arn", "source_project_version_arn") if name in given]
    if source is not None:
        if arns:
            raise validation.ModelCopyValidationError(
                f"Give the source version either as source= or as its two ARNs, not both (got source= and "
                f"{' and '.join(arns)})."
            )
        given["source_project_arn"] = source.project_arn
        given["source_project_version_arn"] = source.project_version_arn
    elif len(arns) != 2:
        raise validation.ModelCopyValidationError(
            "No source version: give source=ProjectVersion.from_project_version_attributes(scope, id, "
            "project_arn=..., project_version_arn=...) (or a copy of this app), or both "
            "source_project_arn and source_project_version_arn."
        )
    return given


def check_keywords(props: Mapping[str, object]) -> None:
    """Raise ``TypeError``, as a call would, for a missing or unknown keyword of :class:`CopyProps`."""
    inspect.signature(CopyArguments).bind(stack=None, **props)
