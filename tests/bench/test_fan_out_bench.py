"""bench.fan_out's report lines: seconds per count, ms per extra account, the linearity verdict."""

from __future__ import annotations

import json

from bench import fan_out


def test_lines_report_seconds_slopes_and_verdict_also_from_json() -> None:
    result = {
        "maximum": 106,
        "seconds": {1: 1.0, 10: 1.9, 106: 11.5},
        "slopes": [(1, 10, 100.0), (10, 106, 100.0)],
    }
    lines = fan_out.lines(json.loads(json.dumps(result)))
    assert lines[0].endswith("stated maximum 106 accounts):")
    assert "   106 accounts:   11.50 s" in lines
    assert any("10 -> 106" in line and "100.0 ms per extra account" in line for line in lines)
    assert lines[-1] == "  last / first interval: 1.00 (linear; target <= 2)"
    faster = {**result, "slopes": [(1, 10, 100.0), (10, 106, 250.0)]}
    assert "FASTER than linear" in fan_out.lines(faster)[-1]
