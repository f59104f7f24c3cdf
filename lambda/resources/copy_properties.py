"""The properties of a Custom::RekognitionModelCopy: checked, converted, and read back.

:class:`CopyProperties` checks the properties being applied (CloudFormation sends every value as a
string) against botocore's patterns before anything is sent, and builds the CopyProjectVersion request.
:func:`identity_of` reads properties that may have been rejected (a rollback's OldResourceProperties, a
Delete after a failed Create) leniently, to find a copy left behind. :func:`owner_of` is the owner
marker every copy is tagged with.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import contract
from outcome import DEFAULT_SERVICE_TIMEOUT, service_timeout
from resources import quality_gate
from resources.errors import ResourceError

# Every copy carries this tag, naming (by a hash of StackId and LogicalResourceId) the resource that made
# it: a redelivered Create adopts its own copy, a Delete without a version ARN finds it, a rollback finds
# the copy a failed Update left, and a version that another stack or a person made is never adopted or
# deleted.
OWNER_TAG = contract.OWNER_TAG
# A copy made with a KmsKeyId also carries this tag, the ARN of that key (as kms:DescribeKey names it):
# DescribeProjectVersions may not report a copy's KmsKeyId, and the key a copy has is then read here, never
# from the previous properties (in a rollback those are the rejected ones).
KMS_KEY_TAG = contract.KMS_KEY_TAG
# A copy taken as the stack's although it existed (an adoption) carries this tag: when
# (``copy_calls.start_copy``); a cleanup left for the copy before then leaves it alone
# (``copy_calls.cleanup_step``).
TAKEN_TAG = contract.TAKEN_TAG
MARKERS = (OWNER_TAG, KMS_KEY_TAG, TAKEN_TAG)
# A copy an Update made again after the copy the stack held was deleted outside CloudFormation also carries
# this tag (``remade_mark``): the rollback of that update goes back to the gone copy by it. Not a marker:
# an Update made in place removes it with the undeclared tags (``copy_calls.update_tags``).
REMADE_TAG = contract.REMADE_TAG
MAX_TAGS = 200  # per resource, the handler's markers included (botocore's TagMap)
# botocore's patterns (service-2.json), checked before anything is sent: a value that can never be valid
# fails the request with a Reason naming the property, and a Delete knows nothing was made from it.
PROJECT_ARN = re.compile(
    r"^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project/[a-zA-Z0-9_.\-]{1,255}/[0-9]+$"
)
VERSION_ARN = re.compile(
    r"^(?P<project>arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project/[a-zA-Z0-9_.\-]{1,255})/version/"
    r"(?P<version>[a-zA-Z0-9_.\-]{1,255})/[0-9]+$"
)
VERSION_NAME = re.compile(r"^[a-zA-Z0-9_.\-]{1,255}$")
S3_BUCKET = re.compile(r"^[0-9A-Za-z.\-_]{3,255}$")
KMS_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2047}$")
TAG_TEXT = re.compile(r"^[\w\s.:/=+\-@]*$")
_TAG_RULE = "up to {} letters, digits, spaces and _.:/=+-@"


@dataclass(frozen=True)
class CopyProperties:
    """The resource's properties, checked and converted (CloudFormation sends every value as a string)."""

    source_project_arn: str
    source_project_version_arn: str
    destination_project_arn: str
    version_name: str
    s3_bucket: str
    s3_key_prefix: str | None
    tags: dict[str, str] = field(default_factory=dict)
    kms_key_id: str | None = None
    min_inference_units: int | None = None
    max_inference_units: int | None = None
    service_timeout: float = DEFAULT_SERVICE_TIMEOUT
    min_f1_score: float | None = None  # the quality bar of the source version (quality_gate.py)

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> CopyProperties:
        """Check presence, types and the service's patterns; raise ResourceError naming the property."""

        def text(name: str, pattern: re.Pattern[str] | None, required: bool = True) -> str | None:
            value = props.get(name)
            if value is None or value == "":
                if required:
                    raise ResourceError(f"Property {name} is required and missing.")
                return None
            if not isinstance(value, str):
                raise ResourceError(f"Property {name} must be a string, got {type(value).__name__}.")
            if pattern is not None and not pattern.match(value):
                raise ResourceError(f"Property {name} is not valid: {value[:300]!r}.")
            return value

        output = props.get("OutputConfig")
        if not isinstance(output, Mapping) or not output.get("S3Bucket"):
            raise ResourceError("Property OutputConfig must be an object with S3Bucket (and S3KeyPrefix).")
        bucket, prefix = output.get("S3Bucket"), output.get("S3KeyPrefix") or None
        if not isinstance(bucket, str) or not S3_BUCKET.match(bucket):
            raise ResourceError(f"Property OutputConfig.S3Bucket is not a valid bucket name: {bucket!r}.")
        if prefix is not None and (not isinstance(prefix, str) or len(prefix) > 1024):
            raise ResourceError("Property OutputConfig.S3KeyPrefix must be a string of at most 1024 chars.")
        source_version = str(text("SourceProjectVersionArn", VERSION_ARN))
        source_project = str(text("SourceProjectArn", PROJECT_ARN))
        if source_project.rsplit("/", 1)[0] != project_of(source_version):
            raise ResourceError(
                f"SourceProjectVersionArn {source_version} is not a version of SourceProjectArn "
                f"{source_project}."
            )
        destination_project = str(text("DestinationProjectArn", PROJECT_ARN))
        bar = quality_gate.min_f1_score(props)
        if bar is not None and _account(source_project) != _account(destination_project):
            raise ResourceError(
                f"Property {quality_gate.PROPERTY} needs a source version of the destination's own account "
                f"({_account(destination_project)}), which can read it; the source is in account "
                f"{_account(source_project)}. Put the bar on the source account's "
                f"{contract.PROJECT_POLICY_TYPE} instead (it checks each version it lets another account "
                "copy)."
            )
        units = [_units(props, name) for name in ("MinInferenceUnits", "MaxInferenceUnits")]
        if units[1] is not None and (units[0] is None or units[1] < units[0]):
            raise ResourceError("MaxInferenceUnits needs MinInferenceUnits, and must not be smaller than it.")
        key = text("KmsKeyId", KMS_KEY, required=False)
        return cls(
            source_project_arn=source_project,
            source_project_version_arn=source_version,
            destination_project_arn=destination_project,
            version_name=str(text("VersionName", VERSION_NAME)),
            s3_bucket=bucket,
            s3_key_prefix=prefix,
            tags=_tags(props.get("Tags"), keyed=bool(key)),
            kms_key_id=key,
            min_inference_units=units[0],
            max_inference_units=units[1],
            service_timeout=service_timeout(props),
            min_f1_score=bar,
        )

    def copy_request(
        self, owner: str, key_arn: str | None = None, extra_tags: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The CopyProjectVersion request, tagged with the owner marker and, with a KmsKeyId, the key
        marker: ``key_arn``, the ARN of the key (else the KmsKeyId as declared); ``extra_tags`` (the
        remade mark) only where they fit in the version's tags."""
        output: dict[str, str] = {"S3Bucket": self.s3_bucket}
        if self.s3_key_prefix:
            output["S3KeyPrefix"] = self.s3_key_prefix
        request: dict[str, Any] = {
            "SourceProjectArn": self.source_project_arn,
            "SourceProjectVersionArn": self.source_project_version_arn,
            "DestinationProjectArn": self.destination_project_arn,
            "VersionName": self.version_name,
            "OutputConfig": output,
            "Tags": {**self.tags, OWNER_TAG: owner},
        }
        if self.kms_key_id:
            request["KmsKeyId"] = self.kms_key_id
            marker = key_arn or self.kms_key_id
            if len(marker) <= 256 and TAG_TEXT.match(marker):  # a tag value's limits (always, for an ARN)
                request["Tags"][KMS_KEY_TAG] = marker
        if extra_tags and len(request["Tags"]) + len(extra_tags) <= MAX_TAGS:
            request["Tags"].update(extra_tags)
        return request


def _account(arn: str) -> str:
    return arn.split(":")[4]


def _tags(value: Any, *, keyed: bool) -> dict[str, str]:
    """The declared tags, checked; ``keyed``: a KmsKeyId is declared, and the key marker takes a slot."""
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ResourceError("Property Tags must be a map of string keys to string values.")
    for key, tag_value in value.items():
        if key in (*MARKERS, REMADE_TAG):
            raise ResourceError(f"The tag key {key} is reserved for this resource's own markers.")
        if key.lower().startswith("aws:"):
            raise ResourceError(f"Tag keys must not start with 'aws:' (reserved by AWS): {key!r}.")
        if not 1 <= len(key) <= 128 or not TAG_TEXT.match(key):
            raise ResourceError(f"Tag key {key[:130]!r} is not valid: {_TAG_RULE.format(128)}")
        if len(tag_value) > 256 or not TAG_TEXT.match(tag_value):
            raise ResourceError(f"The value of tag {key!r} is not valid: {_TAG_RULE.format(256)}")
    limit = MAX_TAGS - (2 if keyed else 1)
    if len(value) > limit:
        markers = f"owner marker ({OWNER_TAG})" + (f" and key marker ({KMS_KEY_TAG})" if keyed else "")
        raise ResourceError(
            f"Property Tags has {len(value)} tags; a model version can have {MAX_TAGS}, and this resource's "
            f"{markers} {'take two' if keyed else 'takes one'} of them: declare at most {limit}."
        )
    return dict(value)


def _units(props: Mapping[str, Any], name: str) -> int | None:
    value = props.get(name)
    if value is None or value == "":
        return None
    try:
        units = int(str(value))
    except ValueError:
        units = 0
    if units < 1:
        raise ResourceError(f"Property {name} must be a whole number of at least 1, got {value!r}.")
    return units


@dataclass(frozen=True)
class Identity:
    """Where a copy lives and what it was copied from: read leniently from properties that may have been
    rejected (a rollback's OldResourceProperties, a Delete after a failed Create)."""

    project_arn: str
    version_name: str
    source: str


def identity_of(props: Mapping[str, Any]) -> Identity | None:
    """The identity named by properties, or None when they could never have made a copy (a Create
    checks them all before it copies)."""
    try:
        copy = CopyProperties.parse(props)
    except ResourceError:
        return None
    return Identity(copy.destination_project_arn, copy.version_name, copy.source_project_version_arn)


def owner_of(event: Mapping[str, Any]) -> str:
    """The owner marker of the resource an event is about."""
    identity = f"{event.get('StackId')}|{event.get('LogicalResourceId')}"
    return hashlib.sha256(identity.encode()).hexdigest()[:40]


def project_of(version_arn: str) -> str:
    """The project ARN's prefix (without its creation timestamp) inside a version ARN."""
    match = VERSION_ARN.match(version_arn)
    return match.group("project") if match else ""


def version_name_of(version_arn: str) -> str:
    """The version name inside a version ARN."""
    match = VERSION_ARN.match(version_arn)
    return match.group("version") if match else ""


def created(version_arn: str) -> int:
    """The creation time (ms) a version ARN ends with; 0 when it has none."""
    tail = version_arn.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def remade_mark(applied: Mapping[str, Any], before: Mapping[str, Any], gone_id: str) -> str:
    """The value of REMADE_TAG on a copy that an Update from ``before`` to ``applied`` made again under the
    name of ``gone_id``, the gone copy the stack held: that copy's timestamp, and a digest of the update."""
    return f"{created(gone_id)}:{_update_digest(before, applied, gone_id)}"


def gone_copy_of(
    mark: str | None, props: Mapping[str, Any], old_props: Mapping[str, Any], held_id: str
) -> str | None:
    """The id of the gone copy that a rollback from ``old_props`` back to ``props`` returns to, when the
    held copy's remade ``mark`` says exactly that update made it again (its two property sets as
    CloudFormation sent them, the other way round, and the copy before it); else None. Any Update made in
    place on the copy since removed the mark, so a mark left says the copy is still that update's."""
    stamp, _, digest = (mark or "").partition(":")
    if not stamp.isdigit():
        return None
    gone = f"{held_id.rsplit('/', 1)[0]}/{stamp}"
    if gone == held_id or digest != _update_digest(props, old_props, gone):
        return None
    return gone


def _update_digest(before: Mapping[str, Any], applied: Mapping[str, Any], gone_id: str) -> str:
    parts = [dict(before), dict(applied), gone_id]
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
