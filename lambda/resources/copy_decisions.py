"""The decisions of a Custom::RekognitionModelCopy: plain functions over a small typed state.

:func:`plan_update` (in place or a new copy), :func:`mismatches` (what says another copy than the one
described), :func:`adoption` (may an existing version be taken as this resource's), :func:`serving_goal`,
:func:`serving_action` and :func:`removal_action` (the next call towards a goal),
:func:`to_remove_on_failure` (what a failed request takes away again), :func:`checks_source` (does the
request check the source version against the quality bar). :class:`Work` is what the polls of
one request do, carried from poll to poll in the request's private Data. Nothing here calls a service:
``copy_calls.py`` carries these decisions out.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from outcome import DEFAULT_SERVICE_TIMEOUT
from resources import quality_gate
from resources.copy_properties import OWNER_TAG, VERSION_ARN, CopyProperties

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
    timeout: float = DEFAULT_SERVICE_TIMEOUT  # the resource's ServiceTimeout, for Reasons
    owner: str = ""  # the resource's owner marker: a cleanup left for later checks it again
    # a Delete of a rollback's strays for a resource whose copy is gone: the id it keeps (its answer
    # carries that copy's attributes); "" for every other Work
    keeps: str = ""

    @classmethod
    def towards(
        cls,
        kind: Kind,
        target: Version,
        desired: CopyProperties,
        serving: Serving,
        made: bool = False,
        strays: tuple[Version, ...] = (),
        owner: str = "",
    ) -> Work:
        """The Work of a Create or an Update: converge to ``target`` as the properties ``desired`` say."""
        return cls(
            kind,
            target,
            serving,
            made,
            strays,
            desired.source_project_version_arn,
            desired.service_timeout,
            owner,
        )

    def to_data(self) -> dict[str, str]:
        body = {
            "kind": self.kind.value,
            "target": [self.target.project_arn, self.target.arn],
            "serving": [self.serving.goal.value, self.serving.min_units, self.serving.max_units],
            "made": self.made,
            "strays": [[s.project_arn, s.arn] for s in self.strays],
            "source": self.source,
            "timeout": self.timeout,
            "owner": self.owner,
        }
        if self.keeps:
            body["keeps"] = self.keeps
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
            owner=str(body.get("owner", "")),
            keeps=str(body.get("keeps", "")),
        )


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


def checks_source(desired: CopyProperties, kind: Kind, previous: Mapping[str, Any] | None = None) -> bool:
    """Whether the source version is checked against the quality bar (``MinF1Score``) before the request
    goes on: before every copy (a Create, a replacement); in place, only when the bar is new or raised
    compared with the ``previous`` properties (the copy met the bar it had)."""
    if kind is not Kind.IN_PLACE:
        return desired.min_f1_score is not None
    return quality_gate.raised(desired.min_f1_score, previous or {})


def mismatches(
    desired: CopyProperties,
    description: Mapping[str, Any],
    key_marker: str | None = None,
    resolve: Callable[[str], str | None] = lambda key: None,
) -> list[str]:
    """The properties that say another copy than the version described (empty: it is this copy).

    The copy's key is the KmsKeyId described; DescribeProjectVersions may not report it for a copy, and
    then it is the key the copy was made with, as its key marker tag records it (``key_marker``; no
    marker: made without a key). Never the previous properties: in a rollback they are the rejected ones.
    A key is declared in any form CopyProjectVersion accepts (key id, key ARN, alias, alias ARN) and may be
    described in another: two forms are compared as the key ARNs they name (``resolve``: kms:DescribeKey;
    None when it cannot tell)."""
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
    held = description.get("KmsKeyId") or key_marker
    if "OutputConfig" in description and key_differs(desired.kms_key_id, held or None, resolve):
        found.append("KmsKeyId")
    return found


def key_differs(declared: str | None, held: str | None, resolve: Callable[[str], str | None]) -> bool:
    """Whether two KMS key references name different keys (None: no key)."""
    if not declared or not held:
        return bool(declared) != bool(held)
    if declared == held:
        return False
    declared_arn, held_arn = resolve(declared), resolve(held)
    if declared_arn and held_arn:
        return declared_arn != held_arn
    # Not resolved (no kms:DescribeKey on it): a key given as an id or alias may be described as its
    # ARN; only a sure difference counts.
    return not (held.endswith(declared) or declared.endswith(held) or declared.startswith("alias/"))


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
# Statuses that change by themselves: wait for them (towards a serving copy).
CHANGING = {"COPYING_IN_PROGRESS", "STARTING", "STOPPING", "DELETING", "TRAINING_IN_PROGRESS"}
# Removing a copy in progress: DeleteProjectVersion is tried. The API reference says a running or
# training version can't be deleted and does not mention copying: if the service refuses
# (ResourceInUseException), the removal is left to a cleanup that deletes the copy once it has finished
# (see ``copy_calls.removal_step``); if it accepts, the copy is abandoned and deleted at once.
COPYING = "COPYING_IN_PROGRESS"


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
    if status == COPYING:
        return Action.DELETE
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
