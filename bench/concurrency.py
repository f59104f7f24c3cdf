"""The concurrency row: one stack of 100 copies at an account's Lambda concurrency of 10 (a new account's)
and of 1,000 (the default), on the lifecycle driver with the project's handler.

Each copy takes 15 minutes (longer than the fast path's 10: a first invocation that waited for it
in-process would hold one execution for 10 minutes). The figure is the stack's simulated completion time,
from CreateStack to CREATE_COMPLETE, with how many asynchronous events Lambda throttled and the most
executions running at once. ``python -m bench.concurrency [--quick] [--json]`` prints the lines alone
(``--quick``: 20 copies at 2 and at 1,000); ``python -m bench`` prints them with the other tables.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from bench.common import (
    DEST_ACCOUNT,
    PROJECT,
    REGION,
    REPO,
    SERVICE_TIMEOUT,
    Scenario,
    duration,
    emulated_aws,
)

COPY_SECONDS = 900.0
FULL = (100, (10, 1000))
QUICK = (20, (2, 1000))


def stack_completion(copies: int, concurrency: int) -> dict[str, Any]:
    """Create (then delete) a stack of ``copies`` copies in an account of ``concurrency`` executions."""
    from bench.driver_runs import template
    from emulator.cloudformation import CloudFormation

    wall = time.perf_counter()
    with emulated_aws(Scenario(copies, COPY_SECONDS)) as (clock, source):
        with CloudFormation(clock) as cloud:
            cloud.runtime.set_account_concurrency(DEST_ACCOUNT, REGION, concurrency)
            stack = cloud.stack("bench-concurrency", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
            started = clock.now()
            status = stack.create(template(PROJECT, source, copies))
            created = clock.now() - started
            answers = [r.response["Status"] if r.response else "none" for r in cloud.sent_requests()]
            deleted = stack.delete()
            return {
                "copies": copies,
                "concurrency": concurrency,
                "status": status,
                "stack_create_s": created,
                "succeeded": answers.count("SUCCESS"),
                "throttles": len(cloud.runtime.throttled),
                "peak_running": cloud.runtime.peak_running.get((DEST_ACCOUNT, REGION), 0),
                "delete_status": deleted,
                "violations": list(cloud.violations),
                "wall_s": time.perf_counter() - wall,
            }


def measure(quick: bool = False) -> list[dict[str, Any]]:
    copies, levels = QUICK if quick else FULL
    return [stack_completion(copies, level) for level in levels]


def completed(row: dict[str, Any]) -> bool:
    """Every copy answered SUCCESS and the stack CREATE_COMPLETE, with no protocol violation."""
    return bool(
        row["status"] == "CREATE_COMPLETE" and row["succeeded"] == row["copies"] and not row["violations"]
    )


def target(rows: list[dict[str, Any]]) -> Any:
    """Met when the stack completed at every concurrency."""
    from bench.report import Target

    return Target("completes", all(completed(row) for row in rows) if rows else None)


def report(rows: list[dict[str, Any]]) -> list[str]:
    """The printed lines: completion time at each concurrency and the ratio of the smallest to the default."""
    copies = rows[0]["copies"]
    lines = [
        f"Lambda concurrency: {copies} copies of {duration(COPY_SECONDS)} in one stack "
        f"(ServiceTimeout {duration(SERVICE_TIMEOUT)}), simulated"
    ]
    for row in rows:
        met = completed(row)
        lines.append(
            f"  account concurrency {row['concurrency']:>5,}: stack created in "
            f"{duration(round(row['stack_create_s']))} ({row['status']}, "
            f"{row['succeeded']}/{copies} SUCCESS), "
            f"{row['throttles']} throttled events, at most {row['peak_running']} executions at once"
            f"{'' if met else '   NOT MET'}"
        )
    small, default = rows[0], rows[-1]
    if default["stack_create_s"]:
        lines.append(
            f"  ratio {small['concurrency']:,} / {default['concurrency']:,} executions: "
            f"{small['stack_create_s'] / default['stack_create_s']:.2f}x"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    rows = measure("--quick" in args)
    if "--json" in args:
        print(json.dumps(rows))
    else:
        print("\n".join(report(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
