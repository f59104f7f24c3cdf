"""The crhelper contract ``polling.py`` relies on (its docstring lists it): an upgrade of the pinned crhelper
that removes or reshapes one of the private methods it overrides or calls, or one of the private attributes
it uses, fails here rather than in a stack."""

from __future__ import annotations

import inspect
import sys
from typing import Any

import pytest
from crhelper import resource_helper

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "lambda"))
from cfn import polling  # noqa: E402

CRHELPER: Any = resource_helper.CfnResource  # its stubs declare only the public API
# Which crhelper method calls which other one, where PollingResource relies on the call: an override is
# useless when crhelper no longer calls it.
CALLS = {
    "__call__": ["self._log_setup(event, context)", "self._polling_init(event)", "self._send(FAILED"],
    "_crhelper_init": ["self._set_timeout()"],
    "_setup_polling": ["self._put_rule()", "self._add_permission(", "self._put_targets("],
    "_polling_init": ["self._remove_polling()"],
    "_remove_polling": ["self._remove_targets(", "self._remove_permission(", "self._delete_rule("],
    "_cfn_response": ["self._send()"],
}


def shape(method: Any) -> list[tuple[str, Any]]:
    return [(p.name, p.kind) for p in inspect.signature(method).parameters.values()]


def contract_breaks(theirs: Any, ours: Any, overrides: tuple[str, ...]) -> list[str]:
    """The overridden methods that ``theirs`` (crhelper's class) no longer defines itself, or defines with
    other parameters (names and kinds) than ``ours``."""
    broken = []
    for name in overrides:
        method = vars(theirs).get(name)
        if method is None:
            broken.append(f"{name}: not defined by crhelper")
        elif shape(method) != shape(getattr(ours, name)):
            broken.append(f"{name}: crhelper has {shape(method)}, polling {shape(getattr(ours, name))}")
    return broken


def test_every_method_polling_overrides_is_crhelper_s_with_the_same_parameters() -> None:
    assert contract_breaks(CRHELPER, polling.PollingResource, polling.CRHELPER_OVERRIDES) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"_send": None}, "_send: not defined by crhelper"),
        ({"_put_targets": lambda self, func_name, rule_arn: None}, "_put_targets: crhelper has"),
        ({"_timeout": lambda self, *args: None}, "_timeout: crhelper has"),
    ],
)
def test_the_check_fails_on_a_crhelper_that_changed(change: dict[str, Any], expected: str) -> None:
    members = {k: v for k, v in vars(CRHELPER).items() if k not in change or change[k] is not None}
    members.update({k: v for k, v in change.items() if v is not None})
    upgraded = type("UpgradedCfnResource", (), members)
    breaks = contract_breaks(upgraded, polling.PollingResource, polling.CRHELPER_OVERRIDES)
    assert len(breaks) == 1 and breaks[0].startswith(expected)


def test_the_overrides_list_is_complete_and_the_docstring_names_each() -> None:
    ours = {n for n in vars(polling.PollingResource) if n.startswith("_") and not n.startswith("__")}
    assert ours & set(vars(CRHELPER)) == set(polling.CRHELPER_OVERRIDES)
    doc = polling.__doc__ or ""
    for name in (*polling.CRHELPER_OVERRIDES, *polling.CRHELPER_ATTRIBUTES, *CALLS):
        assert f"``{name}``" in doc, name


def test_the_private_attributes_polling_uses_are_set_by_crhelper() -> None:
    source = inspect.getsource(CRHELPER.__init__)
    for name in polling.CRHELPER_ATTRIBUTES:
        assert f"self.{name} = " in source, name


@pytest.mark.parametrize("caller", sorted(CALLS))
def test_crhelper_still_calls_what_polling_overrides(caller: str) -> None:
    source = inspect.getsource(getattr(CRHELPER, caller))
    for call in CALLS[caller]:
        assert call in source, f"{caller} no longer calls {call}"


def test_the_timer_is_made_through_the_module_s_threading() -> None:
    # what a test driver virtualises: emulator/cloudformation/lambda_runtime.py replaces
    # resource_helper.threading
    assert "threading.Timer(" in inspect.getsource(CRHELPER._set_timeout)


def test_the_contract_is_checked_against_the_crhelper_the_asset_pins() -> None:
    """The asset's crhelper is pinned in lambda/requirements.txt (the library does not depend on it: the
    wheel vendors that version); this file checks the crhelper installed here, which must be that one."""
    import importlib.metadata

    pins = [
        line.strip()
        for line in (REPO / "lambda" / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("crhelper")
    ]
    assert pins == [f"crhelper=={importlib.metadata.version('crhelper')}"]
    assert pins[0] in (REPO / "requirements.txt").read_text(encoding="utf-8").split()
