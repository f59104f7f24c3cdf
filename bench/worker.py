"""One column of one scenario in a fresh process: ``python -m bench.worker COLUMN COPIES SECONDS``.

Prints the ColumnResult as one JSON line. A process per run keeps runs apart: the emulator, moto and the
driver keep process-wide state (handler modules, boto3 sessions, the root logger crhelper reconfigures).

A 100-copy run holds well over a gigabyte of live objects (a handler module instance and a boto3 session
per cold start, moto's state): the cyclic garbage collector's full passes over it, and the interpreter's
teardown at exit, would take longer than the run itself. So collections are made rare and the process ends
with ``os._exit`` once its result is written. Neither changes a figure: they are simulated.
"""

from __future__ import annotations

import gc
import json
import os
import sys

from bench.common import PROVIDER, ColumnResult, Scenario


def run(column: str, scenario: Scenario) -> ColumnResult:
    if column == PROVIDER:
        from bench import provider_model

        return provider_model.run(scenario)
    from bench import driver_runs

    return driver_runs.run(column, scenario)


def main(argv: list[str]) -> None:
    column, copies, seconds = argv[0], int(argv[1]), float(argv[2])
    gc.set_threshold(100_000, 50, 100)
    result = run(column, Scenario(copies, seconds))
    sys.stdout.write(json.dumps(result.to_dict()) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
