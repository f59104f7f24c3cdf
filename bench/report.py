"""The printed report: one table per scenario, the targets, the machine measurements, notes."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.common import COLUMN_TITLES, COLUMNS, CRHELPER, PROJECT, ColumnResult, Scenario, duration

DETECT_SHORT_S = 10.0  # copies under 10 minutes
DETECT_LONG_S = 65.0
SHORT_COPY_S = 600.0
DELETE_AFTER_GONE_S = 15.0
CALLS_PER_10S = 1.0
SYNTH_RATIO = 2.0
ASSET_BYTES = 100 * 1024
POLICY_LIMIT_BYTES = 20 * 1024  # Lambda: a function's resource-based policy

LABEL_WIDTH = 46
CELL_WIDTH = 21


@dataclass
class Target:
    """A target the bench checks on the "this project" column (README, "Performance")."""

    text: str
    met: bool | None  # None: no figure (a run failed)

    def render(self) -> str:
        verdict = "n/a" if self.met is None else ("met" if self.met else "NOT MET")
        return f"{self.text:<11} {verdict}"


def seconds(value: float) -> str:
    return f"{value:.1f} s" if 0 < abs(value) < 10 and value != int(value) else f"{value:.0f} s"


def spread(values: list[float], copies: int) -> str:
    """One copy: the value; many: median / max."""
    if not values:
        return "-"
    if copies == 1:
        return seconds(values[0])
    return f"{seconds(statistics.median(values))} / {seconds(max(values))}"


def policy(result: ColumnResult) -> str:
    """The function's resource policy at its largest (Lambda's limit is 20 KB); the project adds nothing."""
    if result.column == PROJECT:
        return "0 B"
    if result.peak_policy_bytes is None:
        return "-"
    flag = " (> 20 KB)" if result.peak_policy_bytes > POLICY_LIMIT_BYTES else ""
    return f"{result.peak_policy_bytes / 1024:.1f} KB{flag}"


def per_copy(value: float, copies: int) -> str:
    per = value / copies
    return f"{per:.0f}" if per == int(per) else f"{per:.1f}"


def detection_target(scenario: Scenario, results: list[ColumnResult | None]) -> Target:
    """Met when every copy, in every end phase run, was seen within the limit."""
    limit = DETECT_SHORT_S if scenario.copy_seconds < SHORT_COPY_S else DETECT_LONG_S
    if any(r is None or not r.detection or r.failures for r in results):
        return Target(f"<= {limit:.0f} s", None)
    return Target(f"<= {limit:.0f} s", max(max(r.detection) for r in results if r) <= limit)


def delete_target(result: ColumnResult | None) -> Target:
    if result is None or not result.after_gone or result.failures:
        return Target(f"<= {DELETE_AFTER_GONE_S:.0f} s", None)
    return Target(f"<= {DELETE_AFTER_GONE_S:.0f} s", max(result.after_gone) <= DELETE_AFTER_GONE_S)


def calls_target(result: ColumnResult | None) -> Target:
    if result is None or result.failures:
        return Target(f"<= {CALLS_PER_10S:g}", None)
    return Target(f"<= {CALLS_PER_10S:g}", result.calls_per_10s <= CALLS_PER_10S)


Row = tuple[str, Callable[[ColumnResult], str], Callable[[ColumnResult | None], Target] | None]


def _rows(scenario: Scenario, phases: dict[str, list[ColumnResult]] | None) -> list[Row]:
    n = scenario.copies
    each = "" if n == 1 else ", per copy"
    phase_runs = phases or {}

    def worst(r: ColumnResult) -> str:
        runs = [r, *phase_runs.get(r.column, [])]
        return "-" if len(runs) == 1 else seconds(max(max(x.detection, default=0.0) for x in runs))

    offsets = "/".join(
        f"{p.copy_seconds - scenario.copy_seconds:g}" for p in next(iter(phase_runs.values()), [])
    )
    rows: list[Row] = [
        (
            "completion seen: COPYING_COMPLETED -> SUCCESS",
            lambda r: spread(r.detection, n),
            None if phase_runs else lambda r: detection_target(scenario, [r]),
        ),
    ]
    if phase_runs:
        rows.append(
            (
                f"  worst, with the copy +0/{offsets} s longer",
                worst,
                lambda r: detection_target(scenario, [r, *phase_runs.get(PROJECT, [])]),
            )
        )
    return rows + [
        ("Delete: request -> response", lambda r: spread(r.delete_duration, n), None),
        ("Delete: version gone -> response", lambda r: spread(r.after_gone, n), delete_target),
        ("Delete: time waited inside invocations, per copy", lambda r: seconds(r.delete_sleep), None),
        (
            f"Rekognition calls, create + delete{each}",
            lambda r: f"{per_copy(r.create_calls, n)} + {per_copy(r.delete_calls, n)}",
            None,
        ),
        ("create calls per 10 s of copy time", lambda r: f"{r.calls_per_10s:.2f}", calls_target),
        (
            f"Lambda invocations, create + delete{each}",
            lambda r: f"{per_copy(r.create_invocations, n)} + {per_copy(r.delete_invocations, n)}",
            None,
        ),
        ("Lambda billed GB-s, whole stack", lambda r: f"{r.gb_seconds:.2f}", None),
        (
            "Step Functions state transitions",
            lambda r: "-" if r.transitions is None else str(r.transitions),
            None,
        ),
        ("cost at list prices (Lambda + Step Functions)", lambda r: f"${r.usd:.4f}", None),
        ("function policy grown by AddPermission, peak", policy, None),
        (
            "stack: all Creates answered / all Deletes",
            lambda r: f"{duration(round(r.stack_create))} / {duration(round(r.stack_delete))}",
            None,
        ),
    ]


def scenario_table(
    scenario: Scenario,
    results: dict[str, ColumnResult],
    phases: dict[str, list[ColumnResult]] | None = None,
) -> tuple[list[str], list[Target]]:
    """The table of one scenario and the targets it checked."""
    lines = [scenario.title + ("" if scenario.copies == 1 else " (times: median / max over the copies)")]
    header = f"  {'':<{LABEL_WIDTH}}" + "".join(f"{COLUMN_TITLES[c]:>{CELL_WIDTH}}" for c in COLUMNS)
    lines.append(header + "   target (this project)")
    targets: list[Target] = []
    for label, cell, target in _rows(scenario, phases):
        cells = "".join(f"{(cell(results[c]) if c in results else 'failed'):>{CELL_WIDTH}}" for c in COLUMNS)
        line = f"  {label:<{LABEL_WIDTH}}{cells}"
        if target is not None:
            checked = target(results.get(PROJECT))
            targets.append(checked)
            line += f"   {checked.render()}"
        lines.append(line)
    for column in COLUMNS:
        result = results.get(column)
        for note in (result.notes + result.failures) if result else ["the run failed"]:
            lines.append(f"  ! {COLUMN_TITLES[column]}: {note}")
    return lines, targets


def anomalies(
    scenario: Scenario, results: dict[str, ColumnResult], single: dict[str, ColumnResult] | None = None
) -> list[str]:
    """Figures that say more about the driver than about the handler.

    ``single``: the 1-copy results of the same copy duration; many copies should poll as often per copy.
    """
    found = []
    for column in (PROJECT, CRHELPER):
        one, many = (single or {}).get(column), results.get(column)
        if scenario.copies == 1 or one is None or many is None or not one.create_invocations:
            continue
        for phase, a, b in (
            ("Create", one.create_invocations, many.create_invocations / many.copies),
            ("Delete", one.delete_invocations, many.delete_invocations / many.copies),
        ):
            if b < 0.9 * a:
                found.append(
                    f"{scenario.title}, {COLUMN_TITLES[column]}: {b:.1f} {phase} invocations per copy, "
                    f"against {a} with 1 copy: polling schedules fired less often than their rate"
                )
    project, crhelper = results.get(PROJECT), results.get(CRHELPER)
    if project and scenario.copies > 1 and project.stack_create > 1.5 * (scenario.copy_seconds + 120):
        found.append(
            f"{scenario.title}: the stack took {duration(round(project.stack_create))} to create "
            f"{scenario.copies} copies of {duration(scenario.copy_seconds)} each: the copies ran one after "
            "another (serialised)"
        )
    if project and project.detection and max(project.detection) > 70:
        found.append(
            f"{scenario.title}, this project: a copy was seen {seconds(max(project.detection))} after it "
            "completed, more than its 1-minute schedule allows: a polling schedule fired late or not at all"
        )
    if crhelper and crhelper.detection and max(crhelper.detection) > 130:
        found.append(
            f"{scenario.title}, crhelper defaults: a copy was seen {seconds(max(crhelper.detection))} "
            "after it completed, more than its 2-minute schedule allows: a polling schedule fired late or "
            "not at all"
        )
    return found


def calls_summary(all_results: list[dict[str, ColumnResult]]) -> tuple[str, Target]:
    """Create calls per 10 s of copy time over the scenarios together (sum of calls / sum of copy time)."""
    parts = []
    average: dict[str, float] = {}
    for column in COLUMNS:
        rows = [r[column] for r in all_results if column in r]
        calls = sum(r.create_calls for r in rows)
        time_10s = sum(r.copies * r.copy_seconds / 10 for r in rows)
        if time_10s:
            average[column] = calls / time_10s
            parts.append(f"{COLUMN_TITLES[column]} {average[column]:.2f}")
    met = average[PROJECT] <= CALLS_PER_10S if PROJECT in average else None
    return ", ".join(parts), Target(f"<= {CALLS_PER_10S:g}", met)


def machine_lines(m: dict[str, Any]) -> tuple[list[str], list[Target]]:
    n = m["copies"]
    ratio = m["synth_n_s"] / m["synth_1_s"]
    warm_per_copy = (m["warm_n_s"] - m["warm_1_s"]) / (n - 1) * 1000
    per_copy_bytes = (m["template_n_bytes"] - m["template_1_bytes"]) / (n - 1)
    first_step = m["template_2_bytes"] - m["template_1_bytes"]
    synth_target = Target(f"<= {SYNTH_RATIO:g}x", ratio <= SYNTH_RATIO)
    asset_target = Target("< 100 KB", m["asset_zip_bytes"] < ASSET_BYTES)
    repeats = f"median of {m['repeats']}" if m["repeats"] > 1 else "one run"
    lines = [
        f"Measured on this machine (fresh processes, {repeats}; imports and jsii start excluded, "
        f"{m['import_s']:.2f} s)",
        f"  synth, 1 copy (construction + app.synth())        {m['synth_1_s']:7.2f} s",
        f"  synth, {n} copies{'':<{32 - len(str(n))}}{m['synth_n_s']:7.2f} s   "
        f"ratio {ratio:.2f}x   {synth_target.render()}",
        f"  the same with the imports counted in (what `cdk synth` pays): ratio "
        f"{(m['synth_n_s'] + m['import_s']) / (m['synth_1_s'] + m['import_s']):.2f}x",
        f"  the same, warm (a second synth in one process)    {m['warm_1_s']:7.2f} s / "
        f"{m['warm_n_s']:.2f} s: {warm_per_copy:.1f} ms per extra copy",
        f"  template: 1 copy {m['template_1_bytes']:,} B, {n} copies {m['template_n_bytes']:,} B: "
        f"{per_copy_bytes:,.0f} B per copy (1 -> 2 copies: {first_step:,} B"
        + ("; not constant)" if abs(per_copy_bytes - first_step) > 0.05 * first_step else ")"),
        f"  {n}-copy template: {m['functions_n']} Lambda function for {m['copies_in_template']} copies, "
        f"{m['managed_policies_n']} AWS::IAM::ManagedPolicy, longest DependsOn {m['max_depends_on_n']}",
        f"  handler cold start, CPU: import boto3 {m['boto3_import_s'] * 1000:.0f} ms, import "
        f"lambda/index.py {m['handler_import_s'] * 1000:.0f} ms, first Create "
        f"{m['first_invoke_s'] * 1000:.0f} ms (answered {m['cold_status']})",
        f"  handler asset zipped (deflate): {m['asset_zip_bytes'] / 1024:.1f} KB, {m['asset_files']} files"
        f"{'':<13}{asset_target.render()}",
    ]
    return lines, [synth_target, asset_target]
