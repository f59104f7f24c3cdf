"""The distribution: `constructs/` never shadows the constructs library; the wheel ships the handler."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO_ROOT


def test_constructs_folder_is_not_a_package() -> None:
    assert not (REPO_ROOT / "constructs" / "__init__.py").exists(), (
        "constructs/__init__.py would shadow the `constructs` library; delete it"
    )


def test_import_constructs_resolves_to_the_library() -> None:
    # A fresh interpreter with the repo root first on sys.path, as pytest, app.py and the cdk CLI have it.
    out = subprocess.run(
        [sys.executable, "-c", "import constructs; print(constructs.__file__); constructs.Construct"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(out).parent != REPO_ROOT / "constructs"
    assert "site-packages" in out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline from a copy of what the distribution is made of (no build/ left behind)."""
    from tests.conftest import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_wheel_ships_the_library_and_the_handler(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    handler = {
        f"rekognition_model_copy/_handler/{p.relative_to(REPO_ROOT / 'lambda').as_posix()}"
        for p in (REPO_ROOT / "lambda").rglob("*.py")
        if not p.name.startswith("test_")
    }
    assert "rekognition_model_copy/_handler/index.py" in names
    assert handler <= names
    assert {
        "rekognition_model_copy/__init__.py",
        "rekognition_model_copy/arguments.py",
        "rekognition_model_copy/asset.py",
        "rekognition_model_copy/model_copy.py",
        "rekognition_model_copy/nag.py",
        "rekognition_model_copy/policy_validation.py",
        "rekognition_model_copy/project_policy.py",
        "rekognition_model_copy/promotion.py",
        "rekognition_model_copy/provider.py",
        "rekognition_model_copy/validation.py",
        "rekognition_model_copy/py.typed",
    } <= names
    assert not [n for n in names if n.startswith("constructs/") or n.startswith(("tests/", "emulator/"))]


def test_installed_wheel_finds_its_packaged_handler(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    code = (
        "from rekognition_model_copy import asset; print(asset.handler_source_dir()); "
        "print(sorted(p.name for p in asset.handler_asset_dir().iterdir()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    )
    source_dir, listing = result.stdout.strip().splitlines()
    assert Path(source_dir) == target / "rekognition_model_copy" / "_handler"
    assert "index.py" in listing and "crhelper" in listing
