"""`make demo` is the README's main command: it must end with every step as expected."""

from __future__ import annotations

import pytest

from emulator import demo


def test_the_demo_refuses_a_poor_model_then_promotes_a_better_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main() == 0

    out = capsys.readouterr().out
    assert "CopyProjectVersion failed: AccessDeniedException" in out  # denied without the policy
    # refused by the quality bar (the Reason in full, nothing put), then promoted once a better model is there
    assert "has an F1 score of 0.812, below the quality bar MinF1Score 0.9; it is not promoted" in out
    assert "project policies on dev-defects: 0" in out
    assert "copied from defects.2026-11-15" in out
    assert "model status: defects-prod-1 RUNNING" in out
    assert "model status: defects-prod-2 RUNNING" in out
    assert "prod account: 0 projects left" in out
    assert "PROBLEM" not in out
