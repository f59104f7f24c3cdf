"""Synth-time checks of the values given to the constructs of this library.

Every check skips a value that is an unresolved CDK token (``Token.is_unresolved``): its real value is
only known at deploy time. Errors are :class:`ModelCopyValidationError` (a ``ValueError``) whose message
names the argument, repeats the value received and says what to change.

The patterns and limits come from the Rekognition API model (botocore
``rekognition/2016-06-27/service-2.json``) and the CloudFormation custom resource limits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_cdk import Duration, Token

from . import contract

PROJECT_ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>[a-z\d-]+):rekognition:(?P<region>[a-z\d-]+):(?P<account>\d{12}):"
    r"project\/(?P<project_name>[a-zA-Z0-9_.\-]{1,255})\/(?P<timestamp>[0-9]+)$"
)
PROJECT_VERSION_ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>[a-z\d-]+):rekognition:(?P<region>[a-z\d-]+):(?P<account>\d{12}):"
    r"project\/(?P<project_name>[a-zA-Z0-9_.\-]{1,255})\/version\/"
    r"(?P<version_name>[a-zA-Z0-9_.\-]{1,255})\/(?P<timestamp>[0-9]+)$"
)
VERSION_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_.\-]{1,255}$")
# AWS::Rekognition::Project ProjectName.
PROJECT_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-]{0,254}$")

MAX_OUTPUT_PREFIX_LENGTH = 1024
# Rekognition allows 200 tags; the handler adds one of its own (OWNER_TAG) to every copy, and a second
# (KMS_KEY_TAG, the key's ARN) to a copy made with a KMS key.
MAX_TAGS = 199
OWNER_TAG = contract.OWNER_TAG
KMS_KEY_TAG = contract.KMS_KEY_TAG
REMADE_TAG = contract.REMADE_TAG
TAKEN_TAG = contract.TAKEN_TAG
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
MIN_TIMEOUT_SECONDS = 1
MAX_TIMEOUT_SECONDS = 3600

_EXAMPLE_PROJECT_ARN = "arn:aws:rekognition:us-east-1:111111111111:project/my-project/1700000000000"
_EXAMPLE_VERSION_ARN = (
    "arn:aws:rekognition:us-east-1:111111111111:project/my-project/version/my-model.2026-01-01/1700000000001"
)


class ModelCopyValidationError(ValueError):
    """A construct argument that can never deploy, found at synth time."""


@dataclass(frozen=True)
class ParsedArn:
    """The parts of a Rekognition project or project version ARN."""

    partition: str
    region: str
    account: str
    project_name: str
    version_name: str | None = None


def is_token(value: object) -> bool:
    """Whether ``value`` holds an unresolved token (deploy-time value) that synth cannot check."""
    return Token.is_unresolved(value)


def check_match(pattern: re.Pattern[str], value: str, message: str) -> None:
    """Raise ``ModelCopyValidationError(message)`` when ``value`` (not a token) does not match ``pattern``."""
    if not is_token(value) and not pattern.match(value):
        raise ModelCopyValidationError(message)


def parse_project_arn(argument: str, value: str) -> ParsedArn | None:
    """Check a project ARN's shape and return its parts; ``None`` when ``value`` is a token."""
    hint = (
        " This looks like a project version ARN; give the project's own ARN." if "/version/" in value else ""
    )
    return _parse(
        PROJECT_ARN_PATTERN,
        value,
        f"{argument} must be a Rekognition project ARN of the form "
        f"arn:<partition>:rekognition:<region>:<account>:project/<project name>/<creation timestamp>, "
        f"for example {_EXAMPLE_PROJECT_ARN}; got {value!r}.{hint} "
        "Copy the ProjectArn from `aws rekognition describe-projects`.",
    )


def parse_project_version_arn(argument: str, value: str) -> ParsedArn | None:
    """Check a project version ARN's shape and return its parts; ``None`` when ``value`` is a token."""
    return _parse(
        PROJECT_VERSION_ARN_PATTERN,
        value,
        f"{argument} must be a Rekognition project version ARN of the form "
        "arn:<partition>:rekognition:<region>:<account>:project/<project name>/version/"
        f"<version name>/<creation timestamp>, for example {_EXAMPLE_VERSION_ARN}; got {value!r}. "
        "Copy the ProjectVersionArn from `aws rekognition describe-project-versions`.",
    )


def _parse(pattern: re.Pattern[str], value: str, message: str) -> ParsedArn | None:
    """The parts of a project or project version ARN (the creation timestamp left out); ``None`` for a
    token; ``ModelCopyValidationError(message)`` when ``pattern`` does not match."""
    if is_token(value):
        return None
    match = pattern.match(value)
    if match is None:
        raise ModelCopyValidationError(message)
    parts = match.groupdict()
    return ParsedArn(
        partition=parts["partition"],
        region=parts["region"],
        account=parts["account"],
        project_name=parts["project_name"],
        version_name=parts.get("version_name"),
    )


PROJECT_PARTS = ("partition", "account", "region", "project_name")
"""What makes two ARNs name the same project, compared in this order."""


def check_same_project(
    expected: ParsedArn | None, got: ParsedArn | None, message: Callable[[str, str, str], str]
) -> None:
    """Raise ``ModelCopyValidationError(message(label, got, expected))`` for the first part of
    :data:`PROJECT_PARTS` in which ``got`` names another project than ``expected`` (the label is the part's
    name, the values are ``repr``'d). Either ARN unknown (``None``, a token), a part unknown on either side
    (``None``) or a token in ``expected`` agrees with anything."""
    if expected is None or got is None:
        return
    for part in PROJECT_PARTS:
        want, have = getattr(expected, part), getattr(got, part)
        if have is not None and want is not None and not is_token(want) and have != want:
            raise ModelCopyValidationError(message(part.replace("_", " "), repr(have), repr(want)))


def check_source_matches_version(
    source_project_arn: str,
    source_project: ParsedArn | None,
    source_version: ParsedArn | None,
) -> None:
    """The source project ARN must name the project the source version belongs to."""
    check_same_project(
        source_version,
        source_project,
        lambda label, got, expected: (
            f"source_project_arn must be the project that source_project_version_arn belongs to: "
            f"its {label} is {got} in {source_project_arn!r} but {expected} in the version ARN. "
            "Give the ARN of the version's own project (same partition, account, Region and project "
            "name)."
        ),
    )


def check_version_name(value: str) -> None:
    """VersionName: 1-255 characters of ``[a-zA-Z0-9_.-]``."""
    check_match(
        VERSION_NAME_PATTERN,
        value,
        f"version_name must be 1-255 characters of letters, digits, '_', '.' or '-'; got {value!r}. "
        "Choose a name such as 'defects.2026-11-01'.",
    )


def check_project_name(value: str) -> None:
    """ProjectName of an ``AWS::Rekognition::Project`` given as ``destination_project``."""
    check_match(
        PROJECT_NAME_PATTERN,
        value,
        "destination_project's project_name must be 1-255 characters of letters, digits, '_' or '-', "
        f"starting with a letter or digit; got {value!r}. Rename the CfnProject.",
    )


def check_regions(
    source: ParsedArn | None,
    destination_region: str | None,
    stack_region: str,
) -> None:
    """Source and destination must be in one Region, the Region the stack (and its function) runs in."""
    if source is not None and destination_region is not None and not is_token(destination_region):
        if source.region != destination_region:
            raise ModelCopyValidationError(
                "CopyProjectVersion copies within one Region: source_project_version_arn is in "
                f"{source.region!r} but destination_project is in {destination_region!r}. Create the "
                f"destination project in {source.region!r}, or copy from a source version in "
                f"{destination_region!r}."
            )
    if is_token(stack_region):
        return
    for argument, region in (
        ("source_project_version_arn", source.region if source is not None else None),
        ("destination_project", destination_region),
    ):
        if region is not None and not is_token(region) and region != stack_region:
            raise ModelCopyValidationError(
                f"{argument} is in Region {region!r} but the stack deploys to {stack_region!r}; the copy "
                f"runs in the stack's Region. Deploy the stack to {region!r} (env=Environment(region=...)) "
                f"or use a project in {stack_region!r}."
            )


def check_destination_account(destination: ParsedArn | None, stack_account: str) -> None:
    """The copy is made by (and belongs to) the account the stack deploys to."""
    if destination is None or is_token(stack_account):
        return
    if destination.account != stack_account:
        raise ModelCopyValidationError(
            f"destination_project is in account {destination.account!r} but the stack deploys to account "
            f"{stack_account!r}; a copy is made by the destination account. Deploy the stack to account "
            f"{destination.account!r}, or give a project of account {stack_account!r}."
        )


KEY_ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>[a-z\d-]+):kms:(?P<region>[a-z\d-]+):(?P<account>\d{12}):key\/(?P<key_id>[a-zA-Z0-9\-]+)$"
)
_EXAMPLE_KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def check_source_key_arn(argument: str, value: str, source: ParsedArn | None) -> None:
    """The key a source model was trained with: a key ARN (IAM matches KMS permissions on the key's ARN,
    never on an alias or a bare key id), in the source version's partition and Region (a model's key is in
    the model's Region)."""
    if is_token(value):
        return
    match = KEY_ARN_PATTERN.match(value)
    if match is None:
        raise ModelCopyValidationError(
            f"{argument} must be the ARN of a KMS key (arn:<partition>:kms:<region>:<account>:key/<key id>), "
            f"got {value!r}: IAM and key policies match the key's ARN, not an alias or a key id. Look it up "
            f"with `aws kms describe-key --key-id <alias or id>` (KeyMetadata.Arn), e.g. {_EXAMPLE_KEY_ARN}."
        )
    if source is None:
        return
    for part in ("partition", "region"):
        if match.group(part) != getattr(source, part) and not is_token(getattr(source, part)):
            raise ModelCopyValidationError(
                f"{argument} {value!r} is in {part} {match.group(part)!r} but the source version is in "
                f"{getattr(source, part)!r}; a model is encrypted with a key of its own {part}. Give the key "
                "the source model was trained with (DescribeProjectVersions shows it as KmsKeyId)."
            )


def check_output_prefix(value: str) -> None:
    """OutputConfig.S3KeyPrefix: at most 1024 characters."""
    if is_token(value):
        return
    if len(value) > MAX_OUTPUT_PREFIX_LENGTH:
        raise ModelCopyValidationError(
            f"output_prefix must be at most {MAX_OUTPUT_PREFIX_LENGTH} characters; got {len(value)} "
            f"characters ({value[:40]!r}...). Use a shorter prefix."
        )


def check_tags(tags: Mapping[str, str] | None, *, keyed: bool = False) -> None:
    """Tags: at most 199 (Rekognition's 200, less the handler's owner tag), 198 when ``keyed`` (an
    ``encryption_key``: the handler also marks the copy with its key); keys 1-128 characters not starting
    with ``aws:`` and not one of the handler's marker tags; values at most 256."""
    if tags is None or is_token(tags):
        return
    limit = MAX_TAGS - 1 if keyed else MAX_TAGS
    if len(tags) > limit:
        marks = "the two this construct adds to mark the copy as its own and record its encryption_key"
        raise ModelCopyValidationError(
            f"tags may hold at most {limit} tags (Rekognition's 200, less "
            f"{marks if keyed else 'the one this construct adds to mark the copy as its own'}); "
            f"got {len(tags)}. Remove {len(tags) - limit} of them."
        )
    for marker in (OWNER_TAG, KMS_KEY_TAG, REMADE_TAG, TAKEN_TAG):
        if marker in tags:
            raise ModelCopyValidationError(
                f"tags: the key {marker!r} is reserved for the markers the handler puts on its copies. "
                "Rename the key."
            )
    for key, value in tags.items():
        if not is_token(key):
            if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY_LENGTH:
                raise ModelCopyValidationError(
                    f"tags: every key must be a string of 1-{MAX_TAG_KEY_LENGTH} characters; got {key!r}. "
                    "Shorten or rename the key."
                )
            if key.startswith("aws:"):
                raise ModelCopyValidationError(
                    f"tags: keys starting with 'aws:' are reserved for AWS; got {key!r}. Rename the key "
                    "without the 'aws:' prefix."
                )
        if not is_token(value):
            if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_LENGTH:
                raise ModelCopyValidationError(
                    f"tags: the value of {key!r} must be a string of at most {MAX_TAG_VALUE_LENGTH} "
                    f"characters; got {value!r}. Shorten the value."
                )


def check_inference_units(min_units: int | None, max_units: int | None) -> None:
    """StartProjectVersion: MinInferenceUnits at least 1; MaxInferenceUnits needs it and is not smaller."""
    for name, value in (("min_inference_units", min_units), ("max_inference_units", max_units)):
        if value is not None and not is_token(value) and (not isinstance(value, int) or value < 1):
            raise ModelCopyValidationError(
                f"{name} must be a whole number of at least 1; got {value!r}. Use e.g. 1."
            )
    if max_units is not None and min_units is None:
        raise ModelCopyValidationError(
            f"max_inference_units ({max_units}) needs min_inference_units: the model is started with "
            "min_inference_units and scales up to max_inference_units. Set min_inference_units too."
        )
    if (
        isinstance(min_units, int)
        and isinstance(max_units, int)
        and not is_token(min_units)
        and not is_token(max_units)
        and max_units < min_units
    ):
        raise ModelCopyValidationError(
            f"max_inference_units ({max_units}) is smaller than min_inference_units ({min_units}). Raise "
            "max_inference_units or lower min_inference_units."
        )


def check_timeout(timeout: Duration) -> None:
    """The custom resource's ServiceTimeout: CloudFormation accepts 1-3600 whole seconds."""
    if timeout.is_unresolved():
        return
    seconds = timeout.to_seconds(integral=False)
    if seconds != int(seconds) or not MIN_TIMEOUT_SECONDS <= seconds <= MAX_TIMEOUT_SECONDS:
        raise ModelCopyValidationError(
            f"timeout must be a whole number of seconds from {MIN_TIMEOUT_SECONDS} s to "
            f"{MAX_TIMEOUT_SECONDS} s (1 hour), the range of CloudFormation's ServiceTimeout; got "
            f"{timeout.to_human_string()} ({seconds:g} s). Use e.g. Duration.minutes(30) or "
            "Duration.hours(1)."
        )


def check_min_f1_score(argument_name: str, value: float | None) -> None:
    """A quality bar (``MinF1Score``): a number greater than 0 and at most 1, the range of an F1 score."""
    if value is None:
        return
    number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if number and is_token(value):  # a number token is a finite float; jsii cannot take a NaN
        return
    if not number or not 0 < value <= 1:
        raise ModelCopyValidationError(
            f"{argument_name} must be a number greater than 0 and at most 1 (the F1 score a model version "
            f"must reach, EvaluationResult.F1Score); got {value!r}. Use e.g. 0.9, or None for no bar."
        )


def check_bar_readable(source: ParsedArn | None, stack_account: str) -> None:
    """A copy's quality bar is checked by the destination, which can read only its own account's versions."""
    if source is None or is_token(stack_account) or source.account == stack_account:
        return
    raise ModelCopyValidationError(
        f"min_f1_score on a copy needs a source version of the stack's own account ({stack_account!r}): the "
        f"destination cannot read a version of account {source.account!r} (DescribeProjectVersions). Put "
        "the bar on the source account's project policy: RekognitionModelPromotion(min_f1_score=...) or "
        "RekognitionProjectPolicy(min_f1_score=...), which check the version before letting it be copied."
    )


ROLE_NAME_PATTERN = re.compile(r"^[\w+=,.@-]{1,64}$")


def check_role_name(value: str) -> None:
    """An IAM role name: 1-64 characters of ``[\\w+=,.@-]``."""
    check_match(
        ROLE_NAME_PATTERN,
        value,
        f"role_name must be 1-64 characters of letters, digits and '+=,.@_-' (an IAM role name); got "
        f"{value!r}. Choose a shorter name without other characters.",
    )
