"""Process-wide runtime state of the Custom Labels emulator: clock, configuration, faults, call counts,
and the lock around the state of every backend.

Backends hold the emulated resources per account and Region; everything here is shared by all of them
and is what tests steer. ``emulator.custom_labels`` re-exports these objects; they are mutated in place
and never rebound, so ``from emulator.custom_labels import config`` stays valid after ``reset()``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter, deque
from dataclasses import dataclass

from ..clock import Clock, RealClock
from .errors import ERRORS_BY_CODE, CustomLabelsError

#: The Custom Labels operations the emulator implements (wire names).
OPERATIONS: tuple[str, ...] = (
    "CreateProject",
    "DescribeProjects",
    "DeleteProject",
    "CreateProjectVersion",
    "DescribeProjectVersions",
    "CopyProjectVersion",
    "DeleteProjectVersion",
    "StartProjectVersion",
    "StopProjectVersion",
    "PutProjectPolicy",
    "DeleteProjectPolicy",
    "ListProjectPolicies",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
)

DEFAULT_COPY_FAILURE_MESSAGE = "The model copy failed: an internal error occurred while copying the model."
DEFAULT_TRAINING_FAILURE_MESSAGE = "The model training failed: the training dataset is not valid."


DEFAULT_F1_SCORE = 0.95
"""The F1 score of a trained version unless told otherwise (:attr:`EmulatorConfig.f1_score`)."""


@dataclass
class EmulatorConfig:
    """Durations (seconds of the emulator clock) and switches; read when an operation starts.

    A transition already scheduled keeps the duration that was configured when it was scheduled.
    """

    #: CreateProjectVersion: TRAINING_IN_PROGRESS -> TRAINING_COMPLETED.
    training_duration: float = 0.0
    #: CreateProjectVersion: the F1 score of the version once trained (``EvaluationResult.F1Score``);
    #: None, no evaluation result. A copy carries its source's under ``copy_evaluation="carried"``.
    f1_score: float | None = DEFAULT_F1_SCORE
    #: CopyProjectVersion: COPYING_IN_PROGRESS -> COPYING_COMPLETED (or COPYING_FAILED).
    copy_duration: float = 180.0
    #: StartProjectVersion: STARTING -> RUNNING.
    start_duration: float = 60.0
    #: StopProjectVersion: STOPPING -> STOPPED.
    stop_duration: float = 30.0
    #: DeleteProjectVersion: DELETING -> gone from DescribeProjectVersions.
    delete_duration: float = 5.0
    #: UNCONFIRMED in AWS. False: DeleteProjectVersion on COPYING_IN_PROGRESS raises
    #: ResourceInUseException. True: the copy is abandoned and the version goes DELETING.
    delete_while_copying_allowed: bool = False
    #: PutProjectPolicy: policies per project (LimitExceededException beyond).
    max_policies_per_project: int = 5

    # --- Behaviours AWS does not document: one field each, its plausible readings in VARIANTS ---------
    #: DeleteProjectPolicy with a PolicyRevisionId that is not the current one. "checks": refused with
    #: InvalidPolicyRevisionIdException; "ignores": the policy of that name is deleted whatever its
    #: revision. The API reference lists PolicyRevisionId as a parameter and the exception among the
    #: errors, but does not say that a stale id is refused.
    delete_policy_revision: str = "checks"
    #: DescribeProjectVersions' KmsKeyId of a version copied with a KmsKeyId. "as_declared": the value
    #: CopyProjectVersion was given (key id, key ARN, alias or alias ARN); "key_arn": the key's ARN;
    #: "omitted": no KmsKeyId at all. The API reference documents the field as "the identifier for your
    #: AWS KMS key" without saying in which form, or whether a copy reports it. "key_arn" resolves the
    #: declared value through moto's KMS in the copy's account (an ARN names its own account). A KmsKeyId
    #: naming no key (an alias that does not exist) fails the copy in every reading: AccessDeniedException
    #: before the copy starts, as the service's DescribeKey and CreateGrant on it would fail.
    kms_key_id_described: str = "as_declared"
    #: A copy's EvaluationResult. "carried": the source's; "absent": none. The guide says a copy "contains
    #: the source model's training results"; EvaluationResult is "only returned if training is
    #: successful", which does not promise it for a copy.
    copy_evaluation: str = "carried"
    #: The source statuses CopyProjectVersion accepts. "trained_or_later": TRAINING_COMPLETED,
    #: COPYING_COMPLETED and the serving states (COPYABLE); "training_completed": TRAINING_COMPLETED and
    #: COPYING_COMPLETED only. The API reference says only that the source version must exist.
    copy_source_statuses: str = "trained_or_later"
    #: How a project policy binds a role principal. "unique_id": like IAM's resource policies, to the
    #: role's unique id (a role deleted and created again under its name no longer matches); "name": to
    #: the ARN as written. No Rekognition page says which.
    role_principal_binding: str = "unique_id"
    #: Seconds after which a put, an update or a deletion of a project policy takes effect for the
    #: authorization of calls (0: at once); ListProjectPolicies shows the change at once. Not documented:
    #: a deleted policy keeps allowing for that long, a new or changed one does not yet.
    policy_propagation_delay: float = 0.0
    #: Seconds after which a change of an IAM role's policies takes effect for Custom Labels calls
    #: (0: at once). IAM documents its changes as eventually consistent, without a figure. A role's
    #: policies when the emulator first sees the role are settled; each later change is dated when the
    #: emulator first sees it (emulator.iam.IdentityPolicyHistory).
    iam_propagation_delay: float = 0.0
    #: How CloudFormation's DescribeStackEvents shows the Reason of a custom resource's FAILED answer (a
    #: CloudFormation behaviour, kept here with the other guesses). "wrapped": as users see it, "Received
    #: response status [FAILED] from custom resource. Message returned: <Reason> (RequestId: <id>)";
    #: "verbatim": the Reason alone. The API reference says only "success/failure message associated with
    #: the resource" (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackEvent.html).
    custom_resource_event_reason: str = "wrapped"
    #: Whether CloudFormation's DescribeStackEvents shows a custom resource's properties in its events
    #: (``ResourceProperties``, a JSON text). "every": each event of the resource carries the properties
    #: of the request it records (as events captured from CloudFormation show them); "absent": none. The
    #: API reference says only "BLOB of the properties used to create the resource"
    #: (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackEvent.html), not for
    #: which events, nor in which form.
    stack_event_properties: str = "every"

    def reset(self) -> None:
        """Restore every field to its default, in place."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, f.default)


#: Each undocumented behaviour of :class:`EmulatorConfig` (field name) and its plausible readings, the
#: emulator's default first. The lifecycle tests and the explorer run under each reading; the handler must
#: be right under all of them. ``delete_while_copying_allowed`` is one of them too (the API reference says
#: a running or training version can't be deleted, and does not mention copying).
VARIANTS: dict[str, tuple[object, ...]] = {
    "delete_policy_revision": ("checks", "ignores"),
    "kms_key_id_described": ("as_declared", "key_arn", "omitted"),
    "copy_evaluation": ("carried", "absent"),
    "copy_source_statuses": ("trained_or_later", "training_completed"),
    "delete_while_copying_allowed": (False, True),
    "role_principal_binding": ("unique_id", "name"),
    "policy_propagation_delay": (0.0, 30.0),
    "iam_propagation_delay": (0.0, 30.0),
    "custom_resource_event_reason": ("wrapped", "verbatim"),
    "stack_event_properties": ("every", "absent"),
}


@dataclass
class _Fault:
    error_code: str
    remaining: int | None  # None: until cleared
    account_id: str | None
    message: str | None


@dataclass
class _StatusFailure:
    status_message: str
    account_id: str | None


class FaultInjector:
    """Scripted failures for tests; thread-safe.

    ``inject`` makes the next calls of an operation fail with an error code before any work is done.
    ``fail_next_copy`` / ``fail_next_training`` make the next copies / trainings end FAILED
    asynchronously with a ``StatusMessage``. ``account_id=None`` matches any calling account.
    """

    def __init__(self) -> None:
        """Create an injector with nothing pending."""
        self._faults: dict[str, list[_Fault]] = {}
        self._latencies: dict[str, list[tuple[float, str | None]]] = {}
        self._copy_failures: deque[_StatusFailure] = deque()
        self._training_failures: deque[_StatusFailure] = deque()
        self._lock = threading.Lock()

    def inject(
        self,
        operation: str,
        error_code: str,
        *,
        times: int | None = 1,
        account_id: str | None = None,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``operation`` (e.g. "DescribeProjectVersions") fail.

        ``error_code`` is a Rekognition error code such as "ThrottlingException" or
        "InternalServerError"; ``times=None`` fails every call until ``clear()``.
        """
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; expected one of {', '.join(OPERATIONS)}")
        if error_code not in ERRORS_BY_CODE:
            raise ValueError(
                f"unknown error code {error_code!r}; expected one of {', '.join(ERRORS_BY_CODE)}"
            )
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times!r}")
        with self._lock:
            self._faults.setdefault(operation, []).append(_Fault(error_code, times, account_id, message))

    def inject_latency(
        self, operation: str, seconds: float, *, times: int = 1, account_id: str | None = None
    ) -> None:
        """Make the next ``times`` calls of ``operation`` take ``seconds`` (on the emulator's clock)."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; expected one of {', '.join(OPERATIONS)}")
        with self._lock:
            self._latencies.setdefault(operation, []).extend([(seconds, account_id)] * times)

    def take_latency(self, operation: str, account_id: str) -> float:
        """The latency due for this call (consumed), or 0."""
        with self._lock:
            pending = self._latencies.get(operation, [])
            for entry in pending:
                if entry[1] in (None, account_id):
                    pending.remove(entry)
                    return entry[0]
        return 0.0

    def fail_next_copy(
        self,
        status_message: str = DEFAULT_COPY_FAILURE_MESSAGE,
        *,
        times: int = 1,
        account_id: str | None = None,
    ) -> None:
        """Make the next ``times`` copies (by destination account) end COPYING_FAILED."""
        self._push(self._copy_failures, _StatusFailure(status_message, account_id), times)

    def fail_next_training(
        self,
        status_message: str = DEFAULT_TRAINING_FAILURE_MESSAGE,
        *,
        times: int = 1,
        account_id: str | None = None,
    ) -> None:
        """Make the next ``times`` CreateProjectVersion trainings end TRAINING_FAILED."""
        self._push(self._training_failures, _StatusFailure(status_message, account_id), times)

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._faults.clear()
            self._latencies.clear()
            self._copy_failures.clear()
            self._training_failures.clear()

    def raise_if_injected(self, operation: str, account_id: str) -> None:
        """Raise the first pending fault for this call, consuming one use of it."""
        with self._lock:
            pending = self._faults.get(operation, [])
            for fault in pending:
                if fault.account_id not in (None, account_id):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        pending.remove(fault)
                error_class = ERRORS_BY_CODE[fault.error_code]
                error: CustomLabelsError = error_class(
                    fault.message or f"Injected fault: {fault.error_code} on {operation}."
                )
                raise error

    def take_copy_failure(self, account_id: str) -> str | None:
        """The status message of the failure due for a copy into ``account_id``, if any (consumed)."""
        return self._take(self._copy_failures, account_id)

    def take_training_failure(self, account_id: str) -> str | None:
        """The status message of the failure due for a training in ``account_id``, if any (consumed)."""
        return self._take(self._training_failures, account_id)

    def _push(self, queue: deque[_StatusFailure], failure: _StatusFailure, times: int) -> None:
        with self._lock:
            queue.extend([failure] * times)

    def _take(self, queue: deque[_StatusFailure], account_id: str) -> str | None:
        with self._lock:
            for failure in queue:
                if failure.account_id in (None, account_id):
                    queue.remove(failure)
                    return failure.status_message
        return None


class CallCounter:
    """Counts the calls received per (account id, operation); thread-safe."""

    def __init__(self) -> None:
        """Create an empty counter."""
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def record(self, account_id: str, operation: str) -> None:
        """Count one call of ``operation`` by ``account_id``."""
        with self._lock:
            self._counts[(account_id, operation)] += 1

    def count(self, operation: str | None = None, account_id: str | None = None) -> int:
        """Calls matching ``operation`` and ``account_id`` (None matches any)."""
        with self._lock:
            return sum(
                n
                for (account, op), n in self._counts.items()
                if operation in (None, op) and account_id in (None, account)
            )

    def snapshot(self) -> dict[tuple[str, str], int]:
        """A copy of all counts keyed by (account id, operation)."""
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        """Reset every count to zero."""
        with self._lock:
            self._counts.clear()


config = EmulatorConfig()
faults = FaultInjector()
calls = CallCounter()

#: One lock around every state change and read: the moto server handles requests on several threads.
state_lock = threading.RLock()

_clock_lock = threading.Lock()
_clock: Clock = RealClock()


def set_clock(clock: Clock) -> None:
    """Install ``clock`` as the one clock read by every backend."""
    global _clock
    with _clock_lock:
        _clock = clock


def get_clock() -> Clock:
    """The clock currently read by every backend."""
    with _clock_lock:
        return _clock


def now() -> float:
    """The current time of the installed clock, in epoch seconds."""
    return get_clock().now()
