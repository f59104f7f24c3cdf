"""A package others install: the built wheel, a fresh virtual environment, a fresh app from the README.

How the fresh environment gets its dependencies (offline, a few seconds, and still a real test of the
wheel). ``python -m venv --without-pip`` makes an empty environment (no ``--system-site-packages``, so
nothing of this checkout or its ``.venv`` is visible). ``pip install --no-deps --no-index`` installs the
wheel. Its dependencies are then put in place *file by file* from the distributions already installed in
the test's environment: starting from the wheel's own ``Requires-Dist`` (markers evaluated), following each
distribution's ``Requires-Dist`` recursively, every file a distribution's RECORD lists is symlinked at the
same relative place in the fresh ``site-packages`` (its ``.dist-info`` included). The result is what
``pip install <wheel>`` would give, minus the download: exactly the declared closure and nothing else
(no pytest, no moto, no editable install of this repo), which ``pip check`` and ``pip list`` confirm.
A dependency the wheel forgot to declare is therefore an ImportError here, and the handler asset can only
come from the wheel. The wheel is built with ``--no-build-isolation --no-index`` (the setuptools and
wheel pinned in requirements-dev.txt), so no step needs the network; the app runs with dead HTTP(S) proxies
to make sure.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from emulator.cloudformation import CloudFormation
from tests.conftest import NODE_BIN, REGION, REPO, SOURCE_ACCOUNT, pyproject_version
from tools.dist import build_wheel

DISTRIBUTION = "rekognition-model-copy"
README_ACCOUNT = SOURCE_ACCOUNT
"""The account of the README's first example's stack (its dev account)."""


def wheel_requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        message = email.parser.Parser().parsestr(archive.read(metadata).decode("utf-8"))
    return list(message.get_all("Requires-Dist") or [])


def dependency_closure(requirements: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions satisfying ``requirements``, recursively (markers for no extras)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(requirements)
    while todo:
        requirement = Requirement(todo.pop())
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        dist = importlib.metadata.distribution(name)
        assert requirement.specifier.contains(dist.version, prereleases=True), (
            f"{requirement} is not satisfied by the installed {name} {dist.version}"
        )
        found[name] = dist
        todo += dist.requires or []
    return list(found.values())


def link_distribution(dist: importlib.metadata.Distribution, site_packages: Path) -> int:
    """Symlink every file of ``dist``'s RECORD that lives in site-packages; returns how many."""
    assert dist.files is not None, f"{dist.metadata['Name']} has no RECORD"
    linked = 0
    for file in dist.files:
        if file.parts[0] == "..":  # console scripts in bin/: not needed to import
            continue
        source = Path(str(dist.locate_file(file)))
        if not source.is_file():  # e.g. a .pyc listed in RECORD but never written
            continue
        target = site_packages / file
        if target.is_symlink():  # a file two distributions record (a shared namespace's __init__.py)
            assert target.readlink() == source
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)
        linked += 1
    return linked


@dataclass
class FreshVenv:
    python: Path
    site_packages: Path
    wheel: Path
    dependencies: set[str]
    env: dict[str, str]

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(self.python), *args],
            capture_output=True,
            text=True,
            env=self.env,
        )


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
    root = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV", "CDK_"))
    }
    dead = "http://127.0.0.1:9"  # nothing listens: a download attempt fails at once
    env = {
        **keep,
        "PATH": os.pathsep.join([str(NODE_BIN), str(root / "bin"), os.environ.get("PATH", "")]),
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **{proxy: dead for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")},
        "NO_PROXY": "",
        "no_proxy": "",
    }
    venv = FreshVenv(python, site_packages, wheel, set(), env)
    installed = venv.pip("install", "--no-deps", "--quiet", str(wheel))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    for dist in dependency_closure(wheel_requirements(wheel)):
        assert link_distribution(dist, site_packages) > 0
        venv.dependencies.add(canonicalize_name(dist.metadata["Name"]))
    return venv


def test_version_matches_pyproject_and_changelog() -> None:
    import rekognition_model_copy

    version = pyproject_version()
    assert rekognition_model_copy.__version__ == version
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, flags=re.MULTILINE)
    assert released and released[0] == version, "the newest CHANGELOG entry is the package's version"


def test_fresh_venv_holds_the_wheel_and_its_declared_dependencies_only(fresh_venv: FreshVenv) -> None:
    check = fresh_venv.pip("check")
    assert check.returncode == 0, check.stdout + check.stderr
    listed = fresh_venv.pip("list", "--format=json")
    assert listed.returncode == 0, listed.stderr
    names = {canonicalize_name(p["name"]) for p in json.loads(listed.stdout)}
    assert names == fresh_venv.dependencies | {DISTRIBUTION}
    assert {"aws-cdk-lib", "constructs"} <= names
    # crhelper is vendored in the wheel for the handler: installing the library neither installs nor pins it
    assert not names & {"crhelper", "pytest", "moto", "boto3", "cfn-lint"}
    declared = {canonicalize_name(Requirement(r).name) for r in wheel_requirements(fresh_venv.wheel)}
    assert "crhelper" not in declared


def test_the_wheel_vendors_crhelper_with_its_licence_next_to_the_handler(fresh_venv: FreshVenv) -> None:
    with zipfile.ZipFile(fresh_venv.wheel) as wheel:
        names = set(wheel.namelist())
        vendored = "rekognition_model_copy/_handler/crhelper/"
        assert {f"{vendored}{n}" for n in ("__init__.py", "resource_helper.py", "LICENSE", "NOTICE")} <= names
        assert "Apache License" in wheel.read(f"{vendored}LICENSE").decode("utf-8")
        (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(licence) == (REPO / "LICENSE").read_bytes()
    pinned = (REPO / "lambda" / "requirements.txt").read_text(encoding="utf-8").split()
    assert f"crhelper=={importlib.metadata.version('crhelper')}" in pinned, "vendored from the asset's pin"


def readme_first_python_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^```python\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL)
    assert match, "README.md has no ```python example"
    return match.group(1)


APP_TEMPLATE = '''\
"""A fresh CDK app: the README's first example (a whole app, stack "Models"), as it is."""
import importlib.metadata
import json

import rekognition_model_copy

{snippet}
print(json.dumps({{
    "package": rekognition_model_copy.__file__,
    "version": rekognition_model_copy.__version__,
    "distribution_version": importlib.metadata.version("rekognition-model-copy"),
}}))
'''
# The CLI's defaults for a run without it: the output directory, and asset metadata (the asset's path).
APP_ENV = {"CDK_OUTDIR": "cdk.out", "CDK_CONTEXT_JSON": json.dumps({"aws:cdk:enable-asset-metadata": True})}


def test_readme_example_synthesises_in_a_fresh_app_with_the_wheels_handler(
    fresh_venv: FreshVenv, tmp_path: Path, cloud: CloudFormation
) -> None:
    from aws_cdk.assertions import Template

    app_dir = tmp_path / "app"
    app_dir.mkdir()
    snippet = readme_first_python_example()
    (app_dir / "app.py").write_text(APP_TEMPLATE.format(snippet=snippet), encoding="utf-8")

    result = subprocess.run(
        [str(fresh_venv.python), "-I", "app.py"],
        cwd=app_dir,
        env={**fresh_venv.env, **APP_ENV},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(info["package"]).is_relative_to(fresh_venv.site_packages)
    assert not Path(info["package"]).is_symlink()  # installed from the wheel, not linked from elsewhere
    assert info["version"] == info["distribution_version"] == pyproject_version()

    assert f'Environment(account="{README_ACCOUNT}", region="{REGION}")' in snippet
    out = app_dir / "cdk.out"
    template = Template.from_json(json.loads((out / "Models.template.json").read_text(encoding="utf-8")))
    template.resource_count_is("Custom::RekognitionModelCopy", 1)
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    asset = out / function["Metadata"]["aws:asset:path"]
    assert (asset / "index.py").is_file()
    assert (asset / "crhelper").is_dir() and (asset / "crhelper" / "__init__.py").is_file()
    handler_modules = sorted(
        p.relative_to(REPO / "lambda").as_posix()
        for p in (REPO / "lambda").rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert {"index.py", "cfn/polling.py", "resources/model_copy.py"} <= set(handler_modules)
    with zipfile.ZipFile(fresh_venv.wheel) as wheel:
        for module in handler_modules:  # every module of the handler, in its subfolder
            shipped = wheel.read(f"rekognition_model_copy/_handler/{module}")
            assert (asset / module).read_bytes() == shipped == (REPO / "lambda" / module).read_bytes(), module
        for name in ("resource_helper.py", "LICENSE"):  # the wheel's vendored crhelper
            assert (asset / "crhelper" / name).read_bytes() == wheel.read(
                f"rekognition_model_copy/_handler/crhelper/{name}"
            )

    # The asset's handler imports (with its own crhelper) and answers a request on the lifecycle driver,
    # deployed as the README's stack: "Models" in the account and Region of its Environment. The README's
    # source project is not in that emulated account: the answer is a FAILED that names it.
    stack = cloud.stack("Models", account_id=README_ACCOUNT, region=REGION, asset_root=out)
    assert stack.create(json.loads((out / "Models.template.json").read_text(encoding="utf-8"))) == (
        "ROLLBACK_COMPLETE"
    )
    failed = [e for e in cloud.events if e.logical_id.startswith("ProdModel") and e.status == "CREATE_FAILED"]
    assert cloud.invocations and failed, [e.status for e in cloud.events]
    source_project = f"arn:aws:rekognition:{REGION}:{README_ACCOUNT}:project/dev-defects/1700000000000"
    assert f'project_arn="{source_project}"' in snippet
    assert f"The project {source_project} does not exist" in failed[0].reason, failed[0].reason
    print("the asset's handler answered:", failed[0].reason)
