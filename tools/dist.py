"""``make dist``: what a release hands over, written to ``dist/`` (see CONTRIBUTING.md, "Cutting a release").

- ``rekognition_model_copy-<version>-py3-none-any.whl``: the library, with the handler and crhelper
  vendored next to it (the library itself does not depend on crhelper);
- ``rekognition-model-copy-handler-<version>.zip``: the function's code (handler and crhelper), for the
  plain template. Reproducible: entries sorted, fixed timestamps and permissions, so the same sources give
  the same bytes;
- ``rekognition-model-copy-provider.yaml``: the provider stack as a plain CloudFormation template
  (:mod:`tools.provider_template`), its Description naming the version;
- ``model-copy.yaml`` and ``project-policy.yaml``: the example templates, for the destination and the source
  account.

Run it with the repository's venv: ``.venv/bin/python -m tools.dist [--out DIR]``. It builds offline
(``pip wheel --no-build-isolation --no-index``) and touches nothing outside ``--out`` and a temporary
directory.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "constructs") not in sys.path:  # the library from this checkout, installed or not
    sys.path.insert(0, str(REPO / "constructs"))

from rekognition_model_copy import asset  # noqa: E402
from tools import provider_template  # noqa: E402

WHEEL_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "constructs", "lambda")
"""What the wheel is built from (see pyproject's [tool.setuptools])."""
EXAMPLES = ("model-copy.yaml", "project-policy.yaml")
"""The example templates ``dist/`` carries (from ``examples/``)."""
TEMPLATE_NAME = "rekognition-model-copy-provider.yaml"
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""Every zip entry's time: the earliest a zip can hold, so the bytes depend on the contents only."""


def version() -> str:
    """The package's version (``[project] version`` of pyproject.toml)."""
    return str(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def write_reproducible_zip(source: Path, target: Path) -> Path:
    """Zip every file under ``source`` into ``target``: sorted paths, fixed time, mode 0644, deflated."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    with zipfile.ZipFile(target, "w") as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=ZIP_TIMESTAMP)
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            info.create_system = 3  # Unix, so the mode is read
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return target


def build_zip(out: Path) -> Path:
    """The function's code as the plain template deploys it: :func:`asset.build_handler_asset`, zipped."""
    with tempfile.TemporaryDirectory(prefix="rmc-zip-") as staging:
        code = asset.build_handler_asset(Path(staging) / "code", REPO / "lambda")
        return write_reproducible_zip(code, out / provider_template.zip_name(version()))


def build_wheel(out: Path) -> Path:
    """The wheel, built offline from a copy of its inputs with crhelper vendored into ``lambda/crhelper``
    (package data of ``rekognition_model_copy._handler``); nothing is written into the checkout."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rmc-wheel-") as staging_dir:
        staging = Path(staging_dir) / "source"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "test_*.py", "conftest.py")
        for name in WHEEL_INPUTS:
            path = REPO / name
            if path.is_dir():
                shutil.copytree(path, staging / name, ignore=ignore)
            else:
                staging.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, staging / name)
        asset.copy_crhelper(asset.crhelper_source(REPO / "lambda"), staging / "lambda" / asset.VENDORED)
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", str(staging), "--no-deps", "--no-build-isolation"]
            + ["--no-index", "--quiet", "-w", str(out)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{result.stdout}{result.stderr}\nThe offline build needs the setuptools and wheel pinned in "
                "requirements-dev.txt (make setup)."
            )
    (wheel,) = out.glob(f"rekognition_model_copy-{version()}-py3-none-any.whl")
    return wheel


def template_yaml(template: dict[str, Any]) -> str:
    """A template as YAML (long-form intrinsic functions, keys in the template's order)."""
    import yaml  # type: ignore[import-untyped]  # cfn-lint's dependency; no stubs installed

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    header = (
        "# Generated by `make dist` (tools/provider_template.py) from RekognitionModelCopyProviderStack;\n"
        '# see the README, "CloudFormation without CDK".\n'
    )
    body: str = yaml.dump(template, Dumper=Dumper, sort_keys=False, width=110, allow_unicode=True)
    return header + body


def build_template(out: Path) -> Path:
    target = out / TEMPLATE_NAME
    target.write_text(template_yaml(provider_template.provider_template(version())), encoding="utf-8")
    return target


def build(out: Path) -> list[Path]:
    """Everything ``make dist`` writes, into ``out`` (emptied of earlier builds of these names first)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in (*out.glob("rekognition_model_copy-*.whl"), *out.glob("rekognition-model-copy-handler-*.zip")):
        old.unlink()
    written = [build_wheel(out), build_zip(out), build_template(out)]
    for example in EXAMPLES:
        written.append(Path(shutil.copyfile(REPO / "examples" / example, out / example)))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="where to write (default: dist/)")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
