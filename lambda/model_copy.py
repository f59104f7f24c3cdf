"""Custom::RekognitionModelCopy: copy a Custom Labels model version, wait for it, delete it again.

Plain functions over a Rekognition client. Each returns an ``Outcome`` (physical id, Data, done or not);
``index.py`` wires them to crhelper. Errors are raised as ``ResourceError`` with a Reason written for the
person reading the stack events.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError
from errors import ResourceError, failure
from polling import Outcome

RESOURCE_TYPE = "Custom::RekognitionModelCopy"
# Every copy carries this tag, naming (by a hash of StackId and LogicalResourceId) the resource that made
# it: a redelivered Create adopts its own copy, a Delete without a version ARN finds it, and a version of
# the same name that another stack or a person made is never adopted or deleted.
OWNER_TAG = "rekognition-model-copy:owner"
VERSION_ARN = re.compile(
    r"^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project/[a-zA-Z0-9_.\-]{1,255}/version/"
    r"(?P<version>[a-zA-Z0-9_.\-]{1,255})/[0-9]+$"
)
# A change of any of these needs a new copy (a new physical id); Tags alone are updated in place.
REPLACING_PROPERTIES = (
    "SourceProjectArn",
    "SourceProjectVersionArn",
    "DestinationProjectArn",
    "VersionName",
    "OutputConfig",
    "KmsKeyId",
)
# Private Data keys (not returned to CloudFormation), read by the polls of the same request
DELETE_TARGET = "_DeleteTarget"  # the version a Delete works on
SERVING_GOAL = "_Serving"  # "" leave as is, "stop", or "<min>,<max>": see converge()
REPLACING = "_Replacing"  # "1" when an Update makes a new copy (removed again if that Update fails)
# Statuses in which the copy has finished (someone may already have started or stopped the model).
COPY_DONE = {"COPYING_COMPLETED", "STARTING", "RUNNING", "STOPPING", "STOPPED", "FAILED"}
# Statuses in which DeleteProjectVersion is refused or pointless: wait for them to change. (Whether a copy
# in progress can be deleted is undocumented: it is tried, and a ResourceInUseException means wait.)
DELETE_WAIT = {"STARTING", "STOPPING", "DELETING", "TRAINING_IN_PROGRESS"}


@dataclass(frozen=True)
class CopyProperties:
    """The resource's properties, checked and converted (CloudFormation sends every value as a string)."""

    source_project_arn: str
    source_project_version_arn: str
    destination_project_arn: str
    version_name: str
    s3_bucket: str
    s3_key_prefix: str | None
    tags: dict[str, str]
    kms_key_id: str | None
    min_inference_units: int | None = None
    max_inference_units: int | None = None

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> CopyProperties:
        """Check presence and types; botocore checks the patterns when the request is made."""

        def text(name: str, required: bool = True) -> str | None:
            value = props.get(name)
            if value is None or value == "":
                if required:
                    raise ResourceError(f"Property {name} is required and missing.")
                return None
            if not isinstance(value, str):
                raise ResourceError(f"Property {name} must be a string, got {type(value).__name__}.")
            return value

        output = props.get("OutputConfig")
        if not isinstance(output, Mapping) or not output.get("S3Bucket"):
            raise ResourceError("Property OutputConfig must be an object with S3Bucket (and S3KeyPrefix).")
        tags = props.get("Tags") or {}
        if not isinstance(tags, Mapping) or not all(isinstance(v, str) for v in tags.values()):
            raise ResourceError("Property Tags must be a map of string keys to string values.")
        if OWNER_TAG in tags:
            raise ResourceError(f"The tag key {OWNER_TAG} is reserved for this resource's own marker.")
        units = [_units(props, name) for name in ("MinInferenceUnits", "MaxInferenceUnits")]
        if units[1] is not None and (units[0] is None or units[1] < units[0]):
            raise ResourceError("MaxInferenceUnits needs MinInferenceUnits, and must not be smaller than it.")
        return cls(
            source_project_arn=str(text("SourceProjectArn")),
            source_project_version_arn=str(text("SourceProjectVersionArn")),
            destination_project_arn=str(text("DestinationProjectArn")),
            version_name=str(text("VersionName")),
            s3_bucket=str(output["S3Bucket"]),
            s3_key_prefix=output.get("S3KeyPrefix") or None,
            tags=dict(tags),
            kms_key_id=text("KmsKeyId", required=False),
            min_inference_units=units[0],
            max_inference_units=units[1],
        )

    @property
    def serving(self) -> str:
        """The serving goal: "" (no units: leave the model as it is) or "<min>,<max>" (RUNNING so)."""
        if self.min_inference_units is None:
            return ""
        return f"{self.min_inference_units},{self.max_inference_units or ''}"

    def copy_request(self) -> dict[str, Any]:
        """The CopyProjectVersion request."""
        output: dict[str, str] = {"S3Bucket": self.s3_bucket}
        if self.s3_key_prefix:
            output["S3KeyPrefix"] = self.s3_key_prefix
        request: dict[str, Any] = {
            "SourceProjectArn": self.source_project_arn,
            "SourceProjectVersionArn": self.source_project_version_arn,
            "DestinationProjectArn": self.destination_project_arn,
            "VersionName": self.version_name,
            "OutputConfig": output,
        }
        if self.tags:
            request["Tags"] = self.tags
        if self.kms_key_id:
            request["KmsKeyId"] = self.kms_key_id
        return request


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


def owner_of(event: Mapping[str, Any]) -> str:
    """The owner marker of the resource an event is about."""
    identity = f"{event.get('StackId')}|{event.get('LogicalResourceId')}"
    return hashlib.sha256(identity.encode()).hexdigest()[:40]


def poll_properties(event: Mapping[str, Any]) -> dict[str, Any]:
    """What a poll invocation needs to know about the resource (kept small for EventBridge)."""
    props = event.get("ResourceProperties", {})
    return {key: props.get(key) for key in ("DestinationProjectArn", "SourceProjectVersionArn")}


def _data(version_arn: str, status: str) -> dict[str, str]:
    return {"ProjectVersionArn": version_arn, "VersionName": version_name_of(version_arn), "Status": status}


def version_name_of(version_arn: str) -> str:
    """The version name inside a version ARN."""
    match = VERSION_ARN.match(version_arn)
    return match.group("version") if match else ""


def describe_version(client: Any, project_arn: str, version_arn: str) -> dict[str, Any] | None:
    """The version's description, or None when it no longer exists. One filtered call."""
    try:
        response = client.describe_project_versions(
            ProjectArn=project_arn, VersionNames=[version_name_of(version_arn)]
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None  # the project itself is gone
        raise failure("DescribeProjectVersions", error) from error
    for description in response.get("ProjectVersionDescriptions", []):
        if description.get("ProjectVersionArn") == version_arn:
            return dict(description)
    return None


# --- Create -------------------------------------------------------------------------------------------
def create(client: Any, props: Mapping[str, Any], owner: str) -> Outcome:
    """Start the copy (tagged with its owner); polling (``converge``) waits for it, and starts the model
    when asked to.

    If the version name is taken by a copy this very resource made (a redelivered Create), that copy is
    adopted; if anyone else's, the Create fails and the version is left alone.
    """
    copy = CopyProperties.parse(props)
    request = copy.copy_request()
    request["Tags"] = {**copy.tags, OWNER_TAG: owner}
    try:
        response = client.copy_project_version(**request)
    except (ClientError, ParamValidationError) as error:
        if isinstance(error, ClientError) and error.response["Error"]["Code"] == "ResourceInUseException":
            adopted = find_owned(client, copy.destination_project_arn, copy.version_name, owner)
            if adopted is not None:
                return Outcome(adopted, {**_data(adopted, "COPYING_IN_PROGRESS"), SERVING_GOAL: copy.serving})
            raise ResourceError(
                f"{failure('CopyProjectVersion', error)} A version named {copy.version_name} already exists "
                f"in {copy.destination_project_arn} and this resource did not create it; choose another "
                "version name. This resource never adopts or deletes a version it did not create."
            ) from error
        raise failure("CopyProjectVersion", error) from error
    version_arn = str(response["ProjectVersionArn"])
    return Outcome(version_arn, {**_data(version_arn, "COPYING_IN_PROGRESS"), SERVING_GOAL: copy.serving})


def find_owned(client: Any, project_arn: str, version_name: str, owner: str) -> str | None:
    """The ARN of the version of that name if it carries this owner's marker, else None."""
    operation = "DescribeProjectVersions"
    try:
        found = client.describe_project_versions(ProjectArn=project_arn, VersionNames=[version_name])
        operation = "ListTagsForResource"
        for description in found.get("ProjectVersionDescriptions", []):
            arn = str(description["ProjectVersionArn"])
            tags = client.list_tags_for_resource(ResourceArn=arn).get("Tags", {})
            if tags.get(OWNER_TAG) == owner:
                return arn
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise failure(operation, error) from error
    return None


def converge(client: Any, poll_props: Mapping[str, Any], version_arn: str, goal: str) -> Outcome:
    """One step towards the goal: the copy finished, then (goal "<min>,<max>") the model RUNNING with
    those units, or (goal "stop") not running. Complete when there; ResourceError when it cannot get
    there (COPYING_FAILED, a start that ended FAILED), with Rekognition's StatusMessage."""
    description = describe_version(client, str(poll_props["DestinationProjectArn"]), version_arn)
    if description is None:
        raise ResourceError(f"The copied version {version_arn} disappeared while this resource worked on it.")
    status = str(description.get("Status"))
    message = description.get("StatusMessage") or "no message from Rekognition"
    if status == "COPYING_FAILED":
        raise ResourceError(
            f"The copy of {poll_props.get('SourceProjectVersionArn')} failed (COPYING_FAILED): {message}"
        )
    if status not in COPY_DONE and status != "COPYING_IN_PROGRESS":
        raise ResourceError(f"The copied version {version_arn} is in an unexpected status {status}.")
    done = Outcome(version_arn, _data(version_arn, status), complete=True)
    waiting = Outcome(version_arn, _data(version_arn, status))
    if status in ("COPYING_IN_PROGRESS", "STARTING", "STOPPING"):
        return waiting
    if not goal:
        return done
    try:
        if goal == "stop":
            if status != "RUNNING":
                return done
            client.stop_project_version(ProjectVersionArn=version_arn)
            return waiting
        min_units, _, max_units = goal.partition(",")
        if status == "RUNNING":
            if _units_match(description, int(min_units), int(max_units) if max_units else None):
                return done
            client.stop_project_version(ProjectVersionArn=version_arn)  # new units: stop, then start
            return waiting
        if status == "FAILED":
            raise ResourceError(f"Starting the model {version_arn} failed (FAILED): {message}")
        request: dict[str, Any] = {"ProjectVersionArn": version_arn, "MinInferenceUnits": int(min_units)}
        if max_units:
            request["MaxInferenceUnits"] = int(max_units)
        client.start_project_version(**request)
        return waiting
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceInUseException":
            return waiting  # the status is changing; look again next time
        raise failure(
            "StopProjectVersion" if status == "RUNNING" or goal == "stop" else "StartProjectVersion", error
        ) from error


def _units_match(description: Mapping[str, Any], min_units: int, max_units: int | None) -> bool:
    running_max = description.get("MaxInferenceUnits") or description.get("MinInferenceUnits")
    return bool(description.get("MinInferenceUnits") == min_units and running_max == (max_units or min_units))


# --- Update -------------------------------------------------------------------------------------------
def needs_new_copy(props: Mapping[str, Any], old_props: Mapping[str, Any]) -> bool:
    """True when a property other than Tags changed."""
    return any(props.get(key) != old_props.get(key) for key in REPLACING_PROPERTIES)


def update(
    client: Any, props: Mapping[str, Any], old_props: Mapping[str, Any], physical_id: str, owner: str
) -> Outcome:
    """A new copy when the copy's inputs changed; otherwise tags and inference units, in place."""
    new = CopyProperties.parse(props)
    if needs_new_copy(props, old_props):
        old_name = old_props.get("VersionName")
        if new.version_name == old_name and new.destination_project_arn == old_props.get(
            "DestinationProjectArn"
        ):
            changed = [k for k in REPLACING_PROPERTIES if props.get(k) != old_props.get(k)]
            raise ResourceError(
                f"Changing {', '.join(changed)} needs a new copy, which CloudFormation creates before it "
                f"deletes the old one, but the version name {new.version_name} is still taken by the old "
                "copy. Give the copy a new version name in the same change."
            )
        outcome = create(client, props, owner)
        outcome.data[REPLACING] = "1"
        return outcome
    old = CopyProperties.parse(old_props)
    _update_tags(client, physical_id, old.tags, new.tags)
    goal = new.serving if new.serving != old.serving else ""
    if old.serving and not new.serving:
        goal = "stop"
    if goal:
        return Outcome(physical_id, {**_data(physical_id, "UPDATING"), SERVING_GOAL: goal})
    description = describe_version(client, new.destination_project_arn, physical_id)
    status = str(description.get("Status")) if description else "UNKNOWN"
    return Outcome(physical_id, _data(physical_id, status), complete=True)


def _update_tags(client: Any, version_arn: str, old: Mapping[str, str], new: Mapping[str, str]) -> None:
    removed = [key for key in old if key not in new]
    changed = {key: value for key, value in new.items() if old.get(key) != value}
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


def abandon_copy(client: Any, poll_props: Mapping[str, Any], version_arn: str) -> None:
    """Best effort: one step of :func:`advance_delete` on a replacement copy whose Update failed, so it is
    not left behind (nor left running)."""
    try:
        advance_delete(client, str(poll_props["DestinationProjectArn"]), version_arn)
    except ResourceError:
        pass


# --- Delete -------------------------------------------------------------------------------------------


def delete(client: Any, props: Mapping[str, Any], physical_id: str, owner: str) -> Outcome:
    """Stop the version if it serves, delete it, and report complete once it is gone.

    The version is the physical id; when the physical id is not a version ARN (a Create that failed, or
    is still running and never answered) it is the version of this name that carries this resource's
    owner marker, if any: a copy still in progress is waited for and removed, not left behind.
    """
    project_arn = props.get("DestinationProjectArn")
    if not isinstance(project_arn, str) or not project_arn:
        return Outcome(physical_id, complete=True)
    target: str | None = physical_id
    if not VERSION_ARN.match(physical_id or ""):
        name = props.get("VersionName")
        target = find_owned(client, project_arn, name, owner) if isinstance(name, str) and name else None
    if target is None:
        return Outcome(physical_id, complete=True)
    gone = advance_delete(client, project_arn, target)
    return Outcome(physical_id, {} if gone else {DELETE_TARGET: target}, complete=gone)


def advance_delete(client: Any, project_arn: str, version_arn: str) -> bool:
    """One step towards deletion: stop a running model, delete a stopped one, or wait. True when gone."""
    description = describe_version(client, project_arn, version_arn)
    if description is None:
        return True
    status = str(description.get("Status"))
    try:
        if status == "RUNNING":
            client.stop_project_version(ProjectVersionArn=version_arn)
        elif status not in DELETE_WAIT:
            client.delete_project_version(ProjectVersionArn=version_arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "ResourceNotFoundException":
            return True
        if code != "ResourceInUseException":  # in use: the status is changing, look again next time
            raise failure(
                "StopProjectVersion" if status == "RUNNING" else "DeleteProjectVersion", error
            ) from error
    return False
