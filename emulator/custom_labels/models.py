"""Custom Labels resources: projects, model versions with their timed status schedules, project policies;
their ARNs, and keyed pagination. The moto backend holding them is :mod:`.backends`.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import runtime
from .errors import InvalidPaginationTokenException, InvalidParameterException

PROJECT_ARN_RE = re.compile(
    r"^arn:(?P<partition>[a-z\d-]+):rekognition:(?P<region>[a-z\d-]+):(?P<account>\d{12}):"
    r"project/(?P<project>[a-zA-Z0-9_.\-]{1,255})/(?P<stamp>[0-9]+)$"
)
VERSION_ARN_RE = re.compile(
    r"^arn:(?P<partition>[a-z\d-]+):rekognition:(?P<region>[a-z\d-]+):(?P<account>\d{12}):"
    r"project/(?P<project>[a-zA-Z0-9_.\-]{1,255})/version/(?P<version>[a-zA-Z0-9_.\-]{1,255})/(?P<stamp>[0-9]+)$"
)

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
#: The copyable states under ``config.copy_source_statuses == "training_completed"``.
COPIED_OR_TRAINED = frozenset({"TRAINING_COMPLETED", "COPYING_COMPLETED"})
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
    #: the ARN of the key ``kms_key_id`` names, resolved when the version was created (None: not resolved)
    kms_key_arn: str | None = None
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

    def described_kms_key_id(self) -> str | None:
        """The KmsKeyId DescribeProjectVersions shows (``config.kms_key_id_described`` for a copy).

        The API reference documents ProjectVersionDescription.KmsKeyId as "the identifier for the AWS KMS
        key that was used to encrypt the model during training" (API_ProjectVersionDescription): it names no
        form (CopyProjectVersion accepts a key id, key ARN, alias or alias ARN) and says nothing of copies.
        A trained version shows the value it was trained with; a copy shows it as declared, as the key's
        ARN, or not at all.
        """
        if self.kms_key_id is None or self.source_version_arn is None:
            return self.kms_key_id
        reading = runtime.config.kms_key_id_described
        if reading == "omitted":
            return None
        if reading == "key_arn":
            return self.kms_key_arn or self.kms_key_id
        return self.kms_key_id

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
        kms_key_id = self.described_kms_key_id()
        if kms_key_id is not None:
            result["KmsKeyId"] = kms_key_id
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
    #: every put and delete of a policy, in order: (time, name, the policy as put, or None once deleted);
    #: authorization reads the policies in force some time ago (``config.policy_propagation_delay``)
    policy_log: list[tuple[float, str, ProjectPolicy | None]] = field(default_factory=list)
    seq: int = field(default_factory=lambda: next(_sequence))

    def policies_in_force(self, now: float, delay: float) -> list[ProjectPolicy]:
        """The policies that authorize calls at ``now``: each name as it was ``delay`` seconds ago.

        No Rekognition page says how soon a new, changed or deleted project policy takes effect. IAM
        documents its own changes as eventually consistent ("Changes that I make are not always immediately
        visible", IAM User Guide, troubleshoot_general); the emulator takes a put, an update and a delete of
        a project policy alike to take effect ``delay`` seconds after the call: a deleted policy keeps
        allowing until then, a new one does not allow yet.
        """
        if delay <= 0:
            return list(self.policies.values())
        settled: dict[str, ProjectPolicy | None] = {}
        for at, name, policy in self.policy_log:
            if at + delay <= now:
                settled[name] = policy
        return [policy for policy in settled.values() if policy is not None]

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
