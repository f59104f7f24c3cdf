"""The explorer (machine.py) inside ``make test``: seeded and bounded in sequences and steps (not time),
under the emulator's defaults and the readings that change the lifecycle most. ``make explore`` runs every
variant, longer (tests/explore/run.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.explore.run import explore

pytestmark = pytest.mark.own_invariants

#: (variant, sequences, steps per sequence): small, so the whole of ``make test`` stays near 5 minutes.
BUDGET: list[tuple[dict[str, Any], int, int]] = [
    ({}, 3, 5),
    ({"delete_policy_revision": "ignores"}, 1, 4),
    ({"kms_key_id_described": "key_arn"}, 1, 4),
    ({"delete_while_copying_allowed": True}, 1, 4),
]


@pytest.mark.parametrize(("variant", "sequences", "steps"), BUDGET, ids=lambda v: str(v))
def test_no_sequence_breaks_a_guarantee(variant: dict[str, Any], sequences: int, steps: int) -> None:
    figures, failures = explore(variant, sequences, steps, seed=0)
    assert figures.sequences >= sequences
    assert failures == [], "\n\n".join(failures)
