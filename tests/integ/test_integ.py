"""The integration tests (integ/) offline: their snapshots are current, and ``make integ`` refuses to deploy
without what it needs.

The real deployment (``make integ``) needs AWS accounts and a trained model; nothing here does.
"""

from __future__ import annotations

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


snapshot = _load("snapshot")


def test_both_integration_tests_have_a_snapshot():
    names = [test.name for test in snapshot.tests()]
    assert names == ["integ_model_copy.py", "integ_promotion.py"]
    for test in snapshot.tests():
        files = snapshot.read_snapshot(test)
        assert "integ.json" in files and "manifest.json" in files
        assert any(name.endswith(".template.json") for name in files)


def test_snapshots_match_the_synthesised_apps():
    """Synthesises both apps (offline, placeholders) and compares; the message says how to regenerate."""
    ok, report = snapshot.check(snapshot.tests())
    assert ok, report


def test_a_changed_template_fails_the_comparison_and_says_how_to_regenerate():
    test = snapshot.tests()[0]
    committed = snapshot.read_snapshot(test)
    template = next(name for name in committed if name.endswith(".template.json"))
    assert '"integ-model-copy"' in committed[template]
    changed = dict(committed, **{template: committed[template].replace('"integ-model-copy"', '"renamed"')})
    ok, report = snapshot.compare([test], {test: changed})
    assert not ok
    assert template in report and '+    "ProjectName": "renamed"' in report
    assert snapshot.REGENERATE_COMMAND in report
    # A file that disappears, and a test without a snapshot, fail too.
    ok, report = snapshot.compare([test], {test: {k: v for k, v in committed.items() if k != template}})
    assert not ok and "no longer synthesised" in report
    assert snapshot.differences(test, {}, committed).endswith("no snapshot yet.\n")


def test_normalisation_hides_hashes_and_salts_only():
    text = (
        '{"S3Key": "' + "ab" * 32 + '.zip", "salt": "1796160635500", '
        '"111111111111-us-east-1-d67359c7": {}, "Runtime": "python3.13"}'
    )
    assert snapshot.normalise(text) == (
        '{"S3Key": "<hash>.zip", "salt": "<salt>", '
        '"111111111111-us-east-1-<hash>": {}, "Runtime": "python3.13"}'
    )


def test_snapshot_synthesis_ignores_real_inputs(tmp_path):
    env = snapshot.synth_env(
        {"INTEG_SOURCE_VERSION_ARN": VERSION_ARN, "CDK_CONTEXT_JSON": "{}", "PATH": "/bin"}, tmp_path
    )
    assert env == {"PATH": "/bin", "CDK_OUTDIR": str(tmp_path)}


@pytest.fixture
def no_aws(tmp_path):
    """An environment with no AWS credentials anywhere (and no instance metadata lookups), and a `cdk` on
    PATH that only records that it was called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "cdk-called"
    cdk = bin_dir / "cdk"
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
        timeout=120,
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


def test_assertion_results_are_read_from_the_stack_outputs():
    run = _load("run")
    outputs = {
        "Assertions": {
            "AssertionResultsAwsApiCallA": '{"status": "success"}',
            "AssertionResultsAwsApiCallB": '{"status": "fail", "message": "Expected COPYING_COMPLETED"}',
            "Other": "x",
        }
    }
    assert run.assertion_failures(outputs) == [
        "Assertions.AssertionResultsAwsApiCallB: Expected COPYING_COMPLETED"
    ]
    assert run.assertion_failures({"Assertions": {"AssertionResultsX": '{"status": "success"}'}}) == []


def test_make_integ_rejects_an_arn_that_is_not_a_version(no_aws):
    env, marker = no_aws
    env = dict(env, INTEG_SOURCE_VERSION_ARN=PROJECT_ARN, INTEG_SOURCE_PROJECT_ARN=PROJECT_ARN)
    result = _make_integ(env, "integ_model_copy.py")
    assert result.returncode == 2, result.stderr
    assert "is not a Rekognition project version ARN" in result.stderr
    assert not marker.exists()
