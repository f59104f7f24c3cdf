"""Custom::RekognitionModelCopy: copy a Custom Labels model version, wait for it, delete it again.

The decisions are plain functions over a small typed state: :func:`plan_update` (in place or a new
copy), :func:`adoption` (may an existing version be taken as this resource's), :func:`serving_goal`,
:func:`serving_action` and :func:`removal_action` (the next call towards a goal), :func:`to_remove_on_failure`
(what a failed request takes away again). The functions that call Rekognition (``create``, ``update``,
``delete`` and ``advance``) carry out those decisions and return an ``Outcome``; ``index.py`` wires them
to crhelper. Errors are raised as ``ResourceError`` with a Reason written for the person reading the
stack events.

Three rules hold throughout:

* what is validated is the properties being applied (``ResourceProperties``); the rejected properties a
  rollback carries (``OldResourceProperties``) are only read, leniently, to find a copy left behind;
* the version named by the request's PhysicalResourceId is never removed by an Update (the stack holds
  it; CloudFormation deletes it itself once it no longer does);
* a version is taken as this resource's only when it carries this resource's owner marker and was
  copied from the source version the properties name.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import contract
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from errors import ResourceError, failure, is_transient
from outcome import NO_DEADLINE, Deadline, Outcome

RESOURCE_TYPE = contract.MODEL_COPY_TYPE
# Every copy carries this tag, naming (by a hash of StackId and LogicalResourceId) the resource that made
# it: a redelivered Create adopts its own copy, a Delete without a version ARN finds it, a rollback finds
# the copy a failed Update left, and a version that another stack or a person made is never adopted or
# deleted.
OWNER_TAG = contract.OWNER_TAG
MAX_TAGS = 200  # per resource, the owner marker included (botocore's TagMap)
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
WORK = "_Work"  # private Data key (not returned to CloudFormation): what the polls of a request do


# --- the typed state ------------------------------------------------------------------------------------
class Goal(enum.Enum):
    """What the model should be doing once the copy is there."""

    LEAVE = "leave"  # no inference units declared: leave it as it is
    STOP = "stop"  # the units were removed: not running
    RUN = "run"  # RUNNING with the declared units


@dataclass(frozen=True)
class Serving:
    goal: Goal = Goal.LEAVE
    min_units: int | None = None
    max_units: int | None = None


class Kind(enum.Enum):
    """What a request does to the resource."""

    CREATE = "create"
    IN_PLACE = "in-place"  # the version the stack holds stays; tags and serving change
    REPLACE = "replace"  # another version (new or adopted) becomes the resource
    DELETE = "delete"


@dataclass(frozen=True)
class Version:
    """A model version and the project it lives in (DescribeProjectVersions needs the project)."""

    project_arn: str
    arn: str


@dataclass(frozen=True)
class Work:
    """What the polls of one request do; carried from poll to poll in the private Data key ``_Work``."""

    kind: Kind
    target: Version  # converged to (Create, Update) or removed (Delete)
    serving: Serving = Serving()
    made: bool = False  # this request's CopyProjectVersion made the target
    strays: tuple[Version, ...] = ()  # copies of this resource that no stack holds: removed
    source: str = ""  # the source version, for Reasons
    timeout: float = 3600.0  # the resource's ServiceTimeout, for Reasons

    def to_data(self) -> dict[str, str]:
        body = {
            "kind": self.kind.value,
            "target": [self.target.project_arn, self.target.arn],
            "serving": [self.serving.goal.value, self.serving.min_units, self.serving.max_units],
            "made": self.made,
            "strays": [[s.project_arn, s.arn] for s in self.strays],
            "source": self.source,
            "timeout": self.timeout,
        }
        return {WORK: json.dumps(body, separators=(",", ":"))}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Work:
        body = json.loads(str(data[WORK]))
        goal, min_units, max_units = body["serving"]
        return cls(
            kind=Kind(body["kind"]),
            target=Version(*body["target"]),
            serving=Serving(Goal(goal), min_units, max_units),
            made=bool(body["made"]),
            strays=tuple(Version(*s) for s in body["strays"]),
            source=str(body["source"]),
            timeout=float(body["timeout"]),
        )


# --- properties -----------------------------------------------------------------------------------------
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
    service_timeout: float = 3600.0

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
        if source_project.rsplit("/", 1)[0] != _project_of(source_version):
            raise ResourceError(
                f"SourceProjectVersionArn {source_version} is not a version of SourceProjectArn "
                f"{source_project}."
            )
        units = [_units(props, name) for name in ("MinInferenceUnits", "MaxInferenceUnits")]
        if units[1] is not None and (units[0] is None or units[1] < units[0]):
            raise ResourceError("MaxInferenceUnits needs MinInferenceUnits, and must not be smaller than it.")
        return cls(
            source_project_arn=source_project,
            source_project_version_arn=source_version,
            destination_project_arn=str(text("DestinationProjectArn", PROJECT_ARN)),
            version_name=str(text("VersionName", VERSION_NAME)),
            s3_bucket=bucket,
            s3_key_prefix=prefix,
            tags=_tags(props.get("Tags")),
            kms_key_id=text("KmsKeyId", KMS_KEY, required=False),
            min_inference_units=units[0],
            max_inference_units=units[1],
            service_timeout=service_timeout(props),
        )

    def copy_request(self, owner: str) -> dict[str, Any]:
        """The CopyProjectVersion request, tagged with the owner marker."""
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
        return request


def _tags(value: Any) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ResourceError("Property Tags must be a map of string keys to string values.")
    for key, tag_value in value.items():
        if key == OWNER_TAG:
            raise ResourceError(f"The tag key {OWNER_TAG} is reserved for this resource's own marker.")
        if key.lower().startswith("aws:"):
            raise ResourceError(f"Tag keys must not start with 'aws:' (reserved by AWS): {key!r}.")
        if not 1 <= len(key) <= 128 or not TAG_TEXT.match(key):
            raise ResourceError(f"Tag key {key[:130]!r} is not valid: {_TAG_RULE.format(128)}")
        if len(tag_value) > 256 or not TAG_TEXT.match(tag_value):
            raise ResourceError(f"The value of tag {key!r} is not valid: {_TAG_RULE.format(256)}")
    if len(value) > MAX_TAGS - 1:
        raise ResourceError(
            f"Property Tags has {len(value)} tags; a model version can have {MAX_TAGS}, and this resource's "
            f"owner marker ({OWNER_TAG}) takes one of them: declare at most {MAX_TAGS - 1}."
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


def service_timeout(props: Mapping[str, Any]) -> float:
    """The template's ServiceTimeout (1-3600 s, CloudFormation's default 3600)."""
    try:
        return min(max(float(str(props.get("ServiceTimeout") or 3600)), 1.0), 3600.0)
    except ValueError:
        return 3600.0


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


def _project_of(version_arn: str) -> str:
    """The project ARN's prefix (without its creation timestamp) inside a version ARN."""
    match = VERSION_ARN.match(version_arn)
    return match.group("project") if match else ""


def version_name_of(version_arn: str) -> str:
    """The version name inside a version ARN."""
    match = VERSION_ARN.match(version_arn)
    return match.group("version") if match else ""


def _data(version_arn: str, status: str) -> dict[str, str]:
    return {"ProjectVersionArn": version_arn, "VersionName": version_name_of(version_arn), "Status": status}


# --- decisions --------------------------------------------------------------------------------------------
def plan_update(desired: CopyProperties, physical_id: str) -> Kind:
    """In place when the version the stack holds is where the properties say the copy lives (a tag or
    units change, or a rollback to it); otherwise another version becomes the resource."""
    match = VERSION_ARN.match(physical_id or "")
    if match and (match.group("project"), match.group("version")) == (
        desired.destination_project_arn.rsplit("/", 1)[0],
        desired.version_name,
    ):
        return Kind.IN_PLACE
    return Kind.REPLACE


def mismatches(desired: CopyProperties, description: Mapping[str, Any]) -> list[str]:
    """The properties that say another copy than the version described (empty: it is this copy)."""
    found: list[str] = []
    source = description.get("SourceProjectVersionArn")
    if source is not None and source != desired.source_project_version_arn:
        found.append("SourceProjectVersionArn")
    output = description.get("OutputConfig") or {}
    if output and (output.get("S3Bucket"), output.get("S3KeyPrefix") or None) != (
        desired.s3_bucket,
        desired.s3_key_prefix,
    ):
        found.append("OutputConfig")
    key = description.get("KmsKeyId")
    if "OutputConfig" in description and not _same_key(desired.kms_key_id, key):
        found.append("KmsKeyId")
    return found


def _same_key(declared: str | None, described: str | None) -> bool:
    """A key given as an id or alias may be described as its ARN: only a sure difference counts."""
    if not declared or not described:
        return not declared and not described
    return declared == described or described.endswith(declared) or declared.startswith("alias/")


class Adoption(enum.Enum):
    ADOPT = "adopt"
    NOT_OWNED = "not-owned"
    OTHER_SOURCE = "other-source"


def adoption(description: Mapping[str, Any], tags: Mapping[str, str], owner: str, source: str) -> Adoption:
    """May an existing version of the declared name be taken as this resource's copy?"""
    if tags.get(OWNER_TAG) != owner:
        return Adoption.NOT_OWNED
    if description.get("SourceProjectVersionArn") != source:
        return Adoption.OTHER_SOURCE
    return Adoption.ADOPT


def serving_goal(desired: CopyProperties, previous: Mapping[str, Any] | None = None) -> Serving:
    """Run with the declared units; stop when units were declared before (``previous``, read leniently)
    and are not any more; otherwise leave the model as it is."""
    if desired.min_inference_units is not None:
        return Serving(Goal.RUN, desired.min_inference_units, desired.max_inference_units)
    if previous is not None and previous.get("MinInferenceUnits") not in (None, ""):
        return Serving(Goal.STOP)
    return Serving(Goal.LEAVE)


class Action(enum.Enum):
    DONE = "done"
    WAIT = "wait"
    START = "start"
    STOP = "stop"
    DELETE = "delete"
    GONE = "gone"
    COPY_FAILED = "copy-failed"
    START_FAILED = "start-failed"
    UNEXPECTED = "unexpected"


# Statuses in which the copy has finished (someone may already have started or stopped the model).
COPY_DONE = {"COPYING_COMPLETED", "STARTING", "RUNNING", "STOPPING", "STOPPED", "FAILED"}
# Statuses that change by themselves: wait for them. A copy in progress is waited for, never deleted
# (the API does not say that DeleteProjectVersion may cancel a copy).
CHANGING = {"COPYING_IN_PROGRESS", "STARTING", "STOPPING", "DELETING", "TRAINING_IN_PROGRESS"}


def serving_action(status: str, description: Mapping[str, Any], serving: Serving) -> Action:
    """The next step towards a finished copy serving as declared."""
    if status == "COPYING_FAILED":
        return Action.COPY_FAILED
    if status not in COPY_DONE and status != "COPYING_IN_PROGRESS":
        return Action.UNEXPECTED
    if status in CHANGING:
        return Action.WAIT
    if serving.goal is Goal.LEAVE:
        return Action.DONE
    if serving.goal is Goal.STOP:
        return Action.STOP if status == "RUNNING" else Action.DONE
    if status == "RUNNING":
        running_max = description.get("MaxInferenceUnits") or description.get("MinInferenceUnits")
        wanted_max = serving.max_units or serving.min_units
        same = description.get("MinInferenceUnits") == serving.min_units and running_max == wanted_max
        return Action.DONE if same else Action.STOP  # new units: stop, then start
    if status == "FAILED":
        return Action.START_FAILED
    return Action.START


def removal_action(status: str | None) -> Action:
    """The next step towards a version being gone (None: it is)."""
    if status is None:
        return Action.GONE
    if status in CHANGING:
        return Action.WAIT
    if status == "RUNNING":
        return Action.STOP
    return Action.DELETE


def to_remove_on_failure(work: Work, physical_id: str) -> list[Version]:
    """What a failed request takes away again: the copies no stack holds, and the new copy a failed
    Update made. Never the version the stack holds; a failed Create's copy is removed by the Delete
    CloudFormation sends next (the FAILED answer names it)."""
    found = list(work.strays)
    if work.kind is Kind.REPLACE and work.made:
        found.append(work.target)
    return [v for v in found if v.arn != physical_id]


# --- calls ---------------------------------------------------------------------------------------------
def describe_version(client: Any, version: Version) -> dict[str, Any] | None:
    """The version's description, or None when it no longer exists. One filtered call."""
    try:
        response = client.describe_project_versions(
            ProjectArn=version.project_arn, VersionNames=[version_name_of(version.arn)]
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None  # the project itself is gone
        raise
    for description in response.get("ProjectVersionDescriptions", []):
        if description.get("ProjectVersionArn") == version.arn:
            return dict(description)
    return None


def find_version(
    client: Any, project_arn: str, version_name: str
) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The version of that name (description and tags), or None."""
    operation = "DescribeProjectVersions"
    try:
        found = client.describe_project_versions(ProjectArn=project_arn, VersionNames=[version_name])
        for description in found.get("ProjectVersionDescriptions", []):
            operation = "ListTagsForResource"
            tags = client.list_tags_for_resource(ResourceArn=description["ProjectVersionArn"]).get("Tags", {})
            return dict(description), dict(tags)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise failure(operation, error) from error
    return None


def find_owned(client: Any, identity: Identity, owner: str) -> Version | None:
    """The version the identity names if this resource made it from that source, else None."""
    found = find_version(client, identity.project_arn, identity.version_name)
    if found is None or adoption(found[0], found[1], owner, identity.source) is not Adoption.ADOPT:
        return None
    return Version(identity.project_arn, str(found[0]["ProjectVersionArn"]))


def _stray(client: Any, old_props: Mapping[str, Any], physical_id: str, owner: str) -> tuple[Version, ...]:
    """The copy the rejected properties of a rollback name, when this resource made it and the stack
    does not hold it (a failed replacement): it is removed."""
    identity = identity_of(old_props)
    if identity is None or (identity.project_arn.rsplit("/", 1)[0], identity.version_name) == (
        _project_of(physical_id),
        version_name_of(physical_id),
    ):
        return ()  # nothing was made from them, or they name the version the stack holds
    found = find_version(client, identity.project_arn, identity.version_name)
    if found is None or found[1].get(OWNER_TAG) != owner:
        return ()
    arn = str(found[0]["ProjectVersionArn"])
    # A copy the failed Update made is newer than the version the stack holds; an older one of this
    # resource is a copy kept by a Retain policy, which the failed Update may have adopted: it stays.
    if arn == physical_id or _created(arn) <= _created(physical_id):
        return ()
    return (Version(identity.project_arn, arn),)


def _created(version_arn: str) -> int:
    """The creation time (ms) a version ARN ends with; 0 when it has none."""
    tail = version_arn.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


# --- Create ---------------------------------------------------------------------------------------------
def start_copy(client: Any, copy: CopyProperties, owner: str) -> tuple[Version, bool]:
    """Copy (tagged with its owner); returns the version and whether this call made it. A version of that
    name is adopted only when this resource made it from the same source (a redelivered Create, a
    rollback); anything else fails, and the version is left alone."""
    try:
        response = client.copy_project_version(**copy.copy_request(owner))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise failure("CopyProjectVersion", error) from error
        found = find_version(client, copy.destination_project_arn, copy.version_name)
        if found is None:  # in use, but not because of the name: the service's own message says why
            raise failure("CopyProjectVersion", error) from error
        description, tags = found
        arn = str(description["ProjectVersionArn"])
        verdict = adoption(description, tags, owner, copy.source_project_version_arn)
        if verdict is Adoption.ADOPT:
            return Version(copy.destination_project_arn, arn), False
        if verdict is Adoption.NOT_OWNED:
            raise ResourceError(
                f"The version name {copy.version_name} is taken in {copy.destination_project_arn} by {arn}, "
                "which this resource did not create; choose another version name. This resource never "
                "adopts or deletes a version it did not create."
            ) from error
        raise ResourceError(
            f"The version name {copy.version_name} is taken by {arn}, which this resource copied from "
            f"{description.get('SourceProjectVersionArn') or 'another source'}, not from "
            f"{copy.source_project_version_arn}; choose another version name (the existing version is "
            "left as it is)."
        ) from error
    except ParamValidationError as error:
        raise failure("CopyProjectVersion", error) from error
    return Version(copy.destination_project_arn, str(response["ProjectVersionArn"])), True


def create(client: Any, props: Mapping[str, Any], owner: str) -> Outcome:
    """Start the copy; the polls (:func:`advance`) wait for it and start the model when asked to."""
    copy = CopyProperties.parse(props)
    target, made = start_copy(client, copy, owner)
    work = Work(
        Kind.CREATE,
        target,
        serving_goal(copy),
        made,
        source=copy.source_project_version_arn,
        timeout=copy.service_timeout,
    )
    return _first_step(client, work, target.arn, "COPYING_IN_PROGRESS", target.arn)


def _first_step(client: Any, work: Work, answer_id: str, status: str, physical_id: str) -> Outcome:
    """The request's first step, at once (a Delete of a version already gone, a tag change, answer in
    this call); the Work goes along for the polls when it is not done."""
    data = work.to_data()
    if not work.made:  # a copy just started is not worth a look yet
        step = advance(client, data, physical_id, NO_DEADLINE)
        if step.complete:
            return step
    if work.kind is not Kind.DELETE:
        data = {**_data(work.target.arn, status), **data}
    return Outcome(answer_id, data)


# --- Update ---------------------------------------------------------------------------------------------
def update(
    client: Any, props: Mapping[str, Any], old_props: Mapping[str, Any], physical_id: str, owner: str
) -> Outcome:
    """Apply ``props`` to the resource the stack holds (``physical_id``): in place when that version is
    the declared copy, else a new copy (or this resource's own copy of that name, in a rollback). A copy
    of this resource that the rejected ``old_props`` name and the stack does not hold is removed."""
    desired = CopyProperties.parse(props)
    kind = plan_update(desired, physical_id)
    strays = _stray(client, old_props, physical_id, owner)
    if kind is Kind.IN_PLACE:
        target = Version(desired.destination_project_arn, physical_id)
        try:
            description = describe_version(client, target)
        except ClientError as error:
            raise failure("DescribeProjectVersions", error) from error
        if description is None:
            raise ResourceError(f"The version {physical_id} this resource holds no longer exists.")
        changed = mismatches(desired, description)
        if changed:
            raise ResourceError(
                f"Changing {', '.join(changed)} needs a new copy, which CloudFormation creates before it "
                f"deletes the old one, but the version name {desired.version_name} is still taken by the old "
                "copy. Give the copy a new version name in the same change."
            )
        _update_tags(client, physical_id, desired.tags)
        work = Work(
            Kind.IN_PLACE,
            target,
            serving_goal(desired, old_props),
            strays=strays,
            source=desired.source_project_version_arn,
            timeout=desired.service_timeout,
        )
        status = str(description.get("Status"))
    else:
        target, made = start_copy(client, desired, owner)
        work = Work(
            Kind.REPLACE,
            target,
            serving_goal(desired),
            made,
            tuple(s for s in strays if s.arn != target.arn),
            desired.source_project_version_arn,
            desired.service_timeout,
        )
        status = "COPYING_IN_PROGRESS" if made else "UPDATING"
    return _first_step(client, work, target.arn, status, physical_id)


def _update_tags(client: Any, version_arn: str, declared: Mapping[str, str]) -> None:
    """Make the version's tags the declared ones (compared with what it has, not with the previous
    properties: a rollback may follow a tag change that half happened); the owner marker stays."""
    try:
        current = client.list_tags_for_resource(ResourceArn=version_arn).get("Tags", {})
    except ClientError as error:
        raise failure("ListTagsForResource", error) from error
    removed = [key for key in current if key not in declared and key != OWNER_TAG]
    changed = {key: value for key, value in declared.items() if current.get(key) != value}
    if removed:
        try:
            client.untag_resource(ResourceArn=version_arn, TagKeys=removed)
        except (ClientError, ParamValidationError) as error:
            raise failure("UntagResource", error) from error
    if changed:
        try:
            client.tag_resource(ResourceArn=version_arn, Tags=changed)
        except (ClientError, ParamValidationError) as error:
            raise failure("TagResource", error) from error


# --- Delete ---------------------------------------------------------------------------------------------
def delete(client: Any, props: Mapping[str, Any], physical_id: str, owner: str) -> Outcome:
    """Stop the version if it serves, delete it, and report complete once it is gone.

    The version is the physical id; when the physical id is not a version ARN (a Create that failed, or
    is still running and never answered) it is the version the properties name, if this resource made it
    from that source: a copy still in progress is waited for and removed, not left behind. Properties
    that could never have made a copy mean nothing was made: nothing is sent to the service.
    """
    identity = identity_of(props)
    project = props.get("DestinationProjectArn")
    target: Version | None = None
    if VERSION_ARN.match(physical_id or "") and isinstance(project, str) and PROJECT_ARN.match(project):
        if _project_of(physical_id) == project.rsplit("/", 1)[0]:
            target = Version(project, physical_id)
    elif identity is not None:
        target = find_owned(client, identity, owner)
    if target is None:
        return Outcome(physical_id, complete=True)
    work = Work(Kind.DELETE, target, timeout=service_timeout(props))
    return _first_step(client, work, physical_id, "DELETING", physical_id)


# --- the polls ------------------------------------------------------------------------------------------
@dataclass
class Progress:
    done: bool
    status: str
    note: str = ""  # a transient error seen on the way, for the Reason if time runs out


class _LookAgain(Exception):
    """A transient answer (throttling, 5xx, a status still changing): the next tick looks again."""

    def __init__(self, status: str, note: str) -> None:
        super().__init__(note)
        self.progress = Progress(False, status, note)


def _look(client: Any, version: Version) -> dict[str, Any] | None:
    """The version's description (None when it is gone); a transient failure raises :class:`_LookAgain`."""
    try:
        return describe_version(client, version)
    except ClientError as error:
        if is_transient(error):
            raise _LookAgain("unknown", _note("DescribeProjectVersions", error)) from error
        raise failure("DescribeProjectVersions", error) from error
    except BotoCoreError as error:
        raise _LookAgain("unknown", f"DescribeProjectVersions: {error}") from error


def _act(operation: str, status: str, call: Callable[[], Any], *, removing: bool = False) -> Progress:
    """Make one change (start, stop, delete); a status still changing or a transient error looks again.
    While ``removing``, a version already gone is done."""
    try:
        call()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "ResourceNotFoundException" and removing:
            return Progress(True, "gone")
        if code == "ResourceInUseException" or is_transient(error):  # the status is changing
            return Progress(False, status, _note(operation, error))
        raise failure(operation, error) from error
    except BotoCoreError as error:
        return Progress(False, status, f"{operation}: {error}")
    return Progress(False, status)


def converge_step(client: Any, target: Version, serving: Serving, source: str) -> Progress:
    """One step towards the target copy finished and serving as declared."""
    try:
        description = _look(client, target)
    except _LookAgain as again:
        return again.progress
    if description is None:
        raise ResourceError(f"The copied version {target.arn} disappeared while this resource worked on it.")
    status = str(description.get("Status"))
    message = description.get("StatusMessage") or "no message from Rekognition"
    action = serving_action(status, description, serving)
    if action is Action.COPY_FAILED:
        raise ResourceError(f"The copy of {source} failed (COPYING_FAILED): {message}")
    if action is Action.UNEXPECTED:
        raise ResourceError(f"The copied version {target.arn} is in an unexpected status {status}.")
    if action is Action.START_FAILED:
        raise ResourceError(f"Starting the model {target.arn} failed (FAILED): {message}")
    if action in (Action.DONE, Action.WAIT):
        return Progress(action is Action.DONE, status)
    if action is Action.START:
        request: dict[str, Any] = {"ProjectVersionArn": target.arn, "MinInferenceUnits": serving.min_units}
        if serving.max_units:
            request["MaxInferenceUnits"] = serving.max_units
        return _act("StartProjectVersion", status, lambda: client.start_project_version(**request))
    return _act(
        "StopProjectVersion", status, lambda: client.stop_project_version(ProjectVersionArn=target.arn)
    )


def removal_step(client: Any, version: Version) -> Progress:
    """One step towards the version being gone: wait, stop a running model, or delete."""
    try:
        description = _look(client, version)
    except _LookAgain as again:
        return again.progress
    status = None if description is None else str(description.get("Status"))
    action = removal_action(status)
    if action is Action.GONE:
        return Progress(True, "gone")
    assert status is not None
    if action is Action.WAIT:
        return Progress(False, status)
    stop = action is Action.STOP
    operation = "StopProjectVersion" if stop else "DeleteProjectVersion"
    call = client.stop_project_version if stop else client.delete_project_version
    return _act(operation, status, lambda: call(ProjectVersionArn=version.arn), removing=True)


def _note(operation: str, error: ClientError) -> str:
    detail = error.response.get("Error", {})
    return f"{operation}: {detail.get('Code', 'Unknown')}: {detail.get('Message', '')}".rstrip(": ")


def advance(client: Any, data: Mapping[str, Any], physical_id: str, deadline: Deadline) -> Outcome:
    """One poll of a request: a step on each copy to remove and on the target. Complete when all are
    there; ResourceError when the service says it cannot get there, or when time is up (``deadline``),
    after one step of taking away what the failed request made (:func:`to_remove_on_failure`)."""
    work = Work.from_data(data)
    answer_id = physical_id if work.kind is Kind.DELETE else work.target.arn
    try:
        if deadline.no_time_for_step():  # no time for another round of calls
            raise _give_up(work, Progress(False, "unknown"))
        progress = [removal_step(client, stray) for stray in work.strays]
        if work.kind is Kind.DELETE:
            progress.append(removal_step(client, work.target))
        else:
            progress.append(converge_step(client, work.target, work.serving, work.source))
        if all(p.done for p in progress):
            status = progress[-1].status
            data = {} if work.kind is Kind.DELETE else _data(work.target.arn, status)
            return Outcome(answer_id, data, complete=True)
        if deadline.no_time_for_next_round():
            raise _give_up(work, next(p for p in progress if not p.done))
        return Outcome(answer_id, {})
    except ResourceError:
        for version in to_remove_on_failure(work, physical_id):
            try:
                removal_step(client, version)  # best effort; a rollback's Update finishes it
            except ResourceError:
                pass
        raise


def _give_up(work: Work, progress: Progress) -> ResourceError:
    timeout = f"{work.timeout:g} s"
    what = f"the version {work.target.arn} was {progress.status}"
    if progress.note:
        what += f" (last answer: {progress.note})"
    if work.kind is Kind.DELETE:
        advice = (
            "The model may still be running or copying; delete the stack again once it has left that "
            "status (see the function's log group)."
        )
    else:
        advice = "The Rekognition operation may still be running; see the function's log group."
    return ResourceError(
        f"Gave up waiting: the resource's timeout (ServiceTimeout, {timeout}) is nearly over and {what}. "
        f"{advice}"
    )
