"""The handler asset's two rooms keep to one import direction, checked on the sources with ``ast``.

``lambda/cfn/`` is the layer over crhelper, ``lambda/resources/`` the resources; they share only the
vocabulary at the asset's root (``outcome``, ``contract``), and ``index.py`` (the entry) wires them together.
So the resources never import the layer (and the layer knows no resource): a resource can be read, tested
and changed without crhelper's flow, and the layer can follow crhelper without touching a resource.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO

ASSET = REPO / "lambda"
ENTRY, SHARED, LAYER, RESOURCES = "entry", "shared", "cfn", "resources"
ROOT_MODULES = {"index": ENTRY, "outcome": SHARED, "contract": SHARED}
#: Which rooms a module of each room may import from.
ALLOWED = {
    ENTRY: {ENTRY, SHARED, LAYER, RESOURCES},
    LAYER: {LAYER, SHARED},
    RESOURCES: {RESOURCES, SHARED},
    SHARED: {SHARED},
}
WHY = {
    LAYER: "the layer over crhelper knows no resource (index.py wires them)",
    RESOURCES: "the resources never import the layer over crhelper (they share only outcome and contract)",
    SHARED: "the shared vocabulary imports neither room",
    ENTRY: "",
}


def modules(root: Path) -> dict[str, Path]:
    """The asset's own modules under ``root``, by dotted name (a vendored crhelper left out)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if "__pycache__" in parts or parts[0] == "crhelper":
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def room(name: str) -> str | None:
    """The room of an asset module: the entry, the shared vocabulary, the layer, the resources; or none."""
    top = name.split(".")[0]
    if top in (LAYER, RESOURCES):
        return top
    return ROOT_MODULES.get(name)


def imports(name: str, path: Path, own: set[str]) -> set[str]:
    """The asset modules ``name`` (at ``path``) imports, anywhere in its body, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from cfn import polling`` imports the module cfn.polling; ``from cfn.polling import X``
            # imports cfn.polling
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in own]
            targets = submodules or [base]
        else:
            continue
        found |= {target for target in targets if target in own}
    return found


def crossings(root: Path) -> list[str]:
    """Every import of a module under ``root`` that its room does not allow, and every module in no room."""
    own = modules(root)
    found = []
    for name, path in own.items():
        mine = room(name)
        if mine is None:
            found.append(f"{path.relative_to(root)} is in no room: put it in cfn/ or resources/")
            continue
        for target in sorted(imports(name, path, set(own))):
            theirs = room(target)
            if theirs is not None and theirs not in ALLOWED[mine]:
                found.append(f"{path.relative_to(root)} imports {target}: {WHY[mine]}")
    return found


def test_the_handler_s_imports_keep_to_their_rooms() -> None:
    assert crossings(ASSET) == []


def test_both_rooms_and_the_entry_are_there() -> None:
    rooms = {room(name) for name in modules(ASSET)}
    assert rooms == {ENTRY, SHARED, LAYER, RESOURCES}
    assert {"cfn.polling", "resources.model_copy", "resources.project_policy"} <= set(modules(ASSET))


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "lambda"
    shutil.copytree(ASSET, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        ("resources/quality_gate.py", "from cfn import polling", "imports cfn.polling: the resources never"),
        ("resources/errors.py", "import cfn.time_budget", "imports cfn.time_budget: the resources never"),
        (
            "resources/copy_calls.py",
            "def late():\n    from cfn.request_rule import rule_for",
            "imports cfn.request_rule: the resources never",
        ),
        ("cfn/request_rule.py", "from resources import model_copy", "imports resources.model_copy"),
        ("cfn/polling.py", "from . import time_budget\nfrom ..resources import errors", "resources.errors"),
        ("outcome.py", "import index", "outcome.py imports index: the shared vocabulary"),
    ],
)
def test_the_check_fails_on_an_import_across(copy: Path, module: str, line: str, expected: str) -> None:
    _append(copy / module, line)
    found = crossings(copy)
    assert len(found) == 1 and expected in found[0], found


def test_the_check_fails_on_a_module_in_no_room(copy: Path) -> None:
    (copy / "concurrency.py").write_text("import outcome\n", encoding="utf-8")
    assert crossings(copy) == ["concurrency.py is in no room: put it in cfn/ or resources/"]


def test_the_readme_map_names_every_module_of_the_handler() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## How it works\n", 1)[1].split("\n## ", 1)[0]
    missing = [
        f"{path.relative_to(ASSET)}"
        for path in modules(ASSET).values()
        if path.name != "__init__.py" and f"`{path.name}`" not in section
    ]
    assert missing == [], "README 'How it works' does not name these handler modules"
    assert "`cfn/`" in section and "`resources/`" in section
