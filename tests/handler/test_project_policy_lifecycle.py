"""Custom::RekognitionProjectPolicy through CloudFormation's lifecycle, on two emulated accounts."""

from __future__ import annotations

import json

import pytest

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, REPO, SOURCE_ACCOUNT, copy_template
from tests.handler.conftest import deploy_dev, policies, policy_document, policy_template


@pytest.fixture
def dev(cloud):
    """The dev account: a trained model; returns (project ARN, version ARN, rekognition client)."""
    project_arn, version_arn = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "v1")
    return project_arn, version_arn, cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition")


PROD = f"arn:aws:iam::{DEST_ACCOUNT}:root"
"""The destination account, as the promotion names it by default (a role must exist to be named)."""


def test_policy_then_copy_promotes_across_accounts(cloud, dev, deploy):
    project_arn, version_arn, client = dev
    dev_stack = deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, PROD)))
    assert dev_stack.status == "CREATE_COMPLETE"
    policy = dev_stack.resources["Policy"]
    revision = policies(client, project_arn)["promote-to-prod"]["PolicyRevisionId"]
    assert policy.physical_id == f"{project_arn}/policy/promote-to-prod/revision/{revision}"
    assert policy.attributes["PolicyRevisionId"] == revision

    template = copy_template((project_arn, version_arn))
    template["Resources"]["Role"]["Properties"]["RoleName"] = "prod-model-copy"
    prod = deploy(template)

    assert prod.status == "CREATE_COMPLETE"
    assert dev_stack.delete() == "DELETE_COMPLETE"
    assert policies(client, project_arn) == {}


def test_the_copy_is_denied_for_a_role_the_policy_does_not_name(cloud, dev, deploy):
    project_arn, version_arn, _ = dev
    named = (
        cloud.session(DEST_ACCOUNT, REGION)
        .client("iam")
        .create_role(RoleName="prod-model-copy", AssumeRolePolicyDocument=json.dumps({"Statement": []}))[
            "Role"
        ]["Arn"]
    )
    deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, named)))
    template = copy_template((project_arn, version_arn))
    template["Resources"]["Role"]["Properties"]["RoleName"] = "some-other-role"

    assert deploy(template).status == "ROLLBACK_COMPLETE"
    assert any("AccessDeniedException" in e.reason for e in cloud.events)


def test_update_uses_the_current_revision_even_when_changed_out_of_band(cloud, dev):
    project_arn, version_arn, client = dev
    stack = deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, PROD)))
    before = stack.resources["Policy"]
    current = policies(client, project_arn)["promote-to-prod"]["PolicyRevisionId"]
    client.put_project_policy(  # someone edits the policy in the console
        ProjectArn=project_arn,
        PolicyName="promote-to-prod",
        PolicyRevisionId=current,
        PolicyDocument=policy_document(version_arn, DEST_ACCOUNT),  # another principal than either
    )

    root = f"arn:aws:iam::{DEST_ACCOUNT}:root"
    new_document = policy_document(version_arn, root)
    assert stack.update(policy_template(project_arn, new_document + " ")) == "UPDATE_COMPLETE"

    after = stack.resources["Policy"]
    stored = policies(client, project_arn)["promote-to-prod"]
    # the id names the revision this stack put: the Delete that follows removes only that revision
    assert after.physical_id == f"{project_arn}/policy/promote-to-prod/revision/{stored['PolicyRevisionId']}"
    assert before.physical_id != after.physical_id
    assert after.attributes["PolicyRevisionId"] == stored["PolicyRevisionId"] != current
    assert json.loads(stored["PolicyDocument"])["Statement"][0]["Principal"]["AWS"] == root


def test_a_new_policy_name_replaces_the_policy(cloud, dev):
    project_arn, version_arn, client = dev
    document = policy_document(version_arn, PROD)
    stack = deploy_dev(cloud, policy_template(project_arn, document))

    assert stack.update(policy_template(project_arn, document, name="promote-v2")) == "UPDATE_COMPLETE"

    assert set(policies(client, project_arn)) == {"promote-v2"}


def test_a_policy_this_stack_did_not_create_is_never_touched(cloud, dev):
    project_arn, version_arn, client = dev
    foreign = policy_document(version_arn, "arn:aws:iam::333333333333:root")  # another document
    client.put_project_policy(ProjectArn=project_arn, PolicyName="promote-to-prod", PolicyDocument=foreign)

    stack = deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, PROD)))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert any("did not create" in e.reason for e in cloud.events)
    assert policies(client, project_arn)["promote-to-prod"]["PolicyDocument"] == foreign


def test_delete_of_a_policy_already_gone_succeeds(cloud, dev):
    project_arn, version_arn, client = dev
    stack = deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, PROD)))
    client.delete_project_policy(ProjectArn=project_arn, PolicyName="promote-to-prod")

    assert stack.delete() == "DELETE_COMPLETE"


def test_a_malformed_document_fails_with_the_service_message(cloud, dev):
    project_arn, version_arn, _ = dev
    document = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "x", "Resource": "*"}]}
    )

    stack = deploy_dev(cloud, policy_template(project_arn, document))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert any("MalformedPolicyDocumentException" in e.reason for e in cloud.events)


def test_a_promotion_with_a_customer_key_encrypts_the_copy_with_it(cloud, dev, deploy):
    project_arn, version_arn, _ = dev
    deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, PROD)))
    template = copy_template((project_arn, version_arn), kms=True)
    template["Resources"]["Role"]["Properties"]["RoleName"] = "prod-model-copy"

    prod = deploy(template)

    assert prod.status == "CREATE_COMPLETE"
    client = prod.session().client("rekognition")
    project = prod.resources["Project"].attributes["Arn"]
    (version,) = client.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
    assert version["KmsKeyId"] == prod.resources["Key"].attributes["Arn"]
    assert version["SourceProjectVersionArn"] == version_arn


def test_a_policy_two_stacks_declare_is_owned_by_the_first_and_outlives_the_other(cloud, dev):
    project_arn, version_arn, client = dev
    template = policy_template(project_arn, policy_document(version_arn, PROD))
    first = cloud.stack("dev-a", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    second = cloud.stack("dev-b", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    assert first.create(template) == "CREATE_COMPLETE"
    assert second.create(template) == "CREATE_COMPLETE"

    assert second.delete() == "DELETE_COMPLETE"
    assert set(policies(client, project_arn)) == {"promote-to-prod"}  # the second stack only relied on it
    assert first.delete() == "DELETE_COMPLETE"
    assert policies(client, project_arn) == {}


def test_a_policy_put_by_someone_else_after_an_out_of_band_delete_is_never_deleted(cloud, dev):
    project_arn, version_arn, client = dev
    document = policy_document(version_arn, PROD)
    stack = deploy_dev(cloud, policy_template(project_arn, document))
    client.delete_project_policy(ProjectArn=project_arn, PolicyName="promote-to-prod")
    client.put_project_policy(ProjectArn=project_arn, PolicyName="promote-to-prod", PolicyDocument=document)
    theirs = policies(client, project_arn)["promote-to-prod"]["PolicyRevisionId"]

    assert stack.delete() == "DELETE_COMPLETE"

    assert policies(client, project_arn)["promote-to-prod"]["PolicyRevisionId"] == theirs


def test_the_five_policy_limit_is_named_as_a_fixed_limit(cloud, dev):
    project_arn, version_arn, client = dev
    for i in range(5):
        client.put_project_policy(
            ProjectArn=project_arn,
            PolicyName=f"other-{i}",
            PolicyDocument=policy_document(version_arn, DEST_ACCOUNT),
        )

    stack = deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, PROD)))

    assert stack.status == "ROLLBACK_COMPLETE"
    reason = next(e.reason for e in cloud.events if e.status == "CREATE_FAILED" and e.logical_id == "Policy")
    assert "already has 5 project policies" in reason and "not a quota to raise" in reason
    assert "ask for more" not in reason
