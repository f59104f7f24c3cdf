"""The handler asset: built without Docker, handler plus crhelper only, a hash stable across synths."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Capture, Template

from rekognition_model_copy import RekognitionModelCopy, asset

from .conftest import ENV, REPO_ROOT, valid_kwargs

LAMBDA_DIR = REPO_ROOT / "lambda"


def _asset_files(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def _synth_asset_key() -> str:
    """A fresh app with one copy, its asset built from scratch; the function's S3 key (= asset hash)."""
    stack = Stack(App(), "AssetStack", env=ENV)
    RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    key = Capture()
    Template.from_stack(stack).has_resource_properties("AWS::Lambda::Function", {"Code": {"S3Key": key}})
    return key.as_string()


@pytest.fixture(scope="module")
def asset_dir() -> Path:
    return asset.handler_asset_dir()


def test_handler_sources_come_from_the_checkout() -> None:
    assert asset.handler_source_dir() == LAMBDA_DIR


def test_asset_holds_the_handler_and_crhelper(asset_dir: Path) -> None:
    files = _asset_files(asset_dir)
    handler_modules = {
        p.relative_to(LAMBDA_DIR).as_posix()
        for p in LAMBDA_DIR.rglob("*.py")
        if not p.name.startswith("test_") and "__pycache__" not in p.parts
    }
    assert "index.py" in files
    assert handler_modules <= files
    assert {"crhelper/__init__.py", "crhelper/resource_helper.py", "crhelper/LICENSE"} <= files


def test_the_handler_s_subpackages_are_each_listed_for_the_asset_and_the_wheel() -> None:
    import tomllib

    folders = {
        p.parent.relative_to(LAMBDA_DIR).as_posix()
        for p in LAMBDA_DIR.rglob("*.py")
        if p.parent != LAMBDA_DIR and "__pycache__" not in p.parts
    }
    assert folders == set(asset.HANDLER_PACKAGES)
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]["rekognition_model_copy._handler"]
    assert {f"{folder}/*.py" for folder in folders} <= set(package_data)


def test_asset_has_no_boto3_caches_stubs_or_tests(asset_dir: Path) -> None:
    files = _asset_files(asset_dir)
    assert not [f for f in files if f.startswith(("boto3/", "botocore/"))]
    assert not [f for f in files if "__pycache__" in f or f.endswith((".pyc", ".pyi"))]
    assert not [f for f in files if Path(f).name.startswith("test_") or Path(f).name == "conftest.py"]


def test_asset_is_small(asset_dir: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(asset_dir.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(asset_dir).as_posix())
    assert len(buffer.getvalue()) < 100 * 1024


def test_asset_hash_is_stable_across_two_synths() -> None:
    first_dir = asset.handler_asset_dir()
    first = _synth_asset_key()
    asset.handler_asset_dir.cache_clear()  # the second synth rebuilds the asset in a new directory
    second = _synth_asset_key()
    assert asset.handler_asset_dir() != first_dir
    assert first == second
    assert first.endswith(".zip")


def test_build_handler_asset_is_deterministic(tmp_path: Path) -> None:
    one = asset.build_handler_asset(tmp_path / "one")
    two = asset.build_handler_asset(tmp_path / "two")
    assert _asset_files(one) == _asset_files(two)
    for name in _asset_files(one):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_missing_handler_is_reported_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(asset, "__file__", str(tmp_path / "a" / "b" / "asset.py"))
    with pytest.raises(FileNotFoundError, match="index.py"):
        asset.handler_source_dir()
