"""The crhelper contract of the layer (``lambda/cfn/crhelper_contract.py``, data) checked against the pinned
crhelper and against ``PollingResource``, on their sources with ``ast``: an upgrade of crhelper that removes
or reshapes a private method the layer overrides or extends, drops a call that reaches an override, or
stops setting a private attribute the layer uses, fails here rather than in a stack; so does a layer that
starts to rely on more of crhelper than the contract states."""

from __future__ import annotations

import ast
import importlib.util
import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from crhelper import resource_helper

from tests.conftest import REPO

ASSET = REPO / "lambda"
CRHELPER_SOURCE = inspect.getsource(resource_helper)
LAYER_SOURCE = (ASSET / "cfn" / "polling.py").read_text(encoding="utf-8")
BASE_ALIASES = ("_CRHELPER", "CfnResource")  # how polling.py reaches crhelper's own methods


def _contract() -> Any:
    spec = importlib.util.spec_from_file_location("crhelper_contract", ASSET / "cfn" / "crhelper_contract.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONTRACT = _contract()


def methods(source: str, class_name: str) -> dict[str, ast.FunctionDef]:
    """The methods ``class_name`` defines in ``source``, by name."""
    (cls,) = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef) and n.name == class_name]
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


def parameters(method: ast.FunctionDef) -> tuple[str, ...]:
    """Parameter names in order, ``*args``/``**kwargs`` marked, keyword-only after a bare ``*``."""
    args = method.args
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg:
        names.append(f"*{args.vararg.arg}")
    elif args.kwonlyargs:
        names.append("*")
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append(f"**{args.kwarg.arg}")
    return tuple(names)


def _self_attributes(node: ast.AST) -> list[ast.Attribute]:
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"
    ]


def self_calls(method: ast.FunctionDef) -> set[str]:
    """The methods ``method`` calls on ``self``."""
    on_self = _self_attributes(method)
    return {n.func.attr for n in ast.walk(method) if isinstance(n, ast.Call) and n.func in on_self}


def base_calls(method: ast.FunctionDef) -> set[str]:
    """crhelper's own methods that ``method`` runs: ``super().X(...)`` or ``_CRHELPER.X(self, ...)``."""
    found = set()
    for node in ast.walk(method):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        is_super = isinstance(owner, ast.Call) and getattr(owner.func, "id", None) == "super"
        if is_super or (isinstance(owner, ast.Name) and owner.id in BASE_ALIASES):
            found.add(node.func.attr)
    return found


def assigned(method: ast.FunctionDef) -> set[str]:
    """The attributes ``method`` assigns on ``self``."""
    return {n.attr for n in _self_attributes(method) if isinstance(n.ctx, ast.Store)}


def module_calls(method: ast.FunctionDef, module: str) -> set[str]:
    """What ``method`` calls as ``<module>.<name>(...)``."""
    return {
        n.func.attr
        for n in ast.walk(method)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == module
    }


def breaks(crhelper_source: str, layer_source: str, contract: Any) -> list[str]:
    """Every way crhelper's source, or the layer's, departs from the contract (an empty list: none)."""
    theirs = methods(crhelper_source, "CfnResource")
    ours = methods(layer_source, "PollingResource")
    overrides: dict[str, tuple[str, ...]] = contract.OVERRIDES
    extends: tuple[str, ...] = contract.EXTENDS
    found = []
    for name, params in overrides.items():
        if name not in theirs:
            found.append(f"{name}: not defined by crhelper")
        elif parameters(theirs[name]) != params:
            found.append(f"{name}: crhelper has {parameters(theirs[name])}, the contract {params}")
        if name in ours and parameters(ours[name]) != params:
            found.append(f"{name}: PollingResource has {parameters(ours[name])}, the contract {params}")
    shadowed = {name for name in ours if name in theirs and name != "__init__"}
    if shadowed - set(overrides) - set(extends):
        found.append(f"PollingResource overrides {sorted(shadowed - set(overrides) - set(extends))} too")
    if set(overrides) - shadowed:
        found.append(f"PollingResource no longer overrides {sorted(set(overrides) - shadowed)}")
    run_by_layer = set().union(*(base_calls(m) for m in ours.values())) - {"__init__"}
    if run_by_layer != set(extends):
        found.append(f"PollingResource runs crhelper's {sorted(run_by_layer)}; contract: {sorted(extends)}")
    for name in extends:
        if name not in theirs:
            found.append(f"{name}: not defined by crhelper")
    for caller, callee in contract.CALLS:
        if caller not in theirs:
            found.append(f"{caller}: not defined by crhelper")
        elif callee not in self_calls(theirs[caller]):
            found.append(f"crhelper's {caller} no longer calls {callee}")
    initial = assigned(theirs["__init__"])
    attributes: tuple[str, ...] = contract.ATTRIBUTES
    for name in attributes:
        if name not in initial:
            found.append(f"{name}: not set by crhelper's __init__")
    used = {n.attr for m in ours.values() for n in _self_attributes(m)} & {a for a in initial if a[0] == "_"}
    if used - set(attributes):
        found.append(f"PollingResource uses crhelper's {sorted(used - set(attributes))} too")
    for keyword in contract.INIT_KEYWORDS:
        if keyword not in parameters(theirs["__init__"]):
            found.append(f"{keyword}: not a parameter of crhelper's __init__")
    timer_module = str(contract.TIMER_MODULE)
    imported = {a.name for n in ast.parse(crhelper_source).body if isinstance(n, ast.Import) for a in n.names}
    if timer_module not in imported or "Timer" not in module_calls(theirs["_set_timeout"], timer_module):
        found.append(f"crhelper's _set_timeout no longer makes its timer with {timer_module}.Timer")
    return found


def test_the_pinned_crhelper_and_the_layer_keep_the_contract() -> None:
    assert breaks(CRHELPER_SOURCE, LAYER_SOURCE, CONTRACT) == []


def test_the_contract_states_what_the_layer_relies_on() -> None:
    assert set(CONTRACT.OVERRIDES) >= {"_put_rule", "_put_targets", "_send", "_timeout"}
    assert ("_setup_polling", "_put_rule") in CONTRACT.CALLS
    assert ("__call__", "_log_setup") in CONTRACT.CALLS
    assert "crhelper_contract.py" in LAYER_SOURCE.split('"""')[1]  # the layer's docstring points to it


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("self._put_rule()", "'rule'", "crhelper's _setup_polling no longer calls _put_rule"),
        ("def _put_targets(self, func_name):", "def _put_targets(self, rule_arn):", "_put_targets: crhelper"),
        ("def _send(self,", "def _send_response_to_cfn(self,", "_send: not defined by crhelper"),
        ("self._poll_update_func = None", "pass", "_poll_update_func: not set by crhelper's __init__"),
        ("self._timer = threading.Timer(", "self._timer = Timer(", "no longer makes its timer with"),
        ("sleep_on_delete=120,", "", "sleep_on_delete: not a parameter"),
    ],
)
def test_the_check_fails_on_a_crhelper_that_changed(old: str, new: str, expected: str) -> None:
    assert old in CRHELPER_SOURCE
    found = breaks(CRHELPER_SOURCE.replace(old, new, 1), LAYER_SOURCE, CONTRACT)
    assert found and expected in found[0], found


@pytest.mark.parametrize(
    ("addition", "expected"),
    [
        ("    def _wait_for_cwlogs(self, sleep=None):\n        pass\n", "overrides ['_wait_for_cwlogs'] too"),
        ("    def peek(self):\n        return self._sleep_on_delete\n", "uses crhelper's ['_sleep_on_"),
        ("    def cf(self, event):\n        _CRHELPER._cfn_response(self, event)\n", "runs crhelper's"),
    ],
)
def test_the_check_fails_on_a_layer_that_relies_on_more(addition: str, expected: str) -> None:
    marker = "    def __init__(self, **kwargs: Any) -> None:\n"
    assert marker in LAYER_SOURCE
    layer = LAYER_SOURCE.replace(marker, addition + "\n" + marker, 1)
    found = breaks(CRHELPER_SOURCE, layer, CONTRACT)
    assert len(found) == 1 and expected in found[0], found


def test_the_check_fails_on_a_contract_that_claims_too_much() -> None:
    calls = (*CONTRACT.CALLS, ("_cfn_response", "_put_rule"))
    claims = SimpleNamespace(**{**vars(CONTRACT), "CALLS": calls})
    assert breaks(CRHELPER_SOURCE, LAYER_SOURCE, claims) == [
        "crhelper's _cfn_response no longer calls _put_rule"
    ]


def test_the_contract_is_checked_against_the_crhelper_the_asset_pins() -> None:
    """The asset's crhelper is pinned in lambda/requirements.txt (the library does not depend on it: the
    wheel vendors that version); this file checks the crhelper installed here, which must be that one."""
    import importlib.metadata

    pins = [
        line.strip()
        for line in (ASSET / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("crhelper")
    ]
    assert pins == [f"crhelper=={importlib.metadata.version('crhelper')}"]
    assert pins[0] in (REPO / "requirements.txt").read_text(encoding="utf-8").split()
    assert Path(resource_helper.__file__).name == "resource_helper.py"
