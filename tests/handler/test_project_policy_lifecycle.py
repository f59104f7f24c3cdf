"""Custom::RekognitionProjectPolicy through CloudFormation's lifecycle, on two emulated accounts."""

from __future__ import annotations

import json

import pytest

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, REPO, SOURCE_ACCOUNT, copy_template
from tests.handler.conftest import deploy_dev, granted, policies, policy_document, policy_template
from tests.variants import each_reading, variant_fixture  # noqa: F401 - the variant fixture


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


# --- under each reading of what AWS does not document ------------------------------------------------------


def _with_later(template, later_document):
    """``template`` with a second policy resource, updated after ``Policy``: a malformed document there
    fails the update after ``Policy`` was updated, and the stack rolls back."""
    later = json.loads(json.dumps(template["Resources"]["Policy"]))
    later["Properties"].update(PolicyName="later", PolicyDocument=later_document)
    later["DependsOn"] = ["Policy"]
    template["Resources"]["Later"] = later
    return template


@each_reading("delete_policy_revision")
def test_an_in_place_update_keeps_the_policy_it_put(variant, cloud, dev):
    project_arn, version_arn, client = dev
    stack = deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, PROD)))
    changed = policy_document(version_arn, DEST_ACCOUNT)

    assert stack.update(policy_template(project_arn, changed)) == "UPDATE_COMPLETE"

    # CloudFormation's cleanup deleted the id of the previous revision; the policy the update put stays
    stored = policies(client, project_arn)["promote-to-prod"]
    assert granted(stored["PolicyDocument"]) == json.loads(changed)
    revision = stored["PolicyRevisionId"]
    expected = f"{project_arn}/policy/promote-to-prod/revision/{revision}"
    assert stack.resources["Policy"].physical_id == expected
    assert stack.delete() == "DELETE_COMPLETE"
    assert policies(client, project_arn) == {}


@each_reading("delete_policy_revision")
def test_a_rolled_back_rename_leaves_nothing_after_the_stack_delete(variant, cloud, dev):
    project_arn, version_arn, client = dev
    document = policy_document(version_arn, PROD)
    stack = deploy_dev(cloud, _with_later(policy_template(project_arn, document), document))
    before = stack.resources["Policy"].physical_id

    renamed = _with_later(policy_template(project_arn, document, name="promote-v2"), "not json")
    assert stack.update(renamed) == "UPDATE_ROLLBACK_COMPLETE"

    assert set(policies(client, project_arn)) == {"promote-to-prod", "later"}  # promote-v2 cleaned up
    assert stack.resources["Policy"].physical_id == before  # the old policy is this stack's own again
    assert stack.delete() == "DELETE_COMPLETE"
    assert policies(client, project_arn) == {}


@each_reading("delete_policy_revision")
def test_a_shared_policy_outlives_the_stack_that_put_it_while_another_declares_it(
    variant, cloud, dev, deploy
):
    project_arn, version_arn, client = dev
    template = policy_template(project_arn, policy_document(version_arn, PROD))
    first = cloud.stack("dev-a", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    second = cloud.stack("dev-b", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    assert first.create(template) == "CREATE_COMPLETE"
    assert second.create(template) == "CREATE_COMPLETE"

    assert first.delete() == "DELETE_COMPLETE"  # the stack that put it goes first

    assert set(policies(client, project_arn)) == {"promote-to-prod"}  # the second still declares it
    copy = copy_template((project_arn, version_arn))
    copy["Resources"]["Role"]["Properties"]["RoleName"] = "prod-model-copy"
    assert deploy(copy).status == "CREATE_COMPLETE"  # and it still allows the copy
    assert second.delete() == "DELETE_COMPLETE"
    assert policies(client, project_arn) == {}  # the last one deleted it


@each_reading("delete_policy_revision")
def test_a_shared_policy_updated_by_the_stack_that_put_it_stays_shared(variant, cloud, dev):
    project_arn, version_arn, client = dev
    first = cloud.stack("dev-a", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    second = cloud.stack("dev-b", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    template = policy_template(project_arn, policy_document(version_arn, PROD))
    assert first.create(template) == "CREATE_COMPLETE"
    assert second.create(template) == "CREATE_COMPLETE"
    changed = policy_template(project_arn, policy_document(version_arn, DEST_ACCOUNT))

    assert first.update(changed) == "UPDATE_COMPLETE"
    assert first.delete() == "DELETE_COMPLETE"

    assert set(policies(client, project_arn)) == {"promote-to-prod"}
    assert second.delete() == "DELETE_COMPLETE"
    assert policies(client, project_arn) == {}


def test_a_document_too_long_to_carry_the_sharing_list_fails_the_second_stack(cloud, dev):
    project_arn, version_arn, client = dev
    principals = [f"arn:aws:iam::{100000000000 + i}:root" for i in range(53)]
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": principals},
                    "Action": "rekognition:CopyProjectVersion",
                    "Resource": version_arn,
                }
            ],
        },
        separators=(",", ":"),
    )
    assert len(document) > 2000 - 40  # room for no sharing list
    template = policy_template(project_arn, document)
    first = cloud.stack("dev-a", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    second = cloud.stack("dev-b", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    assert first.create(template) == "CREATE_COMPLETE"

    assert second.create(template) == "ROLLBACK_COMPLETE"

    reason = next(e.reason for e in cloud.events if e.status == "CREATE_FAILED" and e.logical_id == "Policy")
    assert "more than the 2000 PutProjectPolicy allows" in reason and "its own name" in reason
    assert policies(client, project_arn)["promote-to-prod"]["PolicyDocument"] == document  # untouched
    assert first.delete() == "DELETE_COMPLETE"
    assert policies(client, project_arn) == {}


@each_reading("role_principal_binding")
def test_a_policy_naming_a_role_under_each_binding(variant, cloud, dev, deploy):
    project_arn, version_arn, client = dev
    iam = cloud.session(DEST_ACCOUNT, REGION).client("iam")
    role = iam.create_role(RoleName="prod-model-copy", AssumeRolePolicyDocument=json.dumps({"Statement": []}))
    document = policy_document(version_arn, role["Role"]["Arn"])
    stack = deploy_dev(cloud, policy_template(project_arn, document))
    assert stack.status == "CREATE_COMPLETE"
    iam.delete_role(RoleName="prod-model-copy")  # the prod stack then creates it again
    copy = copy_template((project_arn, version_arn))
    copy["Resources"]["Role"]["Properties"]["RoleName"] = "prod-model-copy"

    prod = deploy(copy)

    if variant["role_principal_binding"] == "unique_id":  # the policy names the deleted role
        assert prod.status == "ROLLBACK_COMPLETE"
        assert any("AccessDeniedException" in e.reason for e in cloud.events)
    else:
        assert prod.status == "CREATE_COMPLETE"
    # the policy resource itself is right either way: an update to another principal, then the delete
    assert stack.update(policy_template(project_arn, policy_document(version_arn, PROD))) == "UPDATE_COMPLETE"
    assert stack.delete() == "DELETE_COMPLETE"
    assert policies(client, project_arn) == {}


@pytest.mark.variant(policy_propagation_delay=30.0)
def test_a_policy_that_takes_effect_late_is_put_and_deleted_as_at_once(variant, cloud, dev):
    project_arn, version_arn, client = dev
    copier = cloud.session(DEST_ACCOUNT, REGION).client("rekognition")
    destination = copier.create_project(ProjectName="prod")["ProjectArn"]
    stack = deploy_dev(cloud, policy_template(project_arn, policy_document(version_arn, PROD)))
    assert stack.status == "CREATE_COMPLETE"
    request = {
        "SourceProjectArn": project_arn,
        "SourceProjectVersionArn": version_arn,
        "DestinationProjectArn": destination,
        "OutputConfig": {"S3Bucket": "prod-output", "S3KeyPrefix": "copies/"},
    }
    # right after the put, the copy is denied: what a copy resource must ride out (AccessDeniedException
    # "because no resource-based policy allows the rekognition:CopyProjectVersion action", within the delay)
    with pytest.raises(copier.exceptions.AccessDeniedException, match="no resource-based policy allows"):
        copier.copy_project_version(VersionName="early", **request)
    cloud.settle(30)
    copier.copy_project_version(VersionName="in-force", **request)
    assert stack.delete() == "DELETE_COMPLETE"
    assert policies(client, project_arn) == {}
