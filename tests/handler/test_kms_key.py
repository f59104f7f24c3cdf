"""KmsKeyId read back: a key declared in any form CopyProjectVersion accepts (key id, key ARN, alias name,
alias ARN) and described as declared, as the key ARN or not at all, is the same key; only another key
needs a new copy. Each test runs under each reading of ``kms_key_id_described``."""

from __future__ import annotations

from typing import Any

import pytest

from rekognition_model_copy.contract import KMS_KEY_TAG
from tests.conftest import DEST_ACCOUNT, REGION, copy_template
from tests.handler.conftest import reasons
from tests.variants import each_reading, variant_fixture  # noqa: F401 - the variant fixture

FORMS = ("key_arn", "key_id", "alias_name", "alias_arn")


def key_forms(cloud: Any, alias: str) -> dict[str, str]:
    """A new key of the destination account with an alias, in each form a KmsKeyId may take."""
    kms = cloud.session(DEST_ACCOUNT, REGION).client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key["KeyId"])
    return {
        "key_arn": key["Arn"],
        "key_id": key["KeyId"],
        "alias_name": f"alias/{alias}",
        "alias_arn": f"arn:aws:kms:{REGION}:{DEST_ACCOUNT}:alias/{alias}",
    }


def template(source: tuple[str, str], key: str, tags: dict[str, str]) -> dict[str, Any]:
    return copy_template(source, tags=tags, extra={"KmsKeyId": key})


@each_reading("kms_key_id_described")
@pytest.mark.parametrize("form", FORMS)
def test_a_tag_update_keeps_the_copy_whatever_form_the_key_has(variant, cloud, deploy, source_version, form):
    forms = key_forms(cloud, "models")
    stack = deploy(template(source_version, forms[form], {"a": "1"}))
    held = stack.resources["ModelCopy"].physical_id

    assert stack.update(template(source_version, forms[form], {"b": "2"})) == "UPDATE_COMPLETE"

    assert stack.resources["ModelCopy"].physical_id == held
    tags = stack.session().client("rekognition").list_tags_for_resource(ResourceArn=held)["Tags"]
    assert tags.get("b") == "2" and "a" not in tags
    assert tags[KMS_KEY_TAG] == forms["key_arn"]  # the key marker: the key's ARN, whatever form was declared


@each_reading("kms_key_id_described")
@pytest.mark.parametrize(("before", "after"), [("key_arn", "alias_arn"), ("alias_name", "key_id")])
def test_the_same_key_in_another_form_is_the_same_copy(variant, cloud, deploy, source_version, before, after):
    forms = key_forms(cloud, "models")
    stack = deploy(template(source_version, forms[before], {"a": "1"}))
    held = stack.resources["ModelCopy"].physical_id

    assert stack.update(template(source_version, forms[after], {"a": "2"})) == "UPDATE_COMPLETE"

    assert stack.resources["ModelCopy"].physical_id == held


@each_reading("kms_key_id_described")
def test_another_key_under_the_same_name_is_refused_and_rolled_back(variant, cloud, deploy, source_version):
    first, second = key_forms(cloud, "models"), key_forms(cloud, "other")
    stack = deploy(template(source_version, first["alias_arn"], {"a": "1"}))
    held = stack.resources["ModelCopy"].physical_id

    status = stack.update(template(source_version, second["alias_arn"], {"a": "1"}))

    assert "Changing KmsKeyId needs a new copy" in reasons(cloud)
    assert stack.resources["ModelCopy"].physical_id == held
    assert status == "UPDATE_ROLLBACK_COMPLETE"


@each_reading("kms_key_id_described")
@pytest.mark.parametrize("form", FORMS)
def test_a_key_change_is_refused_whatever_form_either_key_has(variant, cloud, deploy, source_version, form):
    first, second = key_forms(cloud, "models"), key_forms(cloud, "other")
    stack = deploy(template(source_version, first[form], {"a": "1"}))
    held = stack.resources["ModelCopy"].physical_id

    status = stack.update(template(source_version, second["key_id"], {"a": "2"}))

    assert "Changing KmsKeyId needs a new copy" in reasons(cloud)
    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == held
    tags = stack.session().client("rekognition").list_tags_for_resource(ResourceArn=held)["Tags"]
    assert tags.get("a") == "1"


@each_reading("kms_key_id_described")
def test_adding_a_key_to_a_copy_without_one_is_refused(variant, cloud, deploy, source_version):
    key = key_forms(cloud, "models")["alias_name"]
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    held = stack.resources["ModelCopy"].physical_id

    status = stack.update(template(source_version, key, {"a": "1"}))

    assert "Changing KmsKeyId needs a new copy" in reasons(cloud)
    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == held
