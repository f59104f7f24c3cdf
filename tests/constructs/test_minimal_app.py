"""The README's complete minimal app (``examples/minimal_app.py``) runs as it is and synthesises what the
README says: the policy in the dev stack, the retained copy in the prod stack, the grant on the copy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import REPO_ROOT

APP = REPO_ROOT / "examples" / "minimal_app.py"


def _readme_apps() -> list[str]:
    """The README's Python blocks that are whole apps (they end in ``app.synth()``)."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    return [block for block in blocks if block.rstrip().endswith("app.synth()")]


def test_the_readme_shows_the_minimal_app_as_it_is() -> None:
    assert APP.read_text(encoding="utf-8") in _readme_apps()


def test_the_readmes_first_snippet_is_a_whole_app_that_synthesises(tmp_path: Path) -> None:
    first = _readme_apps()[0]
    assert "RekognitionModelCopy(" in first and "source=trained" in first
    script = tmp_path / "app.py"
    script.write_text(first, encoding="utf-8")
    result = _run(script, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert [path.name for path in (tmp_path / "out").glob("*.template.json")] == ["Models.template.json"]


def _run(script: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CDK_OUTDIR=str(outdir))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT / "constructs"), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(script)], cwd=outdir.parent, env=env, capture_output=True, text=True
    )


def test_the_minimal_app_synthesises_the_promotion(tmp_path: Path) -> None:
    result = _run(APP, tmp_path)
    assert result.returncode == 0, result.stderr
    dev = json.loads((tmp_path / "ModelDev.template.json").read_text())
    prod = json.loads((tmp_path / "ModelProd.template.json").read_text())
    policies = [r for r in dev["Resources"].values() if r["Type"] == "Custom::RekognitionProjectPolicy"]
    assert len(policies) == 1
    ((copy_id, copy),) = [
        (k, r) for k, r in prod["Resources"].items() if r["Type"] == "Custom::RekognitionModelCopy"
    ]
    assert (copy["DeletionPolicy"], copy["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert copy["Properties"]["SourceProjectVersionArn"].endswith("/version/defects.2026-11-01/1700000000001")
    application = [{"Ref": _logical_id(prod, "Application")}]
    grants = [
        statement
        for r in prod["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == application
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert grants == [
        {
            "Action": "rekognition:DetectCustomLabels",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [copy_id, "ProjectVersionArn"]},
        }
    ]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "ModelDev" in manifest["artifacts"]["ModelProd"]["dependencies"]


def _logical_id(template: dict[str, dict[str, dict[str, object]]], prefix: str) -> str:
    (logical_id,) = [
        k for k, r in template["Resources"].items() if k.startswith(prefix) and r["Type"] == "AWS::IAM::Role"
    ]
    return logical_id
