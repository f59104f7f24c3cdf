"""The moto backend of Custom Labels: the state of one account in one Region, and every operation on it.

Asynchronous behaviour is computed lazily (see :mod:`.models`): results depend only on the emulator clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.kms.models import kms_backends

from . import runtime
from .errors import (
    AccessDeniedException,
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from .models import (
    COPIED_OR_TRAINED,
    COPYABLE,
    HOSTED,
    PROJECT_ARN_RE,
    STARTABLE,
    STATUS_MESSAGES,
    UNDELETABLE,
    VERSION_ARN_RE,
    Project,
    ProjectVersion,
    Transition,
    epoch_ms,
    paginate,
    parse_project_arn,
    parse_version_arn,
)
from .policy import CallerIdentity, delete_policy, list_policies, put_policy

MAX_TAGS = 200


def _check_tags(tags: dict[str, str]) -> None:
    for key in tags:
        if key.lower().startswith("aws:"):
            raise InvalidParameterException(f"Tag keys must not start with 'aws:': {key!r}.")


def copyable_statuses() -> frozenset[str]:
    """The source statuses CopyProjectVersion accepts (``config.copy_source_statuses``).

    The API reference (API_CopyProjectVersion) says only that the source model version must exist; the
    guide copies trained models. "trained_or_later" accepts a trained or copied version and one that is
    starting, running, stopping or stopped (:data:`.models.COPYABLE`); "training_completed" accepts
    TRAINING_COMPLETED and COPYING_COMPLETED only, and refuses a hosted or stopped source with
    ResourceInUseException, the error the API gives for a version in the wrong state (as StartProjectVersion
    and DeleteProjectVersion do).
    """
    if runtime.config.copy_source_statuses == "training_completed":
        return COPIED_OR_TRAINED
    return COPYABLE


def key_arn(key_id: str, account_id: str, region: str) -> str | None:
    """The ARN of the KMS key that a key id, key ARN, alias name or alias ARN names (None: no such key).

    An ARN names its own account and Region; a bare id or alias name is looked up in ``account_id``. A
    KmsKeyId that names no key never reaches the backend: authorization (:mod:`.authz`) refuses the copy
    with AccessDeniedException, as the service's own DescribeKey and CreateGrant on it would fail.
    """
    parts = key_id.split(":", 5)
    if len(parts) == 6:
        account_id, region = parts[4], parts[3]
    try:
        kms = kms_backends[account_id][region]
        return str(kms.keys[kms.any_id_to_key_id(key_id)].arn)
    except Exception:  # noqa: BLE001 - moto raises KeyError or its own NotFound for an unknown key
        return None


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

    def _add_version(
        self,
        project: Project,
        version_name: str,
        now: float,
        phase: str,
        duration: float,
        take_failure: Callable[[str], str | None],
        *,
        results: tuple[float | None, int | None, float | None],
        **fields: Any,
    ) -> ProjectVersion:
        """Add a version to ``project``: ``phase``_IN_PROGRESS ("TRAINING" or "COPYING") for ``duration``
        seconds, then ``phase``_COMPLETED showing its training ``results`` (training end, billable
        seconds, F1 score), or ``phase``_FAILED when ``take_failure`` (asked once the name is known to be
        free) scripts a failure for this account."""
        arn = self._new_version_arn(project, version_name, now)
        failure = take_failure(self.account_id)
        in_progress = f"{phase}_IN_PROGRESS"
        version = ProjectVersion(
            arn=arn,
            project_arn=project.arn,
            version_name=version_name,
            created=now,
            schedule=[Transition(now, in_progress, STATUS_MESSAGES[in_progress])],
            **fields,
        )
        if failure is None:
            version.reschedule(now, [(duration, f"{phase}_COMPLETED", None)])
            version.results_at = now + duration
            version.training_end, version.billable_training_seconds, version.f1_score = results
        else:
            version.reschedule(now, [(duration, f"{phase}_FAILED", failure)])
        project.versions[version_name] = version
        return version

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
        duration = runtime.config.training_duration if training_duration is None else training_duration
        return self._add_version(
            project,
            version_name,
            now,
            "TRAINING",
            duration,
            runtime.faults.take_training_failure if scripted_failures else lambda account_id: None,
            results=(now + duration, int(duration), runtime.config.f1_score),
            output_config=dict(output_config),
            tags=tags,
            kms_key_id=kms_key_id,
            version_description=version_description,
            feature=project.feature,
        )

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
        # was decided before this call reached the backend: emulator.custom_labels.authz.
        now = runtime.now()
        copied = next((v for v in source_project.live_versions(now) if v.arn == source_version_arn), None)
        if copied is None:
            raise ResourceNotFoundException(f"The project version {source_version_arn} does not exist.")
        status = copied.status(now)
        if status not in copyable_statuses():
            raise ResourceInUseException(
                f"The project version {source_version_arn} is {status}; only a trained model can be copied."
            )
        # The guide ("Copying an Amazon Rekognition Custom Labels model", md-copy-model-overview) says a
        # copy contains the source model's training results; EvaluationResult "is only returned if training
        # is successful" (API_ProjectVersionDescription), which does not promise it for a copy: "carried"
        # copies the source's F1 score, "absent" shows none.
        carried = runtime.config.copy_evaluation == "carried"
        return self._add_version(
            destination_project,
            version_name,
            now,
            "COPYING",
            runtime.config.copy_duration,
            runtime.faults.take_copy_failure,
            results=(
                copied.training_end,
                copied.billable_training_seconds,
                copied.f1_score if carried else None,
            ),
            output_config=dict(output_config),
            tags=tags,
            kms_key_id=kms_key_id,
            kms_key_arn=key_arn(kms_key_id, self.account_id, self.region_name) if kms_key_id else None,
            source_version_arn=source_version_arn,
            version_description=copied.version_description,
            feature=copied.feature,
        )

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
        return put_policy(project, name, document, revision_id, runtime.now())

    def delete_project_policy(
        self, project_arn: str, name: str, revision_id: str | None, caller: CallerIdentity | None = None
    ) -> None:
        """DeleteProjectPolicy."""
        project = self.get_project(project_arn, caller=caller, action="DeleteProjectPolicy")
        delete_policy(project, name, revision_id, runtime.now())

    def list_project_policies(
        self, project_arn: str, max_results: int, next_token: str | None, caller: CallerIdentity | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """ListProjectPolicies, oldest first."""
        project = self.get_project(project_arn, caller=caller, action="ListProjectPolicies")
        return list_policies(project, max_results, next_token)

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


custom_labels_backends: BackendDict[CustomLabelsBackend] = BackendDict(CustomLabelsBackend, "rekognition")


def backend(account_id: str, region: str) -> CustomLabelsBackend:
    """The Custom Labels backend of ``account_id`` in ``region`` (created on first use)."""
    return custom_labels_backends[account_id][region]
