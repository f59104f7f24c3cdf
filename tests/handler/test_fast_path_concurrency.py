"""The fast path's length from the Lambda concurrency the function can count on (lambda/cfn/concurrency.py);
the whole stack at a new account's quota is tests/e2e/test_quotas.py."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "lambda"))
from cfn import concurrency  # noqa: E402

LONGEST = 600.0


class Settings:
    """A Lambda client whose GetAccountSettings answers ``unreserved`` (or raises it), counting calls."""

    def __init__(self, unreserved: int | Exception) -> None:
        self.unreserved, self.calls = unreserved, 0

    def get_account_settings(self) -> dict[str, Any]:
        self.calls += 1
        if isinstance(self.unreserved, Exception):
            raise self.unreserved
        limits = {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": self.unreserved}
        return {"AccountLimit": limits}


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    concurrency._cache.clear()
    monkeypatch.delenv(concurrency.RESERVED_CONCURRENCY_ENV, raising=False)


@pytest.mark.parametrize(
    ("unreserved", "expected"),
    [(1000, LONGEST), (200, LONGEST), (199, concurrency.SHORT_SECONDS), (10, concurrency.SHORT_SECONDS)],
)
def test_the_account_pool_decides(unreserved, expected):
    assert concurrency.fast_path_seconds(LONGEST, lambda: Settings(unreserved), 0.0) == expected


def test_an_unreadable_pool_keeps_the_fast_path_short():
    denied = Settings(RuntimeError("AccessDeniedException"))
    assert concurrency.fast_path_seconds(LONGEST, lambda: denied, 0.0) == concurrency.SHORT_SECONDS


def test_the_reserved_concurrency_of_the_deployment_wins_without_a_call(monkeypatch):
    client = Settings(1000)
    monkeypatch.setenv(concurrency.RESERVED_CONCURRENCY_ENV, "5")
    assert concurrency.fast_path_seconds(LONGEST, lambda: client, 0.0) == concurrency.SHORT_SECONDS
    monkeypatch.setenv(concurrency.RESERVED_CONCURRENCY_ENV, "500")
    assert concurrency.fast_path_seconds(LONGEST, lambda: client, 0.0) == LONGEST
    assert client.calls == 0


def test_the_account_settings_are_read_once_per_cache_period():
    client = Settings(1000)
    for now in (0.0, 100.0, concurrency.CACHE_SECONDS - 1):
        concurrency.fast_path_seconds(LONGEST, lambda: client, now)
    assert client.calls == 1
    concurrency.fast_path_seconds(LONGEST, lambda: client, concurrency.CACHE_SECONDS + 1)
    assert client.calls == 2


def test_the_library_grants_the_one_call_the_handler_makes():
    from rekognition_model_copy import permissions

    source = (REPO / "lambda" / "cfn" / "concurrency.py").read_text()
    (statement,) = permissions.concurrency_statements()
    assert ".get_account_settings()" in source and statement.actions == ("lambda:GetAccountSettings",)
    assert statement.resources == ("*",)  # the action has no resource type


def test_a_failed_read_is_not_repeated_before_the_cache_period_is_over():
    denied = Settings(RuntimeError("connect timeout"))
    for now in (0.0, 100.0, concurrency.CACHE_SECONDS - 1):
        assert concurrency.fast_path_seconds(LONGEST, lambda: denied, now) == concurrency.SHORT_SECONDS
    assert denied.calls == 1
    concurrency.fast_path_seconds(LONGEST, lambda: denied, concurrency.CACHE_SECONDS + 1)
    assert denied.calls == 2
