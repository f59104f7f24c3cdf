"""What every part of the bench shares: scenarios, accounts, cost model and the per-column result record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: The repo's pinned Node 22 and the CDK CLI (``make setup`` installs them).
NODE_BIN = REPO / "node_modules" / ".bin"
REGION = "us-east-1"
DEST_ACCOUNT = "222222222222"
#: The trained source version every run copies (seeded in the destination account, a same-account copy).
SOURCE_PROJECT = "dev-bench"
SOURCE_VERSION = "bench.v1"

#: Emulator setting for every scenario: DeleteProjectVersion -> gone from DescribeProjectVersions.
DELETE_SECONDS = 5.0
#: The template's ServiceTimeout (the construct's default, 1 hour).
SERVICE_TIMEOUT = 3600

# --- the cost model -------------------------------------------------------------------------------------
#: Simulated time only moves while a handler sleeps, so an invocation that just makes a few API calls and
#: answers takes 0 s in the simulation. Every invocation (all columns) is billed this much on top of its
#: simulated duration: a warm Python or Node.js invocation making 1-3 AWS API calls and, for the last one,
#: the HTTPS PUT of the response. Cold-start init time is not included anywhere.
WORK_MS = 100
#: Memory of the function that does the work, in every column (the construct's function is 128 MB).
HANDLER_MEMORY_MB = 128
#: The CDK Provider framework's own functions (framework-onEvent, framework-isComplete): Node.js with the
#: lambda.Function default of 128 MB. Each one waits for the synchronous invocation of the user's function,
#: so it is billed its own work plus the user function's.
FRAMEWORK_MEMORY_MB = 128
FRAMEWORK_OWN_MS = 50

#: List prices (us-east-1, x86): Lambda per GB-s and per request, Step Functions Standard per transition.
#: Rekognition's management calls (copy, describe, delete) are not charged per call.
PRICE_GB_SECOND = 0.0000166667
PRICE_REQUEST = 0.20 / 1_000_000
PRICE_TRANSITION = 0.025 / 1000

# --- the columns ----------------------------------------------------------------------------------------
PROJECT = "project"
CRHELPER = "crhelper"
PROVIDER = "provider"
COLUMNS = (PROJECT, CRHELPER, PROVIDER)
COLUMN_TITLES = {
    PROJECT: "this project",
    CRHELPER: "crhelper defaults",
    PROVIDER: "CDK Provider (model)",
}


@dataclass(frozen=True)
class Scenario:
    """Copies per stack and how long each copy takes (the emulator's copy duration)."""

    copies: int
    copy_seconds: float

    @property
    def title(self) -> str:
        plural = "copy" if self.copies == 1 else "copies"
        return f"{self.copies} {plural} per stack, each copy takes {duration(self.copy_seconds)}"


def duration(seconds: float) -> str:
    """30 s, 3 min, 20 min, 1 h 5 min."""
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes:g} min" + (f" {rest:g} s" if rest else "")
    hours, rest = divmod(seconds, 3600)
    return f"{hours:g} h" + (f" {rest / 60:g} min" if rest else "")


def billed_gb_seconds(duration_s: float, memory_mb: int, extra_ms: float = WORK_MS) -> float:
    """GB-seconds Lambda bills for one invocation: duration rounded up to 1 ms, plus the fixed work."""
    billed_ms = -(-duration_s * 1000 // 1) + extra_ms
    return billed_ms / 1000 * memory_mb / 1024


@dataclass
class ColumnResult:
    """The figures of one column in one scenario: simulated seconds, lists with one item per copy."""

    column: str
    copies: int
    copy_seconds: float
    detection: list[float] = field(default_factory=list)  # COPYING_COMPLETED -> SUCCESS response
    delete_duration: list[float] = field(default_factory=list)  # Delete request -> response
    after_gone: list[float] = field(default_factory=list)  # version gone -> Delete response
    create_calls: int = 0  # Rekognition calls while creating (CopyProjectVersion + checks)
    delete_calls: int = 0
    create_ops: dict[str, int] = field(default_factory=dict)  # the create calls by operation
    delete_ops: dict[str, int] = field(default_factory=dict)
    create_invocations: int = 0
    delete_invocations: int = 0
    gb_seconds: float = 0.0
    transitions: int | None = None  # Step Functions state transitions (Provider model only)
    stack_create: float = 0.0  # first Create request -> last Create response
    stack_delete: float = 0.0
    delete_sleep: float = 0.0  # simulated seconds the handler slept inside Delete invocations
    cold_starts: int | None = None
    peak_policy_bytes: int | None = None  # the function's resource policy, largest size seen
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def usd(self) -> float:
        """Lambda (duration and requests) and Step Functions at list prices, for the whole stack."""
        requests = self.create_invocations + self.delete_invocations
        return (
            self.gb_seconds * PRICE_GB_SECOND
            + requests * PRICE_REQUEST
            + (self.transitions or 0) * PRICE_TRANSITION
        )

    @property
    def calls_per_10s(self) -> float:
        """Create-phase Rekognition calls per copy, per 10 s of copy time."""
        return self.create_calls / self.copies / (self.copy_seconds / 10)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnResult:
        return cls(**data)


def calls_by_operation(account_id: str) -> dict[str, int]:
    """The emulator's Rekognition call counts for one account, by operation (no call is made)."""
    from emulator import custom_labels

    return {op: n for (account, op), n in custom_labels.calls.snapshot().items() if account == account_id}


#: Made by the driver deploying the stack's AWS::Rekognition::Project, not by a custom resource handler.
NOT_HANDLER_CALLS = frozenset({"CreateProject", "DeleteProject", "DescribeProjects"})


def calls_since(before: dict[str, int], account_id: str) -> dict[str, int]:
    """The handlers' calls by operation made since the snapshot ``before``."""
    after = calls_by_operation(account_id)
    return {
        op: n - before.get(op, 0)
        for op, n in sorted(after.items())
        if n - before.get(op, 0) and op not in NOT_HANDLER_CALLS
    }


def fake_aws_environment() -> None:
    """Credentials and Region for emulated AWS: nothing may reach a real account."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(key, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
    )


@contextmanager
def emulated_aws(scenario: Scenario) -> Iterator[tuple[Any, tuple[str, str]]]:
    """Emulated AWS for one run: fresh emulator state, a simulated clock, the scenario's copy duration
    and ``DELETE_SECONDS``, and the trained source version. Yields (clock, (project ARN, version ARN))."""
    fake_aws_environment()
    from moto import mock_aws

    from emulator import custom_labels
    from emulator.clock import SimulatedClock

    custom_labels.reset()
    with mock_aws():
        clock = SimulatedClock()
        custom_labels.set_clock(clock)
        custom_labels.config.copy_duration = scenario.copy_seconds
        custom_labels.config.delete_duration = DELETE_SECONDS
        yield clock, custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, SOURCE_PROJECT, SOURCE_VERSION)
    custom_labels.reset()


def run_module(module: str, *args: str, timeout: float, label: str) -> dict[str, Any]:
    """``python -m module args`` in a fresh process at the repo root: the last JSON object it prints.
    Raises RuntimeError (``label``, the exit status, the end of its stderr) when it fails or prints none."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{label}: exit {completed.returncode}:\n{completed.stderr[-2000:]}")
    return dict(json.loads(lines[-1]))


def path_with_repo_node(path: str) -> str:
    """A PATH value with the repo's Node first (``NODE_BIN``, when installed): jsii runs the CDK in Node,
    and it must be the pinned Node 22, not whatever ``node`` the machine has."""
    if NODE_BIN.is_dir() and not path.startswith(str(NODE_BIN)):
        return f"{NODE_BIN}{os.pathsep}{path}"
    return path


def use_repo_node() -> None:
    """The repo's Node first on this process's PATH; call it before aws_cdk is imported (the jsii kernel
    starts on that import)."""
    os.environ["PATH"] = path_with_repo_node(os.environ.get("PATH", ""))
