"""The integration tests (integ/) offline: integ-runner's snapshot check passes (in the floor environment:
integ-runner cannot read the cloud assemblies of the newest aws-cdk-lib), and ``make integ`` refuses to
deploy without what it needs.

The real deployment (``make integ``) needs AWS accounts and a trained model; nothing here does.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import stat
import subprocess
import sys
from types import ModuleType

import pytest

from tests.conftest import REPO

INTEG_DIR = REPO / "integ"
VERSION_ARN = "arn:aws:rekognition:us-east-1:111111111111:project/p/version/v/1700000000001"
PROJECT_ARN = "arn:aws:rekognition:us-east-1:111111111111:project/p/1700000000000"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"integ_{name}_module", INTEG_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run = _load("run")
INTEG_RUNNER = REPO / "node_modules" / ".bin" / "integ-runner"


def _schema_major() -> int:
    from aws_cdk import cloud_assembly_schema

    return int(cloud_assembly_schema.Manifest.version().split(".")[0])


def test_both_integration_tests_have_a_snapshot_of_templates_and_manifests_only():
    for name in ("integ_model_copy.py", "integ_promotion.py"):
        snapshot = INTEG_DIR / f"{name}.snapshot"
        files = {path.name for path in snapshot.iterdir()}
        assert {"integ.json", "manifest.json"} <= files, name
        assert any(file.endswith(".template.json") for file in files), name
        assert not any(fnmatch.fnmatch(file, pattern) for file in files for pattern in run.SNAPSHOT_KEPT_OUT)


@pytest.mark.skipif(not INTEG_RUNNER.exists(), reason="integ-runner is installed by make setup (npm ci)")
def test_integ_runner_snapshot_check_passes_offline():
    """integ-runner synthesises both apps (placeholder inputs, no AWS) and compares them with the snapshots;
    a difference fails here with integ-runner's diff (regenerate with make integ-snapshot)."""
    if _schema_major() > run.INTEG_RUNNER_MAX_SCHEMA:
        pytest.skip(
            f"this aws-cdk-lib writes cloud assembly schema {_schema_major()}, integ-runner reads up to "
            f"{run.INTEG_RUNNER_MAX_SCHEMA}: the check runs in the floor environment (make test)"
        )
    env = run.snapshot_env(os.environ)
    env["PATH"] = f"{INTEG_RUNNER.parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        run.snapshot_command(INTEG_DIR, sys.executable),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{output}\nIf the change is intended: make integ-snapshot"
    assert "UNCHANGED  integ_model_copy" in output and "UNCHANGED  integ_promotion" in output


def test_the_snapshot_check_deploys_nothing_and_ignores_real_inputs():
    command = run.snapshot_command(INTEG_DIR, "/venv/bin/python")
    assert not {"--force", "--update-on-failed"} & set(command)
    assert command[command.index("--app") + 1] == "/venv/bin/python {filePath}"
    assert "--dry-run" in run.snapshot_command(INTEG_DIR, "python", update=True)
    caller = {"INTEG_SOURCE_VERSION_ARN": VERSION_ARN, "CDK_CONTEXT_JSON": "{}", "PATH": "/bin"}
    assert run.snapshot_env(caller) == {"PATH": "/bin"}


def test_make_integ_deploys_every_test_in_the_version_region_and_destroys_unless_kept():
    command = run.integ_runner_command(["integ_model_copy.py"], INTEG_DIR, "eu-west-1", "py", keep=False)
    assert command[:2] == ["integ-runner", "integ_model_copy.py"]
    assert "--force" in command and "--no-clean" not in command
    assert command[command.index("--parallel-regions") + 1] == "eu-west-1"
    kept = run.integ_runner_command([], INTEG_DIR, "eu-west-1", "py", keep=True)
    assert "--no-clean" in kept


@pytest.fixture
def no_aws(tmp_path):
    """An environment with no AWS credentials anywhere (and no instance metadata lookups), and an
    `integ-runner` on PATH that only records that it was called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "integ-runner-called"
    cdk = bin_dir / "integ-runner"
    cdk.write_text(f'#!/bin/sh\necho "$@" >> {marker}\n')
    cdk.chmod(cdk.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INTEG_"))}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env, marker


def _make_integ(env, *tests):
    return subprocess.run(
        [sys.executable, str(INTEG_DIR / "run.py"), *tests],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )


def test_make_integ_without_inputs_deploys_nothing_and_says_what_it_needs(no_aws):
    env, marker = no_aws
    result = _make_integ(env)
    assert result.returncode == 2, result.stderr
    assert "nothing deployed" in result.stderr
    assert (
        "Not set: INTEG_SOURCE_VERSION_ARN, INTEG_SOURCE_PROJECT_ARN, INTEG_DESTINATION_ACCOUNT"
        in result.stderr
    )
    assert "cdk bootstrap" in result.stderr and "--trust" in result.stderr
    assert not marker.exists()


def test_make_integ_without_credentials_deploys_nothing(no_aws):
    env, marker = no_aws
    env = dict(env, INTEG_SOURCE_VERSION_ARN=VERSION_ARN, INTEG_SOURCE_PROJECT_ARN=PROJECT_ARN)
    result = _make_integ(env, "integ_model_copy.py")
    assert result.returncode == 2, result.stderr
    assert "No usable AWS credentials" in result.stderr and "nothing deployed" in result.stderr
    assert not marker.exists()


def test_make_integ_promotion_needs_a_second_account(no_aws):
    env, marker = no_aws
    env = dict(
        env,
        INTEG_SOURCE_VERSION_ARN=VERSION_ARN,
        INTEG_SOURCE_PROJECT_ARN=PROJECT_ARN,
        INTEG_DESTINATION_ACCOUNT="111111111111",
    )
    result = _make_integ(env, "integ_promotion.py")
    assert result.returncode == 2, result.stderr
    assert "must be another account than the source's (111111111111)" in result.stderr
    assert not marker.exists()


def test_make_integ_rejects_an_arn_that_is_not_a_version(no_aws):
    env, marker = no_aws
    env = dict(env, INTEG_SOURCE_VERSION_ARN=PROJECT_ARN, INTEG_SOURCE_PROJECT_ARN=PROJECT_ARN)
    result = _make_integ(env, "integ_model_copy.py")
    assert result.returncode == 2, result.stderr
    assert "is not a Rekognition project version ARN" in result.stderr
    assert not marker.exists()
