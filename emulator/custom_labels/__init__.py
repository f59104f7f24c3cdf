"""Amazon Rekognition Custom Labels model management, emulated inside moto.

Importing this package calls :func:`install`, which adds the Custom Labels operations (CreateProject,
DescribeProjectVersions, CopyProjectVersion, project policies, tags ...) to moto's own
``RekognitionResponse``. A plain ``boto3.client("rekognition")`` then sees them under
``moto.mock_aws()`` and through a moto server (``ThreadedMotoServer``) running in this process.

Modules: :mod:`.service` (requests as moto receives them), :mod:`.backends` (the state of one account
and Region, every operation), :mod:`.models` (projects, versions, policies), :mod:`.policy` (project
policies), :mod:`.validation` (input against the botocore model), :mod:`.authz` with :mod:`.iam_actions`
(authorization, on :mod:`emulator.iam`), :mod:`.errors`, :mod:`.runtime` (clock, config, faults, counts).

State lives in :data:`custom_labels_backends` (a moto ``BackendDict``: one backend per account and
Region, reset by moto like any other). Tests steer the emulator through :data:`config` (durations),
:data:`faults` (scripted errors and failed copies), :data:`calls` (call counts), :func:`set_clock`
(a :class:`~emulator.clock.SimulatedClock` makes asynchronous transitions instant and deterministic)
and :func:`reset`. A trained version's evaluation (``EvaluationResult.F1Score``) is set per version with
:func:`seed_trained_version` (``f1_score=``) or :func:`set_f1_score`, for versions trained through the API
with ``config.f1_score``; a copy carries its source's evaluation or shows none
(``config.copy_evaluation``: undocumented by AWS, like every field of :data:`VARIANTS`, each of which
has a mode per plausible reading).

Example::

    from emulator import custom_labels
    from emulator.clock import SimulatedClock

    clock = SimulatedClock()
    custom_labels.reset(clock=clock)
    with moto.mock_aws():
        project_arn, version_arn = custom_labels.seed_trained_version(
            "111111111111", "us-east-1", "source", "v1")
        ...  # CopyProjectVersion with boto3: COPYING_IN_PROGRESS
        clock.advance(custom_labels.config.copy_duration)  # now COPYING_COMPLETED
"""

from __future__ import annotations

from typing import Any

from ..clock import Clock, RealClock, SimulatedClock
from ..iam import identity_history
from . import runtime as _runtime
from .backends import CustomLabelsBackend, backend, custom_labels_backends
from .errors import ERRORS_BY_CODE, CustomLabelsError
from .models import parse_version_arn
from .policy import CallerIdentity
from .runtime import (
    DEFAULT_F1_SCORE,
    OPERATIONS,
    VARIANTS,
    CallCounter,
    EmulatorConfig,
    FaultInjector,
    calls,
    config,
    faults,
    get_clock,
    set_clock,
    state_lock,
)
from .service import caller_identity, install

__all__ = [
    "DEFAULT_F1_SCORE",
    "ERRORS_BY_CODE",
    "OPERATIONS",
    "VARIANTS",
    "CallCounter",
    "CallerIdentity",
    "Clock",
    "CustomLabelsBackend",
    "CustomLabelsError",
    "EmulatorConfig",
    "FaultInjector",
    "RealClock",
    "SimulatedClock",
    "backend",
    "call_counts",
    "caller_identity",
    "calls",
    "config",
    "custom_labels_backends",
    "faults",
    "get_clock",
    "install",
    "now",
    "reset",
    "seed_trained_version",
    "set_clock",
    "set_f1_score",
]


def call_counts() -> dict[tuple[str, str], int]:
    """Calls received so far, keyed by (account id, operation name)."""
    return calls.snapshot()


def seed_trained_version(
    account_id: str,
    region: str,
    project_name: str,
    version_name: str,
    *,
    output_config: dict[str, Any] | None = None,
    kms_key_id: str | None = None,
    f1_score: float | None = DEFAULT_F1_SCORE,
) -> tuple[str, str]:
    """Create (or reuse) a project and add a TRAINING_COMPLETED version directly in the backend.

    Returns ``(project_arn, version_arn)``. Call it inside ``mock_aws()`` (which resets backends when it
    starts). Scripted training failures are not consumed. ``kms_key_id``: the customer managed key the
    model was trained with (a KMS key ARN in ``account_id``); a copy then needs Decrypt, DescribeKey and
    CreateGrant on it, allowed by that key's policy. ``f1_score``: its ``EvaluationResult.F1Score``
    (None: the version has no evaluation result). No authorization applies to seeding itself.
    """
    with state_lock:
        region_backend = backend(account_id, region)
        project = region_backend.projects.get(project_name) or region_backend.create_project(project_name)
        version = region_backend.create_project_version(
            project.arn,
            version_name,
            output_config or {"S3Bucket": f"seed-{account_id}", "S3KeyPrefix": f"{project_name}/"},
            kms_key_id=kms_key_id,
            training_duration=0.0,
            scripted_failures=False,
        )
        version.f1_score = f1_score
        return project.arn, version.arn


def set_f1_score(version_arn: str, f1_score: float | None) -> None:
    """Change the ``EvaluationResult.F1Score`` a version reports (None: no evaluation result), e.g. to
    play a model evaluated again. Copies made before keep the score they were copied with."""
    parts = parse_version_arn(version_arn)
    with state_lock:
        backend(parts["account"], parts["region"]).get_version(version_arn)[1].f1_score = f1_score


def reset(*, clock: Clock | None = None) -> None:
    """Back to a fresh emulator: no resources, faults or counts, default config, and ``clock``.

    ``clock`` defaults to a new :class:`RealClock`.
    """
    with state_lock:
        for _, _, region_backend in list(custom_labels_backends.iter_backends()):
            region_backend.reset()
        custom_labels_backends.clear()
        faults.clear()
        calls.clear()
        config.reset()
        identity_history.clear()
        set_clock(clock if clock is not None else RealClock())


def now() -> float:
    """The current time of the emulator clock, in epoch seconds."""
    return _runtime.now()
