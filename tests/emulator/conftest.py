"""The emulator tests run under a reading of an undocumented behaviour with the ``variant`` fixture
(tests/variants.py)."""

from __future__ import annotations

import pytest

from tests.variants import register, variant_fixture  # noqa: F401 - makes the fixture available here


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``variant`` marker."""
    register(config)
