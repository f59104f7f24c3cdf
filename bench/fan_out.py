"""Synth time of the fan-out example (``examples/fan_out_app.py``) by number of destination accounts.

``python -m bench.fan_out [--quick] [--json]``: in one fresh process, synthesise the example's app (the dev
stack and one prod stack per account, each with a :class:`RekognitionModelPromotion` sharing the dev
project's packed policy) at 1, 10, 53 (one full policy document) and 106 (:data:`MAX_PROD_ACCOUNTS`, two
documents) prod accounts, after one warm-up synth (the jsii kernel's start is not a per-account cost); the
best of two synths per count (one with ``--quick``). Prints the seconds of each and the milliseconds per
extra account between consecutive counts: they should stay flat (linear growth), not rise with the count.
Wall-clock figures: meaningless while other processes share the CPU. ``make bench`` prints the same
lines (``python -m bench`` runs this module in a subprocess, alone, before the simulations).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench.common import REPO

FULL_COUNTS = (1, 10, 53, 106)
QUICK_COUNTS = (1, 10, 20)
LINEAR_RATIO = 2.0
"""Linear enough: the last interval's ms per account at most this many times the first one's."""


def synth_seconds(accounts: int) -> float:
    """Build the fan-out app with ``accounts`` prod accounts and synthesise it (wall-clock seconds)."""
    from examples import fan_out_app

    prods = tuple(f"{300000000000 + n:012d}" for n in range(accounts))
    with tempfile.TemporaryDirectory(prefix="bench-fan-out-") as outdir:
        started = time.perf_counter()
        fan_out_app.build_app(prod_accounts=prods, outdir=outdir).synth()
        return time.perf_counter() - started


def best_of(accounts: int, repeats: int) -> float:
    """The fastest of ``repeats`` synths (after a garbage collection each): the least disturbed one."""
    times = []
    for _ in range(repeats):
        gc.collect()
        times.append(synth_seconds(accounts))
    return min(times)


def measure(counts: tuple[int, ...], repeats: int = 2) -> dict[str, Any]:
    """Seconds per count (in this process, after a warm-up synth) and ms per extra account per interval."""
    from examples import fan_out_app

    synth_seconds(1)  # warm-up: imports, the jsii kernel, the Lambda asset's first staging
    seconds = {count: best_of(count, repeats) for count in counts}
    slopes = [
        (low, high, (seconds[high] - seconds[low]) * 1000 / (high - low))
        for low, high in zip(counts, counts[1:], strict=False)
    ]
    return {"maximum": fan_out_app.MAX_PROD_ACCOUNTS, "seconds": seconds, "slopes": slopes}


def lines(result: dict[str, Any]) -> list[str]:
    """The report's lines for a :func:`measure` result (also read back from JSON: string keys)."""
    seconds = {int(count): value for count, value in result["seconds"].items()}
    slopes = [tuple(slope) for slope in result["slopes"]]
    out = [
        f"Synth of the fan-out example (one dev stack + N prod accounts; stated maximum "
        f"{result['maximum']} accounts):"
    ]
    out += [f"  {count:>4} accounts: {value:7.2f} s" for count, value in sorted(seconds.items())]
    out += [f"  {low:>4} -> {high:<4} {ms:7.1f} ms per extra account" for low, high, ms in slopes]
    if len(slopes) >= 2 and min(slope[2] for slope in slopes) > 0:
        ratio = slopes[-1][2] / slopes[0][2]
        verdict = "linear" if ratio <= LINEAR_RATIO else "FASTER than linear"
        out.append(f"  last / first interval: {ratio:.2f} ({verdict}; target <= {LINEAR_RATIO:g})")
    return out


def report(quick: bool) -> list[str]:
    """Run the measurement in a fresh process (as ``python -m bench`` does) and return its lines."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.fan_out", "--json", *(["--quick"] if quick else [])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    found = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not found:
        tail = " | ".join(completed.stderr.strip().splitlines()[-3:])
        return [f"Synth of the fan-out example: FAILED (exit {completed.returncode}): {tail}"]
    return lines(json.loads(found[-1]))


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    result = measure(QUICK_COUNTS if quick else FULL_COUNTS, repeats=1 if quick else 2)
    print(json.dumps(result) if "--json" in argv else "\n".join(lines(result)))


if __name__ == "__main__":
    main(sys.argv[1:])
