"""The permissions module is the one place the library's IAM actions are written."""

from __future__ import annotations

import re
from pathlib import Path

import rekognition_model_copy
from rekognition_model_copy import permissions

LIBRARY = Path(rekognition_model_copy.__file__).resolve().parent
# quoted service:Action literals (a wildcard in an error message's text is no grant)
ACTION = re.compile(r"""["'](?:rekognition|s3|kms|events|logs|iam|lambda):[A-Za-z]+["']""")


def test_no_action_is_written_outside_the_permissions_module() -> None:
    elsewhere = {
        f"{path.name}: {match}"
        for path in LIBRARY.glob("*.py")
        if path.name != "permissions.py"
        for match in ACTION.findall(path.read_text(encoding="utf-8"))
    }
    assert elsewhere == set()


def test_the_copy_statements_hold_the_three_actions_of_the_copy_project_version_call() -> None:
    """Service Authorization Reference, table "API operations defined by Amazon Rekognition":
    CopyProjectVersion -> rekognition:CopyProjectVersion, CreateProjectVersion, TagResource."""
    statements = permissions.copy_statements(
        source_project_arns=["source-project"],
        source_version_arns=["source-version"],
        destination_project_arns=["destination-project"],
        destination_version_arns=["destination-versions"],
        bucket_arns=["bucket"],
        object_arns=["bucket/prefix*"],
    )
    on = {action: set(s.resources) for s in statements for action in s.actions}
    assert on["rekognition:CopyProjectVersion"] == {"source-project", "source-version", "destination-project"}
    assert on["rekognition:CreateProjectVersion"] == {"destination-project"}
    assert on["rekognition:TagResource"] == {"destination-versions"}
    # no key given: no KMS statement at all
    assert not [a for a in on if a.startswith("kms:")]


def test_each_key_gets_only_its_own_actions() -> None:
    statements = permissions.copy_statements(
        source_project_arns=["p"],
        source_version_arns=["v"],
        destination_project_arns=["d"],
        destination_version_arns=["d/version/*"],
        bucket_arns=["b"],
        object_arns=["b/*"],
        key_arns=["output-key"],
        source_key_arns=["source-key"],
    )
    by_key: dict[str, set[str]] = {}
    for statement in statements:
        for resource in statement.resources:
            if resource.endswith("-key"):
                by_key.setdefault(resource, set()).update(statement.actions)
    assert by_key == {
        "output-key": {"kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant"},
        "source-key": {"kms:DescribeKey", "kms:Decrypt", "kms:CreateGrant"},
    }
    (grant,) = [s for s in statements if "kms:CreateGrant" in s.actions]
    assert grant.conditions == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
