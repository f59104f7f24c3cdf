"""The calls of a Custom::RekognitionModelCopy to Rekognition, each carrying out a decision of
``copy_decisions.py``: find a version, check the source against the quality bar (:func:`check_source`),
copy (:func:`start_copy`), make its tags the declared ones
(:func:`update_tags`), and the steps the polls take: :func:`converge_step` (towards the copy finished and
serving as declared) and :func:`removal_step` (towards the version being gone). A step returns its
:class:`Progress`; a transient answer (throttling, 5xx, a status still changing) is a step that looks
again, not a failure. Other failures raise ``ResourceError`` with a Reason naming the operation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from resources import quality_gate
from resources.copy_decisions import (
    COPYING,
    Action,
    Adoption,
    Serving,
    Version,
    adoption,
    mismatches,
    removal_action,
    serving_action,
)
from resources.copy_properties import (
    KMS_KEY_TAG,
    MARKERS,
    OWNER_TAG,
    TAKEN_TAG,
    CopyProperties,
    Identity,
    created,
    identity_of,
    project_of,
    version_name_of,
)
from resources.errors import ResourceError, failure, is_transient

logger = logging.getLogger(__name__)


# --- finding versions -----------------------------------------------------------------------------------
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


def stray_copies(
    client: Any, old_props: Mapping[str, Any], physical_id: str, owner: str, *, held_exists: bool = True
) -> tuple[Version, ...]:
    """The copy the rejected properties of a rollback name, when this resource made it and the stack
    does not hold it (a failed replacement): it is removed. ``held_exists`` False: the version the stack
    holds is gone, so a newer copy of its name is the rejected update's too."""
    identity = identity_of(old_props)
    if identity is None:
        return ()  # nothing was made from them
    if held_exists and (identity.project_arn.rsplit("/", 1)[0], identity.version_name) == (
        project_of(physical_id),
        version_name_of(physical_id),
    ):
        return ()  # they name the version the stack holds
    found = find_version(client, identity.project_arn, identity.version_name)
    if found is None or found[1].get(OWNER_TAG) != owner:
        return ()
    arn = str(found[0]["ProjectVersionArn"])
    # A copy the failed Update made is newer than the version the stack holds; an older one of this
    # resource is a copy kept by a Retain policy, which the failed Update may have adopted: it stays.
    if arn == physical_id or created(arn) <= created(physical_id):
        return ()
    return (Version(identity.project_arn, arn),)


# --- KMS keys ------------------------------------------------------------------------------------------
def key_resolver(client: Any) -> Callable[[str], str | None]:
    """A function giving the key ARN that a KmsKeyId in any accepted form names (kms:DescribeKey, which
    takes a key id, key ARN, alias name or alias ARN: https://docs.aws.amazon.com/kms/latest/APIReference/
    API_DescribeKey.html), or None when it cannot tell; a KMS client like ``client`` (its Region and
    retry budget)."""
    kms: list[Any] = []
    resolved: dict[str, str | None] = {}

    def resolve(key: str) -> str | None:
        if key not in resolved:
            if not kms:
                meta = client.meta
                kms.append(boto3.client("kms", region_name=meta.region_name, config=meta.config))
            try:
                resolved[key] = str(kms[0].describe_key(KeyId=key)["KeyMetadata"]["Arn"])
            except (ClientError, BotoCoreError, KeyError):
                resolved[key] = None
        return resolved[key]

    return resolve


# --- the quality gate, copying and tagging --------------------------------------------------------------
def check_version(client: Any, version: Version, bar: float, refused: str, *, held: bool = False) -> None:
    """Read the version (:func:`describe_version`) and raise ResourceError, ending with ``refused`` (what
    is not done), when it does not meet the quality bar (:func:`quality_gate.verdict`, also for ``held``)."""
    try:
        description = describe_version(client, version)
    except (ClientError, ParamValidationError) as error:
        raise failure("DescribeProjectVersions", error) from error
    reason = quality_gate.verdict(version.arn, description, bar, held=held)
    if reason is not None:
        raise ResourceError(f"{reason}; {refused}")


def check_source(client: Any, copy: CopyProperties, *, copied: bool = False) -> None:
    """Raise ResourceError when the source version does not meet the quality bar (``MinF1Score``).
    ``copied``: the copy exists already (an in-place update): only a known score below the bar refuses it,
    and the copy is left as it is."""
    assert copy.min_f1_score is not None
    check_version(
        client,
        Version(copy.source_project_arn, copy.source_project_version_arn),
        copy.min_f1_score,
        "the copy is left as it is." if copied else "it is not copied.",
        held=copied,
    )


def start_copy(
    client: Any, copy: CopyProperties, owner: str, extra_tags: Mapping[str, str] | None = None
) -> tuple[Version, bool]:
    """Copy (tagged with its owner, and ``extra_tags`` where they fit); returns the version and whether
    this call made it. A version of that name is adopted only when this resource made it from the same
    source (a redelivered Create, a rollback); anything else fails, and the version is left alone."""
    try:
        key_arn = key_resolver(client)(copy.kms_key_id) if copy.kms_key_id else None
        response = client.copy_project_version(**copy.copy_request(owner, key_arn, extra_tags))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise failure("CopyProjectVersion", error) from error
        found = find_version(client, copy.destination_project_arn, copy.version_name)
        if found is None:  # in use, but not because of the name: the service's own message says why
            raise failure("CopyProjectVersion", error) from error
        description, tags = found
        arn = str(description["ProjectVersionArn"])
        if description.get("Status") == "DELETING":  # the name is free once it is gone: try again then
            raise ResourceError(
                f"The version name {copy.version_name} is still taken by {arn}, which is being deleted; "
                "deploy again once it is gone.",
                transient=True,
            ) from error
        verdict = adoption(description, tags, owner, copy.source_project_version_arn)
        if verdict is Adoption.ADOPT:
            differs = mismatches(copy, description, tags.get(KMS_KEY_TAG), key_resolver(client))
            if differs:
                # this resource's copy from that source, but not the declared one (another key or output):
                # a copy an update made and left (the rollback's copy cannot be made while it holds the name)
                raise ResourceError(
                    f"The version name {copy.version_name} is taken by {arn}, a copy this resource made with "
                    f"another {' and '.join(differs)}; it cannot be taken as this copy. Deploy again once it "
                    "is deleted, or choose another version name."
                ) from error
            _mark_taken(client, arn)
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


def now_ms() -> int:
    """The time, in milliseconds since the epoch, that a cleanup and an adoption compare (TAKEN_TAG)."""
    return int(time.time() * 1000)


def _mark_taken(client: Any, version_arn: str) -> None:
    """Mark a copy this request takes as its stack's, although it existed (TAKEN_TAG, the time): a cleanup
    left for it earlier (a copy still in progress that a failed request had to remove) then leaves it
    alone (:func:`cleanup_step`). Throttling or a server error fails the step as transient (tried again); a
    copy with no room for another tag is taken unmarked (its tags leave no room: 199 declared)."""
    try:
        client.tag_resource(ResourceArn=version_arn, Tags={TAKEN_TAG: str(now_ms())})
    except ClientError as error:
        # TagResource's error for a resource with no room for another tag (its API reference)
        code = error.response.get("Error", {}).get("Code")
        if code in ("ServiceQuotaExceededException", "LimitExceededException"):
            logger.warning("No room for the tag %s on %s: taken without it", TAKEN_TAG, version_arn)
            return
        cause = failure("TagResource", error)
        raise ResourceError(
            f"The version {version_arn} is this resource's copy; marking it as taken back failed: {cause}",
            transient=cause.transient,
            retry_within=cause.retry_within,
            denied=cause.denied,
        ) from error
    except ParamValidationError as error:
        raise failure("TagResource", error) from error


def version_tags(client: Any, version_arn: str) -> dict[str, str]:
    """The version's tags (the handler's markers among them)."""
    try:
        return dict(client.list_tags_for_resource(ResourceArn=version_arn).get("Tags", {}))
    except ClientError as error:
        raise failure("ListTagsForResource", error) from error


def update_tags(client: Any, version_arn: str, declared: Mapping[str, str]) -> None:
    """Make the version's tags the declared ones (compared with what it has, not with the previous
    properties: a rollback may follow a tag change that half happened); the handler's markers stay."""
    try:
        current = client.list_tags_for_resource(ResourceArn=version_arn).get("Tags", {})
    except ClientError as error:
        raise failure("ListTagsForResource", error) from error
    removed = [key for key in current if key not in declared and key not in MARKERS]
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


# --- the steps of a poll --------------------------------------------------------------------------------
@dataclass
class Progress:
    done: bool
    status: str
    note: str = ""  # a transient error seen on the way, for the Reason if time runs out
    deferred: bool = False  # a copy in progress the service would not delete yet: left to a cleanup


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
    progress = _act(operation, status, lambda: call(ProjectVersionArn=version.arn), removing=True)
    if status == COPYING and not progress.done and "ResourceInUseException" in progress.note:
        progress.deferred = True  # refused while copying: a cleanup deletes it once the copy is done
    return progress


def _tags_if_any(client: Any, version_arn: str) -> dict[str, str] | None:
    """The version's tags; None when it no longer exists."""
    try:
        return dict(client.list_tags_for_resource(ResourceArn=version_arn).get("Tags", {}))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise failure("ListTagsForResource", error) from error


def owned_by(client: Any, version_arn: str, owner: str) -> bool | None:
    """Whether the version carries the owner marker ``owner``; None when it no longer exists."""
    tags = _tags_if_any(client, version_arn)
    return None if tags is None else tags.get(OWNER_TAG) == owner


def cleanup_step(client: Any, version: Version, owner: str, left: int = 0) -> bool:
    """One step of a cleanup left for later (at ``left``, :func:`now_ms`): True when the version is gone,
    is not ``owner``'s (then it is never touched), or was taken as a stack's since (TAKEN_TAG, an adoption:
    the stack holds it now); otherwise one removal step (a copy still in progress is looked at again)."""
    try:
        tags = _tags_if_any(client, version.arn)
    except (ResourceError, BotoCoreError):
        return False  # looked at again at the next tick
    if tags is None:
        return True
    taken = tags.get(TAKEN_TAG, "")
    if tags.get(OWNER_TAG) != owner or (taken.isdigit() and int(taken) >= left):
        return True
    try:
        return removal_step(client, version).done
    except ResourceError:
        return False


def _note(operation: str, error: ClientError) -> str:
    detail = error.response.get("Error", {})
    return f"{operation}: {detail.get('Code', 'Unknown')}: {detail.get('Message', '')}".rstrip(": ")
