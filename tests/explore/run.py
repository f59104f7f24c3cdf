"""``make explore``: the explorer (tests/explore/machine.py) under each emulator variant, longer than in
``make test``; prints the sequences and steps explored per variant and each invariant violated, with the
shrunk sequence.

Variables (environment): EXPLORE_EXAMPLES (sequences per variant, default 50), EXPLORE_STEPS (steps per
sequence, default 12), EXPLORE_SEED (default 0: the same seed gives the same sequences), EXPLORE_VARIANTS
(a comma-separated list of ``field=reading`` or ``defaults``; default every variant), EXPLORE_COPY_DURATIONS
(the copy durations drawn), EXPLORE_RULES_QUOTA (0: no step fills EventBridge's bus), EXPLORE_DUPLICATES
(0: no delivery twice at once).
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from contextlib import redirect_stdout
from typing import Any

from bench.common import path_with_repo_node

# the repo's Node for jsii (as in tests/conftest.py), before anything imports aws_cdk
os.environ["PATH"] = path_with_repo_node(os.environ.get("PATH", ""))

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.stateful import get_state_machine_test

from emulator import botocore_models
from tests.explore.machine import Figures, machine_for, variants

botocore_models.share()  # as in tests/conftest.py: botocore's models parsed once per process


def explore(variant: dict[str, Any], examples: int, steps: int, seed: int) -> tuple[Figures, list[str]]:
    """Run the explorer under one variant; returns its figures and the failures (each with the shrunk
    sequence Hypothesis printed)."""
    figures = Figures()
    machine = machine_for(variant, figures)
    test = get_state_machine_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=True,
            phases=[Phase.generate, Phase.shrink, Phase.explain],
            verbosity=Verbosity.normal,
            print_blob=False,
        ),
    )
    failures: list[str] = []
    printed = io.StringIO()
    try:
        with redirect_stdout(printed):
            hypothesis_seed(seed)(test)()
    except BaseException as error:  # noqa: BLE001 - one per invariant violated (an ExceptionGroup)
        errors = list(error.exceptions) if isinstance(error, BaseExceptionGroup) else [error]
        for found in errors:
            notes = "\n".join(getattr(found, "__notes__", []))
            failures.append(f"{type(found).__name__}: {str(found)[:1500]}\n{notes}")
    return figures, failures


def label(variant: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in variant.items()) or "defaults"


def main() -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":  # set iteration order is part of a run: fix it
        os.execve(
            sys.executable, [sys.executable, "-m", "tests.explore.run"], {**os.environ, "PYTHONHASHSEED": "0"}
        )
    logging.disable(logging.CRITICAL)  # the handler's own log lines (failures it reports) are not news here
    examples = int(os.environ.get("EXPLORE_EXAMPLES", "50"))
    steps = int(os.environ.get("EXPLORE_STEPS", "12"))
    seed = int(os.environ.get("EXPLORE_SEED", "0"))
    wanted = [w.strip() for w in os.environ.get("EXPLORE_VARIANTS", "").split(",") if w.strip()]
    chosen = [v for v in variants() if not wanted or label(v).replace(" ", "") in wanted]
    total_failures = 0
    for variant in chosen:
        began = time.monotonic()
        figures, failures = explore(variant, examples, steps, seed)
        total_failures += len(failures)
        print(
            f"== {label(variant)}: {figures.sequences} sequences, {figures.steps} steps, "
            f"{len(failures)} invariant(s) violated ({time.monotonic() - began:.0f} s)",
            flush=True,
        )
        for failure in failures:
            print("  " + failure.replace("\n", "\n  "), flush=True)
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main())
