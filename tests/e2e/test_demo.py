"""`make demo` is the README's main command: it must end with every step as expected."""

from __future__ import annotations

import pytest

from emulator import demo


def test_the_demo_promotes_dev_to_prod_and_cleans_up(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main() == 0

    out = capsys.readouterr().out
    assert "CopyProjectVersion failed: AccessDeniedException" in out  # denied without the policy
    assert "model status: defects-prod-1 RUNNING" in out
    assert "model status: defects-prod-2 RUNNING" in out
    assert "prod account: 0 projects left" in out
    assert "PROBLEM" not in out
