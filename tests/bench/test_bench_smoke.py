"""The bench runs end to end on tiny inputs. No assertion on speed and no wall-clock timeout: only that every
figure is produced."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import machine
from bench.common import COLUMN_TITLES, COLUMNS, CRHELPER, PROJECT, PROVIDER
from tests.conftest import REPO


def test_quick_bench_prints_a_table_per_scenario_with_every_column(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "bench", "--quick", "--no-machine", "--no-concurrency"),
            *("--jobs", "2", "--json", str(figures)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )  # no timeout: a busy machine is slow, not wrong; the figures below are what is checked
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    for title in COLUMN_TITLES.values():
        assert title in out
    assert "1 copy per stack, each copy takes 20 min" in out
    assert "3 copies per stack, each copy takes 30 s" in out
    assert "Targets:" in out

    scenarios = json.loads(figures.read_text())["scenarios"]
    assert len(scenarios) == 3
    for scenario in scenarios:
        results = scenario["results"]
        assert set(results) == set(COLUMNS), scenario
        for column, result in results.items():
            assert result["failures"] == [], (column, result["failures"])
            assert len(result["detection"]) == scenario["copies"]
            assert len(result["after_gone"]) == scenario["copies"]
            assert result["create_ops"].get("CopyProjectVersion") == scenario["copies"]
        # what each baseline is made of shows in its figures
        assert min(results[CRHELPER]["delete_duration"]) >= 120  # crhelper's sleep_on_delete is counted
        assert results[PROVIDER]["transitions"] > 0
        assert results[PROJECT]["transitions"] is None


def test_cold_start_is_measured_in_a_fresh_process() -> None:
    measured = machine.in_fresh_process("coldstart")
    assert measured["status"] == "SUCCESS"
    assert measured["import_s"] > 0 and measured["invoke_s"] > 0


def test_asset_zip_size_counts_every_file(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "index.py").write_text("x = 1\n" * 100)
    (tmp_path / "pkg" / "mod.py").write_text("y = 2\n")
    size, files = machine.asset_zip_bytes(tmp_path)
    assert files == 2
    assert 0 < size < 600 + 100  # deflated: far smaller than the 600 bytes of index.py plus headers


def test_the_concurrency_row_gives_each_completion_time_and_their_ratio() -> None:
    from bench import concurrency

    row = {"copies": 100, "status": "CREATE_COMPLETE", "succeeded": 100, "violations": [], "throttles": 0}
    rows = [
        {**row, "concurrency": 10, "stack_create_s": 1800.0, "throttles": 900, "peak_running": 10},
        {**row, "concurrency": 1000, "stack_create_s": 900.0, "peak_running": 100},
    ]
    lines = concurrency.report(rows)

    assert "account concurrency    10: stack created in 30 min" in lines[1] and "NOT MET" not in lines[1]
    assert "account concurrency 1,000: stack created in 15 min" in lines[2]
    assert lines[3].endswith("2.00x") and concurrency.target(rows).met is True
    assert concurrency.target([{**rows[0], "status": "ROLLBACK_COMPLETE"}]).met is False
