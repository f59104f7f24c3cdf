"""Custom Labels resources and the moto backend holding them (one per account and Region).

Asynchronous behaviour is computed lazily: each model version keeps a schedule of timed status
transitions, and every read evaluates it against the emulator clock, so results depend only on the
clock, never on threads or wall time.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from moto.core.base_backend import BackendDict, BaseBackend

from . import custom_labels_runtime as runtime
from .custom_labels_errors import (
    AccessDeniedException,
    InvalidPaginationTokenException,
    InvalidParameterException,
    InvalidPolicyRevisionIdException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from .custom_labels_policy import CallerIdentity, displayed_document, role_bindings, validate_document

PROJECT_ARN_RE = re.compile(
    r"^arn:(?P<partition>[a-z\d-]+):rekognition:(?P<region>[a-z\d-]+):(?P<account>\d{12}):"
    r"project/(?P<project>[a-zA-Z0-9_.\-]{1,255})/(?P<stamp>[0-9]+)$"
)
VERSION_ARN_RE = re.compile(
    r"^arn:(?P<partition>[a-z\d-]+):rekognition:(?P<region>[a-z\d-]+):(?P<account>\d{12}):"
    r"project/(?P<project>[a-zA-Z0-9_.\-]{1,255})/version/(?P<version>[a-zA-Z0-9_.\-]{1,255})/(?P<stamp>[0-9]+)$"
)

MAX_TAGS = 200

# Creation order, to break ties between resources created at the same clock reading.
_sequence = itertools.count()

# Status messages shown by DescribeProjectVersions (wording is ours; AWS does not document it).
STATUS_MESSAGES = {
    "TRAINING_IN_PROGRESS": "The model is being trained.",
    "TRAINING_COMPLETED": "The model is ready to run.",
    "COPYING_IN_PROGRESS": "The model is being copied.",
    "COPYING_COMPLETED": "The model is ready to run.",
    "STARTING": "The model is starting.",
    "RUNNING": "The model is running.",
    "STOPPING": "The model is stopping.",
    "STOPPED": "The model is ready to run.",
    "DELETING": "The model is being deleted.",
}
#: States a version can be copied from.
COPYABLE = frozenset(
    {"TRAINING_COMPLETED", "COPYING_COMPLETED", "STARTING", "RUNNING", "STOPPING", "STOPPED"}
)
#: States a version can be started from.
STARTABLE = frozenset({"TRAINING_COMPLETED", "COPYING_COMPLETED", "STOPPED"})
#: States in which DeleteProjectVersion is refused (COPYING_IN_PROGRESS depends on the config).
UNDELETABLE = frozenset({"TRAINING_IN_PROGRESS", "STARTING", "RUNNING", "STOPPING"})
#: States in which the version is using inference units.
HOSTED = frozenset({"STARTING", "RUNNING", "STOPPING"})


def epoch_ms(seconds: float) -> str:
    """The 13-digit millisecond timestamp used at the end of Custom Labels ARNs."""
    return str(int(round(seconds * 1000)))


def parse_project_arn(arn: str, parameter: str = "ProjectArn") -> dict[str, str]:
    """Split a project ARN into partition, region, account, project and stamp."""
    match = PROJECT_ARN_RE.match(arn)
    if not match:
        raise InvalidParameterException(f"{parameter} is not a valid project ARN: {arn!r}.")
    return match.groupdict()


def parse_version_arn(arn: str, parameter: str = "ProjectVersionArn") -> dict[str, str]:
    """Split a model version ARN into partition, region, account, project, version and stamp."""
    match = VERSION_ARN_RE.match(arn)
    if not match:
        raise InvalidParameterException(f"{parameter} is not a valid project version ARN: {arn!r}.")
    return match.groupdict()


@dataclass
class Transition:
    """From ``at`` (epoch seconds) on, the version has ``status`` and ``message``."""

    at: float
    status: str
    message: str


@dataclass
class ProjectVersion:
    """One model version with its timed status schedule."""

    arn: str
    project_arn: str
    version_name: str
    created: float
    schedule: list[Transition]
    output_config: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    kms_key_id: str | None = None
    source_version_arn: str | None = None
    version_description: str | None = None
    feature: str = "CUSTOM_LABELS"
    training_end: float | None = None
    results_at: float | None = None  # training results are shown from then on
    billable_training_seconds: int | None = None
    f1_score: float | None = None
    min_inference_units: int | None = None
    max_inference_units: int | None = None
    removed_at: float | None = None
    seq: int = field(default_factory=lambda: next(_sequence))

    def state(self, now: float) -> Transition:
        """The transition in force at ``now``."""
        current = self.schedule[0]
        for transition in self.schedule:
            if transition.at <= now:
                current = transition
        return current

    def status(self, now: float) -> str:
        """The status at ``now``."""
        return self.state(now).status

    def is_gone(self, now: float) -> bool:
        """True once a deletion has completed."""
        return self.removed_at is not None and now >= self.removed_at

    def reschedule(self, now: float, steps: Sequence[tuple[float, str, str | None]]) -> None:
        """Drop transitions after ``now`` and append ``(delay, status, message)`` steps from ``now``."""
        self.schedule = [t for t in self.schedule if t.at <= now]
        for delay, status, message in steps:
            self.schedule.append(Transition(now + delay, status, message or STATUS_MESSAGES.get(status, "")))

    def describe(self, now: float) -> dict[str, Any]:
        """The ProjectVersionDescription at ``now``."""
        state = self.state(now)
        result: dict[str, Any] = {
            "ProjectVersionArn": self.arn,
            "CreationTimestamp": self.created,
            "Status": state.status,
            "StatusMessage": state.message,
            "OutputConfig": dict(self.output_config),
            "Feature": self.feature,
        }
        if self.results_at is not None and self.results_at <= now and self.training_end is not None:
            result["TrainingEndTimestamp"] = self.training_end
            if self.billable_training_seconds is not None:
                result["BillableTrainingTimeInSeconds"] = self.billable_training_seconds
            if self.f1_score is not None:
                bucket = self.output_config.get("S3Bucket", "")
                prefix = self.output_config.get("S3KeyPrefix", "")
                result["EvaluationResult"] = {
                    "F1Score": self.f1_score,
                    "Summary": {
                        "S3Object": {"Bucket": bucket, "Name": f"{prefix}EvaluationResultSummary.json"}
                    },
                }
        if self.kms_key_id is not None:
            result["KmsKeyId"] = self.kms_key_id
        if self.source_version_arn is not None:
            result["SourceProjectVersionArn"] = self.source_version_arn
        if self.version_description is not None:
            result["VersionDescription"] = self.version_description
        if state.status in HOSTED and self.min_inference_units is not None:
            result["MinInferenceUnits"] = self.min_inference_units
            result["MaxInferenceUnits"] = self.max_inference_units or self.min_inference_units
        return result


@dataclass
class ProjectPolicy:
    """A named resource policy attached to a project."""

    name: str
    document: str
    revision_id: str
    created: float
    updated: float
    #: role ARN -> unique id of the role it named when the policy was put (AWS binds role principals)
    bindings: dict[str, str] = field(default_factory=dict)
    seq: int = field(default_factory=lambda: next(_sequence))


@dataclass
class Project:
    """A Custom Labels project with its versions and policies."""

    name: str
    arn: str
    created: float
    feature: str = "CUSTOM_LABELS"
    auto_update: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    versions: dict[str, ProjectVersion] = field(default_factory=dict)
    policies: dict[str, ProjectPolicy] = field(default_factory=dict)
    seq: int = field(default_factory=lambda: next(_sequence))

    def live_versions(self, now: float) -> list[ProjectVersion]:
        """Versions not yet deleted at ``now`` (purges the deleted ones)."""
        for name in [n for n, v in self.versions.items() if v.is_gone(now)]:
            del self.versions[name]
        return list(self.versions.values())

    def describe(self) -> dict[str, Any]:
        """The ProjectDescription."""
        result: dict[str, Any] = {
            "ProjectArn": self.arn,
            "CreationTimestamp": self.created,
            "Status": "CREATED",
            "Datasets": [],
            "Feature": self.feature,
        }
        if self.auto_update is not None:
            result["AutoUpdate"] = self.auto_update
        return result


T = TypeVar("T")


def paginate(
    items: list[T],
    key: Callable[[T], tuple[float, int]],
    *,
    max_results: int,
    next_token: str | None,
    descending: bool,
) -> tuple[list[T], str | None]:
    """One page of ``items`` ordered by ``key``; the token is the key of the last item returned.

    Keyed tokens keep pages stable when items are added or removed between calls.
    """
    ordered = sorted(items, key=key, reverse=descending)
    if next_token:
        try:
            raw = json.loads(base64.urlsafe_b64decode(next_token.encode()).decode())
            after = (float(raw[0]), int(raw[1]))
        except (ValueError, TypeError, IndexError, KeyError, binascii.Error, UnicodeDecodeError):
            raise InvalidPaginationTokenException(f"Invalid pagination token: {next_token!r}.") from None
        ordered = [i for i in ordered if (key(i) < after if descending else key(i) > after)]
    page = ordered[:max_results]
    token = None
    if len(ordered) > max_results:
        token = base64.urlsafe_b64encode(json.dumps(list(key(page[-1]))).encode()).decode()
    return page, token


def _check_tags(tags: dict[str, str]) -> None:
    for key in tags:
        if key.lower().startswith("aws:"):
            raise InvalidParameterException(f"Tag keys must not start with 'aws:': {key!r}.")


class CustomLabelsBackend(BaseBackend):
    """Custom Labels state of one account in one Region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        """Create an empty backend for ``account_id`` in ``region_name``."""
        super().__init__(region_name, account_id)
        self.projects: dict[str, Project] = {}

    # --- lookups -------------------------------------------------------------------------------

    def _own(self, parts: dict[str, str], arn: str, caller: CallerIdentity | None, action: str) -> None:
        if parts["account"] != self.account_id:
            who = caller.arn if caller else f"arn:aws:iam::{self.account_id}:root"
            raise AccessDeniedException(
                f"User: {who} is not authorized to perform: rekognition:{action} on resource: {arn} "
                "because no resource-based policy allows the action."
            )
        if parts["region"] != self.region_name:
            raise ResourceNotFoundException(f"The resource {arn} does not exist in {self.region_name}.")

    def get_project(
        self,
        arn: str,
        *,
        caller: CallerIdentity | None = None,
        action: str = "",
        parameter: str = "ProjectArn",
    ) -> Project:
        """The project named by ``arn`` (ResourceNotFoundException when absent)."""
        parts = parse_project_arn(arn, parameter)
        self._own(parts, arn, caller, action)
        project = self.projects.get(parts["project"])
        if project is None or project.arn != arn:
            raise ResourceNotFoundException(f"The project {arn} does not exist.")
        return project

    def get_version(
        self,
        arn: str,
        *,
        caller: CallerIdentity | None = None,
        action: str = "",
        parameter: str = "ProjectVersionArn",
    ) -> tuple[Project, ProjectVersion]:
        """The project and live version named by ``arn`` (ResourceNotFoundException when absent)."""
        parts = parse_version_arn(arn, parameter)
        self._own(parts, arn, caller, action)
        project = self.projects.get(parts["project"])
        if project is not None:
            project.live_versions(runtime.now())
            version = project.versions.get(parts["version"])
            if version is not None and version.arn == arn:
                return project, version
        raise ResourceNotFoundException(f"The project version {arn} does not exist.")

    def _tagged(self, arn: str, caller: CallerIdentity | None, action: str) -> dict[str, str]:
        if VERSION_ARN_RE.match(arn):
            return self.get_version(arn, caller=caller, action=action, parameter="ResourceArn")[1].tags
        if PROJECT_ARN_RE.match(arn):
            return self.get_project(arn, caller=caller, action=action, parameter="ResourceArn").tags
        raise InvalidParameterException(
            f"ResourceArn is not a Rekognition project or project version ARN: {arn!r}."
        )

    # --- projects ------------------------------------------------------------------------------

    def create_project(
        self,
        name: str,
        feature: str | None = None,
        auto_update: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Project:
        """CreateProject."""
        if name in self.projects:
            raise ResourceInUseException(f"A project named {name!r} already exists.")
        tags = dict(tags or {})
        _check_tags(tags)
        now = runtime.now()
        prefix = f"arn:{self.partition}:rekognition:{self.region_name}:{self.account_id}"
        arn = f"{prefix}:project/{name}/{epoch_ms(now)}"
        feature = feature or "CUSTOM_LABELS"
        if feature == "CONTENT_MODERATION" and auto_update is None:
            auto_update = "DISABLED"
        project = Project(
            name=name, arn=arn, created=now, feature=feature, auto_update=auto_update, tags=tags
        )
        self.projects[name] = project
        return project

    def describe_projects(
        self, names: list[str] | None, features: list[str] | None, max_results: int, next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """DescribeProjects, newest first."""
        projects = [
            p
            for p in self.projects.values()
            if (names is None or p.name in names) and (features is None or p.feature in features)
        ]
        page, token = paginate(
            projects,
            lambda p: (p.created, p.seq),
            max_results=max_results,
            next_token=next_token,
            descending=True,
        )
        return [p.describe() for p in page], token

    def delete_project(self, arn: str, caller: CallerIdentity | None = None) -> str:
        """DeleteProject: refused while versions remain; the project goes away at once."""
        project = self.get_project(arn, caller=caller, action="DeleteProject")
        live = project.live_versions(runtime.now())
        if live:
            raise ResourceInUseException(
                f"The project {arn} still has {len(live)} model version(s); delete them first."
            )
        del self.projects[project.name]
        return "DELETING"

    # --- versions ------------------------------------------------------------------------------

    def _new_version_arn(self, project: Project, version_name: str, now: float) -> str:
        if version_name in {v.version_name for v in project.live_versions(now)}:
            raise ResourceInUseException(
                f"A model version named {version_name!r} already exists in project {project.arn}."
            )
        prefix = project.arn.rsplit("/", 1)[0]
        return f"{prefix}/version/{version_name}/{epoch_ms(now)}"

    def create_project_version(
        self,
        project_arn: str,
        version_name: str,
        output_config: dict[str, Any],
        *,
        tags: dict[str, str] | None = None,
        kms_key_id: str | None = None,
        version_description: str | None = None,
        caller: CallerIdentity | None = None,
        training_duration: float | None = None,
        scripted_failures: bool = True,
    ) -> ProjectVersion:
        """CreateProjectVersion: TRAINING_IN_PROGRESS, then TRAINING_COMPLETED (or a scripted failure)."""
        project = self.get_project(project_arn, caller=caller, action="CreateProjectVersion")
        tags = dict(tags or {})
        _check_tags(tags)
        now = runtime.now()
        arn = self._new_version_arn(project, version_name, now)
        duration = runtime.config.training_duration if training_duration is None else training_duration
        failure = runtime.faults.take_training_failure(self.account_id) if scripted_failures else None
        version = ProjectVersion(
            arn=arn,
            project_arn=project.arn,
            version_name=version_name,
            created=now,
            schedule=[Transition(now, "TRAINING_IN_PROGRESS", STATUS_MESSAGES["TRAINING_IN_PROGRESS"])],
            output_config=dict(output_config),
            tags=tags,
            kms_key_id=kms_key_id,
            version_description=version_description,
            feature=project.feature,
        )
        if failure is None:
            version.reschedule(now, [(duration, "TRAINING_COMPLETED", None)])
            version.training_end = version.results_at = now + duration
            version.billable_training_seconds = int(duration)
            version.f1_score = 0.95
        else:
            version.reschedule(now, [(duration, "TRAINING_FAILED", failure)])
        project.versions[version_name] = version
        return version

    def describe_project_versions(
        self,
        project_arn: str,
        version_names: list[str] | None,
        max_results: int,
        next_token: str | None,
        caller: CallerIdentity | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """DescribeProjectVersions, newest first; unknown names are simply absent."""
        project = self.get_project(project_arn, caller=caller, action="DescribeProjectVersions")
        now = runtime.now()
        versions = [
            v for v in project.live_versions(now) if version_names is None or v.version_name in version_names
        ]
        page, token = paginate(
            versions,
            lambda v: (v.created, v.seq),
            max_results=max_results,
            next_token=next_token,
            descending=True,
        )
        return [v.describe(now) for v in page], token

    def copy_project_version(
        self,
        caller: CallerIdentity,
        source_project_arn: str,
        source_version_arn: str,
        destination_project_arn: str,
        version_name: str,
        output_config: dict[str, Any],
        tags: dict[str, str] | None = None,
        kms_key_id: str | None = None,
    ) -> ProjectVersion:
        """CopyProjectVersion into a project of this backend's account (the caller's)."""
        source = parse_project_arn(source_project_arn, "SourceProjectArn")
        source_version = parse_version_arn(source_version_arn, "SourceProjectVersionArn")
        destination = parse_project_arn(destination_project_arn, "DestinationProjectArn")
        if not output_config.get("S3Bucket"):
            raise InvalidParameterException("OutputConfig.S3Bucket is required.")
        if (source_version["account"], source_version["region"], source_version["project"]) != (
            source["account"],
            source["region"],
            source["project"],
        ):
            raise InvalidParameterException(
                f"SourceProjectVersionArn {source_version_arn} is not a version of "
                f"SourceProjectArn {source_project_arn}."
            )
        if source["region"] != destination["region"]:
            raise InvalidParameterException(
                f"The source project is in {source['region']} and the destination project in "
                f"{destination['region']}; a model can only be copied within one Region."
            )
        tags = dict(tags or {})
        _check_tags(tags)
        destination_project = self.get_project(
            destination_project_arn,
            caller=caller,
            action="CopyProjectVersion",
            parameter="DestinationProjectArn",
        )
        source_backend = custom_labels_backends[source["account"]][self.region_name]
        source_project = source_backend.projects.get(source["project"])
        if source_project is None or source_project.arn != source_project_arn:
            raise ResourceNotFoundException(f"The project {source_project_arn} does not exist.")
        # The caller's right to copy (identity policy, and the source's project policy across accounts)
        # was decided before this call reached the backend: emulator.custom_labels_authz.
        now = runtime.now()
        copied = next((v for v in source_project.live_versions(now) if v.arn == source_version_arn), None)
        if copied is None:
            raise ResourceNotFoundException(f"The project version {source_version_arn} does not exist.")
        status = copied.status(now)
        if status not in COPYABLE:
            raise ResourceInUseException(
                f"The project version {source_version_arn} is {status}; only a trained model can be copied."
            )
        arn = self._new_version_arn(destination_project, version_name, now)
        failure = runtime.faults.take_copy_failure(self.account_id)
        version = ProjectVersion(
            arn=arn,
            project_arn=destination_project.arn,
            version_name=version_name,
            created=now,
            schedule=[Transition(now, "COPYING_IN_PROGRESS", STATUS_MESSAGES["COPYING_IN_PROGRESS"])],
            output_config=dict(output_config),
            tags=tags,
            kms_key_id=kms_key_id,
            source_version_arn=source_version_arn,
            version_description=copied.version_description,
            feature=copied.feature,
        )
        duration = runtime.config.copy_duration
        if failure is None:
            version.reschedule(now, [(duration, "COPYING_COMPLETED", None)])
            version.training_end = copied.training_end
            version.results_at = now + duration
            version.billable_training_seconds = copied.billable_training_seconds
            version.f1_score = copied.f1_score
        else:
            version.reschedule(now, [(duration, "COPYING_FAILED", failure)])
        destination_project.versions[version_name] = version
        return version

    def delete_project_version(self, arn: str, caller: CallerIdentity | None = None) -> str:
        """DeleteProjectVersion: DELETING, then gone after the delete duration."""
        _, version = self.get_version(arn, caller=caller, action="DeleteProjectVersion")
        now = runtime.now()
        status = version.status(now)
        if status == "DELETING":
            return status
        refused = UNDELETABLE | (
            set() if runtime.config.delete_while_copying_allowed else {"COPYING_IN_PROGRESS"}
        )
        if status in refused:
            hint = " Stop the model first." if status in HOSTED else ""
            raise ResourceInUseException(
                f"The project version {arn} can't be deleted while it is {status}.{hint}"
            )
        version.reschedule(now, [(0.0, "DELETING", None)])
        version.removed_at = now + runtime.config.delete_duration
        return "DELETING"

    def start_project_version(
        self, arn: str, min_units: int, max_units: int | None, caller: CallerIdentity | None = None
    ) -> str:
        """StartProjectVersion: STARTING, then RUNNING."""
        _, version = self.get_version(arn, caller=caller, action="StartProjectVersion")
        if max_units is not None and max_units < min_units:
            raise InvalidParameterException(
                f"MaxInferenceUnits ({max_units}) must be greater than or equal to "
                f"MinInferenceUnits ({min_units})."
            )
        now = runtime.now()
        status = version.status(now)
        if status not in STARTABLE:
            raise ResourceInUseException(f"The project version {arn} can't be started while it is {status}.")
        version.min_inference_units = min_units
        version.max_inference_units = max_units
        version.reschedule(now, [(0.0, "STARTING", None), (runtime.config.start_duration, "RUNNING", None)])
        return "STARTING"

    def stop_project_version(self, arn: str, caller: CallerIdentity | None = None) -> str:
        """StopProjectVersion: STOPPING, then STOPPED; only a RUNNING version can be stopped."""
        _, version = self.get_version(arn, caller=caller, action="StopProjectVersion")
        now = runtime.now()
        status = version.status(now)
        if status != "RUNNING":
            raise ResourceInUseException(f"The project version {arn} can't be stopped while it is {status}.")
        version.reschedule(now, [(0.0, "STOPPING", None), (runtime.config.stop_duration, "STOPPED", None)])
        return "STOPPING"

    # --- policies ------------------------------------------------------------------------------

    def put_project_policy(
        self,
        project_arn: str,
        name: str,
        document: str,
        revision_id: str | None,
        caller: CallerIdentity | None = None,
    ) -> str:
        """PutProjectPolicy: create (no revision id) or update (current revision id); new revision id."""
        project = self.get_project(project_arn, caller=caller, action="PutProjectPolicy")
        bindings = role_bindings(validate_document(document))
        existing = project.policies.get(name)
        now = runtime.now()
        if existing is None:
            if revision_id:
                raise InvalidPolicyRevisionIdException(
                    f"The policy {name!r} does not exist; omit PolicyRevisionId to create it."
                )
            if len(project.policies) >= runtime.config.max_policies_per_project:
                raise LimitExceededException(
                    f"The project {project_arn} already has {len(project.policies)} project policies "
                    f"(the maximum is {runtime.config.max_policies_per_project})."
                )
            policy = ProjectPolicy(
                name=name,
                document=document,
                revision_id=uuid.uuid4().hex,
                created=now,
                updated=now,
                bindings=bindings,
            )
            project.policies[name] = policy
            return policy.revision_id
        if revision_id != existing.revision_id:
            given = "no PolicyRevisionId" if not revision_id else f"PolicyRevisionId {revision_id!r}"
            raise InvalidPolicyRevisionIdException(
                f"The policy {name!r} exists with revision {existing.revision_id}; {given} was given."
            )
        existing.document = document
        existing.bindings = bindings
        existing.revision_id = uuid.uuid4().hex
        existing.updated = now
        return existing.revision_id

    def delete_project_policy(
        self, project_arn: str, name: str, revision_id: str | None, caller: CallerIdentity | None = None
    ) -> None:
        """DeleteProjectPolicy."""
        project = self.get_project(project_arn, caller=caller, action="DeleteProjectPolicy")
        existing = project.policies.get(name)
        if existing is None:
            raise ResourceNotFoundException(f"The project policy {name!r} does not exist on {project_arn}.")
        if revision_id and revision_id != existing.revision_id:
            raise InvalidPolicyRevisionIdException(
                f"The policy {name!r} is at revision {existing.revision_id}, not {revision_id!r}."
            )
        del project.policies[name]

    def list_project_policies(
        self, project_arn: str, max_results: int, next_token: str | None, caller: CallerIdentity | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """ListProjectPolicies, oldest first."""
        project = self.get_project(project_arn, caller=caller, action="ListProjectPolicies")
        page, token = paginate(
            list(project.policies.values()),
            lambda p: (p.created, p.seq),
            max_results=max_results,
            next_token=next_token,
            descending=False,
        )
        return [
            {
                "ProjectArn": project.arn,
                "PolicyName": p.name,
                "PolicyRevisionId": p.revision_id,
                "PolicyDocument": displayed_document(p.document, p.bindings),
                "CreationTimestamp": p.created,
                "LastUpdatedTimestamp": p.updated,
            }
            for p in page
        ], token

    # --- tags ----------------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: dict[str, str], caller: CallerIdentity | None = None) -> None:
        """TagResource on a project or version."""
        current = self._tagged(arn, caller, "TagResource")
        _check_tags(tags)
        if len(set(current) | set(tags)) > MAX_TAGS:
            raise ServiceQuotaExceededException(f"A resource can have at most {MAX_TAGS} tags.")
        current.update(tags)

    def untag_resource(self, arn: str, keys: list[str], caller: CallerIdentity | None = None) -> None:
        """UntagResource on a project or version (unknown keys are ignored)."""
        current = self._tagged(arn, caller, "UntagResource")
        _check_tags(dict.fromkeys(keys, ""))
        for key in keys:
            current.pop(key, None)

    def list_tags_for_resource(self, arn: str, caller: CallerIdentity | None = None) -> dict[str, str]:
        """ListTagsForResource on a project or version."""
        return dict(self._tagged(arn, caller, "ListTagsForResource"))

    # --- test support --------------------------------------------------------------------------

    def seed_trained_version(
        self,
        project_name: str,
        version_name: str,
        output_config: dict[str, Any] | None = None,
        kms_key_id: str | None = None,
    ) -> tuple[str, str]:
        """Create (or reuse) a project and add a TRAINING_COMPLETED version; return both ARNs.

        ``kms_key_id``: the customer managed key the model was trained with (copies then need it).
        """
        project = self.projects.get(project_name) or self.create_project(project_name)
        version = self.create_project_version(
            project.arn,
            version_name,
            output_config or {"S3Bucket": f"seed-{self.account_id}", "S3KeyPrefix": f"{project_name}/"},
            kms_key_id=kms_key_id,
            training_duration=0.0,
            scripted_failures=False,
        )
        return project.arn, version.arn


custom_labels_backends: BackendDict[CustomLabelsBackend] = BackendDict(CustomLabelsBackend, "rekognition")
