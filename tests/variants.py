"""Running a test under a reading of what AWS does not document (``emulator.custom_labels.VARIANTS``).

Two ways, both applied by the :func:`variant` fixture after the ``aws`` fixture has reset the emulator:

* a marker, for one fixed reading::

      @pytest.mark.variant(delete_policy_revision="ignores")
      def test_something(variant, deploy): ...

* a parametrisation, for every reading of some fields (one test per combination, the default first)::

      @each_reading("delete_policy_revision")
      def test_something(variant, deploy): ...

A test takes the ``variant`` fixture (it returns the fields it set). The fixture's function is
``variant_fixture``: importing it into a conftest or a test module makes ``variant`` available there (a
conftest may also make it apply to every test, with an autouse fixture requesting it). Register the marker
with :func:`register` from ``pytest_configure``. Unknown fields and readings not in VARIANTS are errors:
a typo never runs a test under the default silently.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from emulator import custom_labels

MARKER = "variant"


def register(config: pytest.Config) -> None:
    """Declare the ``variant`` marker (call from ``pytest_configure``)."""
    config.addinivalue_line(
        "markers", f"{MARKER}(**fields): run the test under these EmulatorConfig readings (tests/variants.py)"
    )


def check(fields: dict[str, Any]) -> None:
    """Raise ValueError unless every field is in VARIANTS and every value one of its readings."""
    for name, value in fields.items():
        if name not in custom_labels.VARIANTS:
            known = sorted(custom_labels.VARIANTS)
            raise ValueError(f"{name!r} is not an undocumented behaviour; expected one of {known}")
        if value not in custom_labels.VARIANTS[name]:
            known_readings = custom_labels.VARIANTS[name]
            raise ValueError(f"{value!r} is not a reading of {name}; expected one of {known_readings}")


def apply(fields: dict[str, Any]) -> None:
    """Set these readings on the emulator's config (checked first)."""
    check(fields)
    for name, value in fields.items():
        setattr(custom_labels.config, name, value)


def readings(*names: str) -> list[dict[str, Any]]:
    """Every combination of the readings of ``names``, the all-default one first."""
    product = itertools.product(*(custom_labels.VARIANTS[name] for name in names))
    return [dict(zip(names, values, strict=True)) for values in product]


def _id(fields: dict[str, Any]) -> str:
    return ",".join(f"{name}={value}" for name, value in fields.items())


def each_reading(*names: str) -> pytest.MarkDecorator:
    """Parametrise a test (through the ``variant`` fixture) over every reading of ``names``."""
    for name in names:
        check({name: custom_labels.VARIANTS[name][0]} if name in custom_labels.VARIANTS else {name: None})
    # (the default first: a failure under the default reading shows before the others)
    cases = readings(*names)
    return pytest.mark.parametrize("variant", cases, ids=[_id(c) for c in cases], indirect=True)


@pytest.fixture(name="variant")
def variant_fixture(request: pytest.FixtureRequest, aws: None) -> dict[str, Any]:
    """Apply the test's ``variant`` marker and parametrisation (after ``aws`` reset the emulator); returns
    the readings set ({} for none: every default)."""
    fields: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        fields.update(marker.kwargs)
    fields.update(getattr(request, "param", None) or {})
    apply(fields)
    return fields
