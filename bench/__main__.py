"""``python -m bench [--quick] [--jobs N] [--no-machine] [--json FILE]``: run the benchmark, print the report.

Order: the real measurements first, alone (wall-clock timing must not share the CPU with the simulations),
then every (scenario, column) run in its own process, ``--jobs`` at a time, longest first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from bench import report
from bench.common import (
    COLUMN_TITLES,
    COLUMNS,
    CRHELPER,
    DELETE_SECONDS,
    PROJECT,
    PROVIDER,
    REPO,
    ColumnResult,
    Scenario,
    run_module,
)

FULL_SECONDS = (30.0, 180.0, 1200.0, 3000.0)
FULL_COPIES = (1, 100)
#: --quick: one short and one long copy, and a short copy three times in one stack.
QUICK_SCENARIOS = (Scenario(1, 30.0), Scenario(1, 1200.0), Scenario(3, 30.0))
#: Round copy durations can end exactly on a check of a 1- or 2-minute schedule (0 s latency by luck). The
#: 1-copy scenarios are run again with the copy this much longer, and the worst latency over the end phases
#: is what the detection target is checked on.
PHASES = (15.0, 30.0, 45.0)
PHASE_COLUMNS = (PROJECT, CRHELPER)


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _run_worker(column: str, scenario: Scenario) -> ColumnResult:
    args = (column, str(scenario.copies), str(scenario.copy_seconds))
    measured = run_module("bench.worker", *args, timeout=1800, label=f"{column} {scenario.title}")
    return ColumnResult.from_dict(measured)


def _cost(task: tuple[str, Scenario]) -> float:
    """A rough real-time estimate of a run, to start the longest first."""
    column, scenario = task
    seconds = scenario.copy_seconds
    if column == PROVIDER:
        per_copy = seconds / 5 * 0.002
    elif column == CRHELPER:
        per_copy = 0.15 + seconds / 120 * 0.02
    else:
        per_copy = 0.15 + min(seconds, 870) / 10 * 0.004 + max(seconds - 870, 0) / 60 * 0.02
    return scenario.copies * per_copy


def run_tasks(tasks: list[tuple[str, Scenario]], jobs: int) -> dict[tuple[str, Scenario], ColumnResult]:
    """Every (column, scenario) in a process of its own, ``jobs`` at a time, the longest first."""
    tasks = sorted(tasks, key=_cost, reverse=True)
    results: dict[tuple[str, Scenario], ColumnResult] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(_run_worker, column, scenario): (column, scenario) for column, scenario in tasks
        }
        for done, future in enumerate(as_completed(futures), 1):
            column, scenario = futures[future]
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - reported in the table, the rest still runs
                _progress(f"[{done}/{len(tasks)}] FAILED {error}")
                continue
            results[(column, scenario)] = result
            _progress(
                f"[{done}/{len(tasks)}] {COLUMN_TITLES[column]}, {scenario.title}: "
                f"{result.wall_seconds:.1f} s real time"
            )
    return results


def _revision() -> str:
    def git(*args: str) -> str:
        completed = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return completed.stdout.strip()

    head = git("log", "-1", "--format=%h %s")
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{head[:90]}{dirty}" if head else "unknown revision"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller scenarios (the smoke test)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs in parallel")
    parser.add_argument("--no-machine", action="store_true", help="skip synth, cold start and asset size")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    parser.add_argument(
        "--no-concurrency", action="store_true", help="skip the stack at a new account's Lambda concurrency"
    )
    args = parser.parse_args(argv)

    if args.quick:
        scenarios = list(QUICK_SCENARIOS)
    else:
        scenarios = [Scenario(n, s) for n in FULL_COPIES for s in FULL_SECONDS]
    seconds = sorted({s.copy_seconds for s in scenarios})
    started = time.perf_counter()

    machine: dict[str, Any] | None = None
    fan_out_lines: list[str] = []
    if not args.no_machine:
        from bench import machine as machine_module

        _progress("measuring synth, cold start and asset size (alone, before the simulations) ...")
        many = max(s.copies for s in scenarios)
        machine = machine_module.measure(many, repeats=1 if args.quick else 3)
        from bench import fan_out

        _progress("measuring the synth of the fan-out example (alone) ...")
        fan_out_lines = fan_out.report(args.quick)
    phases = [] if args.quick else [Scenario(1, s + offset) for s in seconds for offset in PHASES]
    tasks = [(c, s) for s in scenarios for c in COLUMNS] + [(c, s) for s in phases for c in PHASE_COLUMNS]
    done = run_tasks(tasks, max(args.jobs, 1))
    results = {s: {c: done[(c, s)] for c in COLUMNS if (c, s) in done} for s in scenarios}
    phase_results = {
        s: {
            c: [done[(c, p)] for p in phases if (c, p) in done and p.copy_seconds - s.copy_seconds in PHASES]
            for c in PHASE_COLUMNS
        }
        for s in scenarios
        if s.copies == 1 and phases
    }

    command = "python -m bench" + (" --quick" if args.quick else "")
    print(f"`{command}` at {_revision()}")
    print(
        "Simulated time on the Custom Labels emulator and the CloudFormation lifecycle driver; each copy is"
        f" deleted as a stopped model (gone {DELETE_SECONDS:g} s after DeleteProjectVersion)."
    )
    print()
    targets: list[tuple[str, report.Target]] = []
    notes: list[str] = []
    for scenario in scenarios:
        lines, checked = report.scenario_table(scenario, results[scenario], phase_results.get(scenario))
        print("\n".join(lines))
        print()
        labels = ("completion seen", "Delete after the version is gone", "calls per 10 s of copy time")
        targets += [
            (f"{scenario.title}: {label}", target) for label, target in zip(labels, checked, strict=True)
        ]
        single = results.get(Scenario(1, scenario.copy_seconds))
        notes += report.anomalies(scenario, results[scenario], single)
    average, average_target = report.calls_summary([results[s] for s in scenarios if s.copies == 1])
    print(f"Create calls per 10 s of copy time, all 1-copy scenarios together: {average}")
    print(f"  on average (this project){'':<46}{average_target.render()}")
    print()
    targets.append(("calls per 10 s of copy time, on average", average_target))
    if machine is not None:
        lines, checked = report.machine_lines(machine)
        print("\n".join(lines))
        print()
        targets += [("synth of many copies vs 1", checked[0]), ("asset size", checked[1])]
    if fan_out_lines:
        print("\n".join(fan_out_lines))
        print()
    concurrency_rows: list[dict[str, Any]] = []
    if not args.no_concurrency:
        from bench import concurrency

        _progress("creating a stack of copies at a new account's Lambda concurrency and at the default ...")
        concurrency_rows = concurrency.measure(args.quick)
        print("\n".join(concurrency.report(concurrency_rows)))
        print()
        targets.append(("copies at a new account's Lambda concurrency", concurrency.target(concurrency_rows)))
    unmet = [(label, t) for label, t in targets if t.met is not True]
    print(f"Targets: {len(targets) - len(unmet)} of {len(targets)} met" + (":" if unmet else "."))
    for label, target in unmet:
        print(f"  {label}: {target.render()}")
    if any("calls per 10 s" in label for label, _ in unmet):
        print(
            "  (a copy of D seconds checked at least every 10 s makes at least 1 + 10/D calls per 10 s:\n"
            "   CopyProjectVersion, then one check in every 10 s window; 1.33 for D = 30 s, 1.06 for 3 min)"
        )
    if notes:
        print("Notes:")
        for note in notes:
            print(f"  - {note}")
    sys.stdout.flush()
    _progress(f"bench done in {time.perf_counter() - started:.0f} s")
    if args.json:
        payload = {
            "machine": machine,
            "concurrency": concurrency_rows,
            "scenarios": [
                {
                    "copies": s.copies,
                    "copy_seconds": s.copy_seconds,
                    "results": {c: r.to_dict() for c, r in results[s].items()},
                }
                for s in scenarios
            ],
        }
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
