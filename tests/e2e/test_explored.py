"""Sequences the explorer (tests/explore) found breaking a guarantee, replayed step by step as it printed
them (shrunk). Each must keep every invariant; a case that fails today because of a handler defect is in
tests/invariants.py KNOWN_VIOLATIONS until the fix lands."""

from __future__ import annotations

from typing import Any

import pytest

from tests.explore.machine import replay
from tests.invariants import KNOWN_VIOLATIONS

pytestmark = pytest.mark.own_invariants


def _unknown(request: pytest.FixtureRequest, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [v for v in found if (request.node.nodeid, v[0]) not in KNOWN_VIOLATIONS]


START = {"copy_duration": 180.0, "units": None, "service_timeout": 3600, "duplicates": 0.0}


def _start(**changes: Any) -> tuple[str, dict[str, Any]]:
    return ("start", {**START, **changes})


def test_a_policy_create_delivered_twice_at_once_answers_once_or_identically(request):
    # Lambda delivers the policy's Create twice at the same moment: one delivery puts the policy, the other
    # finds it and adopts it; two different answers reach CloudFormation.
    found = replay({}, [_start(duplicates=0.5), ("retain", {})])
    assert _unknown(request, found) == []


def test_a_create_whose_copy_outlasts_service_timeout_rolls_back_cleanly(request):
    # The copy takes 30 minutes, ServiceTimeout is 15: the Create fails before its timeout, and its
    # rollback's Delete of the copy still in progress must not fail the stack (a deferred cleanup).
    found = replay({}, [_start(copy_duration=1800.0, service_timeout=900)])
    assert _unknown(request, found) == []


@pytest.mark.parametrize("units", [None, 1], ids=["copied", "running"])
def test_a_delete_naming_another_resources_copy_leaves_it_alone(request, units):
    # A Delete of another logical id whose physical id is the held copy's ARN, sent straight to the
    # function: the copy carries another resource's owner marker, so it is neither stopped nor deleted.
    found = replay({}, [_start(units=units), ("foreign_delete", {})])
    assert _unknown(request, found) == []
