"""Custom::RekognitionProjectPolicy: properties, the rendered document, grants, synth-time validation."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rekognition as rekognition
from aws_cdk.assertions import Capture, Match, Template

from rekognition_model_copy import (
    POLICY_RESOURCE_TYPE,
    PROVIDER_ID,
    RESOURCE_TYPE,
    ModelCopyValidationError,
    RekognitionModelCopy,
    RekognitionProjectPolicy,
)
from rekognition_model_copy.project_policy import default_policy_name
from tests.conftest import cfn_lint_errors

from .conftest import (
    ACCOUNT,
    DEV_ENV,
    REGION,
    ROLE_ARN,
    SOURCE_ACCOUNT,
    SOURCE_PROJECT_ARN,
    SOURCE_VERSION_2_ARN,
    SOURCE_VERSION_ARN,
    PolicyStacks,
    valid_kwargs,
)

COPY = "rekognition:CopyProjectVersion"


def _document(template: Template, policy_name: str) -> dict[str, Any]:
    """The PolicyDocument (a JSON string property) of the policy named ``policy_name``, parsed."""
    document = Capture()
    template.has_resource_properties(
        POLICY_RESOURCE_TYPE, Match.object_like({"PolicyName": policy_name, "PolicyDocument": document})
    )
    parsed: dict[str, Any] = json.loads(document.as_string())
    return parsed


def test_properties_are_the_handlers_contract(policy_stacks: PolicyStacks) -> None:
    function_id = Capture()
    policy_stacks.template.has_resource_properties(
        POLICY_RESOURCE_TYPE,
        {
            "ServiceToken": {"Fn::GetAtt": [function_id, "Arn"]},
            "ProjectArn": SOURCE_PROJECT_ARN,
            "PolicyName": "PolicyStack.ByArn",
            "PolicyDocument": Match.any_value(),
            "ServiceTimeout": "600",
        },
    )
    assert function_id.as_string().startswith("RekognitionModelCopyProviderFunction")
    policy_stacks.template.resource_count_is(POLICY_RESOURCE_TYPE, 3)
    policy_stacks.template.resource_count_is("AWS::Lambda::Function", 1)


def test_document_holds_one_statement_per_permission(policy_stacks: PolicyStacks) -> None:
    assert _document(policy_stacks.template, "PolicyStack.ByArn") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ToProd",
                "Effect": "Allow",
                "Principal": {"AWS": ROLE_ARN},
                "Action": COPY,
                "Resource": SOURCE_VERSION_ARN,
            },
            # A bare account id is written as the account root ARN; the duplicate was dropped.
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
                "Action": COPY,
                "Resource": SOURCE_VERSION_2_ARN,
            },
            {
                "Effect": "Deny",
                "Principal": {"AWS": "arn:aws:iam::555555555555:root"},
                "Action": COPY,
                "Resource": SOURCE_VERSION_ARN,
            },
        ],
    }


def test_document_is_compact_json(policy_stacks: PolicyStacks) -> None:
    rendered = policy_stacks.by_arn.render()
    assert ", " not in rendered and ": " not in rendered
    assert json.loads(rendered)["Statement"] == policy_stacks.by_arn.statements


def test_policy_on_a_cfn_project_references_its_arn(policy_stacks: PolicyStacks) -> None:
    policy_stacks.template.has_resource_properties(
        POLICY_RESOURCE_TYPE,
        Match.object_like(
            {"ProjectArn": {"Fn::GetAtt": ["Project", "Arn"]}, "PolicyName": "PolicyStack.OnCfnProject"}
        ),
    )


def test_retain_and_custom_name_and_timeout(policy_stacks: PolicyStacks) -> None:
    policy_stacks.template.has_resource(
        POLICY_RESOURCE_TYPE,
        {
            "Properties": Match.object_like({"PolicyName": "keep-me", "ServiceTimeout": "180"}),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    policy_stacks.template.has_resource(
        POLICY_RESOURCE_TYPE,
        {"Properties": Match.object_like({"PolicyName": "PolicyStack.ByArn"}), "DeletionPolicy": "Delete"},
    )


def test_policy_revision_id_is_the_handlers_data_key(policy_stacks: PolicyStacks) -> None:
    stack, policy = policy_stacks.stack, policy_stacks.by_arn
    logical_id = stack.get_logical_id(policy.resource.node.default_child)  # type: ignore[arg-type]
    assert stack.resolve(policy.policy_revision_id) == {"Fn::GetAtt": [logical_id, "PolicyRevisionId"]}


def test_role_may_manage_policies_of_these_projects_only(policy_stacks: PolicyStacks) -> None:
    actions = [
        "rekognition:PutProjectPolicy",
        "rekognition:DeleteProjectPolicy",
        "rekognition:ListProjectPolicies",
    ]
    statement = Capture()
    policy_stacks.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                # one statement for the stack's policies (they share it), on their projects only
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Action": actions,
                                "Resource": [SOURCE_PROJECT_ARN, {"Fn::GetAtt": ["Project", "Arn"]}],
                            }
                        ),
                    ]
                ),
            }
        },
    )
    # Nothing else of Rekognition: a stack with policies only can copy nothing.
    policy_stacks.template.has_resource_properties(
        "AWS::IAM::Policy", {"PolicyDocument": {"Statement": statement, "Version": Match.any_value()}}
    )
    rekognition_actions = {
        action
        for s in statement.as_array()
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        if action.startswith("rekognition:")
    }
    assert rekognition_actions == set(actions)


def test_policy_waits_for_the_functions_permissions(policy_stacks: PolicyStacks) -> None:
    policy_stacks.template.all_resources(
        POLICY_RESOURCE_TYPE,
        Match.object_like(
            {
                "DependsOn": Match.array_with(
                    [
                        Match.string_like_regexp("^RekognitionModelCopyProviderFunctionEventInvokeConfig"),
                        Match.string_like_regexp("^RekognitionModelCopyProviderFunctionPollingRulesInvoke"),
                        Match.string_like_regexp("^RekognitionModelCopyProviderServiceRoleDefaultPolicy"),
                    ]
                )
            }
        ),
    )


def test_policies_and_copies_share_the_stacks_function() -> None:
    stack = Stack(App(), "Shared", env=Environment(account=ACCOUNT, region=REGION))
    copy = RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    local_project = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/prod/1710000000000"
    policy = RekognitionProjectPolicy(stack, "Policy", project=local_project)
    assert policy.provider is copy.provider
    assert stack.resolve(policy.provider.service_token) == stack.resolve(copy.provider.service_token)


def test_policy_templates_pass_cfn_lint(policy_stacks: PolicyStacks) -> None:
    assert cfn_lint_errors(policy_stacks.template) == []


# --- Default names --------------------------------------------------------------------------------------


def test_default_policy_name_is_the_stack_name_and_path() -> None:
    stack = Stack(App(), "Dev-Stack", env=DEV_ENV)
    nested = iam.Role(stack, "Some Group", assumed_by=iam.AccountRootPrincipal())
    assert default_policy_name(stack, "Promote") == "Dev-Stack.Promote"
    assert default_policy_name(nested, "To Prod!") == "Dev-Stack.Some-Group.To-Prod-"


def test_long_default_policy_name_is_cut_with_a_hash() -> None:
    stack = Stack(App(), "S" * 100, env=DEV_ENV)
    first = default_policy_name(stack, "P" * 40)
    second = default_policy_name(stack, "P" * 41)
    assert len(first) == len(second) == 128
    assert first != second
    assert first.startswith("S" * 100 + ".PPP")


# --- Validation -------------------------------------------------------------------------------------------


def _stack(env: Environment | None = DEV_ENV) -> Stack:
    return Stack(App(), "Validation", env=env)


OTHER_PROJECT_VERSION = SOURCE_VERSION_ARN.replace("dev-defects", "other")

CONSTRUCTOR_ERRORS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("project arn shape", {"project": "dev-defects"}, ["project must be", "'dev-defects'"]),
    ("version arn as project", {"project": SOURCE_VERSION_ARN}, ["project version ARN"]),
    (
        "project of another account",
        {"project": SOURCE_PROJECT_ARN.replace(SOURCE_ACCOUNT, ACCOUNT)},
        ["account", f"'{ACCOUNT}'", f"'{SOURCE_ACCOUNT}'", "only the project's own account"],
    ),
    (
        "project in another region",
        {"project": SOURCE_PROJECT_ARN.replace(REGION, "eu-west-1")},
        ["Region 'eu-west-1'", f"'{REGION}'"],
    ),
    ("policy name pattern", {"policy_name": "to prod"}, ["policy_name", "'to prod'", "1-128"]),
    ("policy name too long", {"policy_name": "p" * 129}, ["policy_name", "1-128"]),
    ("policy name empty", {"policy_name": ""}, ["policy_name", "''"]),
    ("timeout", {"timeout": Duration.hours(2)}, ["timeout", "7200 s"]),
]


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [case[1:] for case in CONSTRUCTOR_ERRORS],
    ids=[case[0] for case in CONSTRUCTOR_ERRORS],
)
def test_bad_constructor_arguments_fail_before_anything_is_created(
    overrides: dict[str, Any], fragments: list[str]
) -> None:
    stack = _stack()
    kwargs: dict[str, Any] = {"project": SOURCE_PROJECT_ARN, **overrides}
    with pytest.raises(ModelCopyValidationError) as raised:
        RekognitionProjectPolicy(stack, "Policy", **kwargs)
    for fragment in fragments:
        assert fragment in str(raised.value), str(raised.value)
    assert stack.node.try_find_child("Policy") is None
    assert stack.node.try_find_child(PROVIDER_ID) is None


PERMISSION_ERRORS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("wildcard principal", {"principal": "*"}, ["'*'", "Wildcard principals", "account root ARN"]),
    (
        "wildcard in a role arn",
        {"principal": f"arn:aws:iam::{ACCOUNT}:role/*"},
        ["Wildcard principals", "role/*"],
    ),
    (
        "user principal",
        {"principal": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        ["IAM role ARN", "user/alice", "Users"],
    ),
    ("service principal", {"principal": "rekognition.amazonaws.com"}, ["IAM role ARN", "service principals"]),
    ("short account id", {"principal": "12345"}, ["'12345'", "12-digit"]),
    (
        "principal of another partition",
        {"principal": f"arn:aws-cn:iam::{ACCOUNT}:role/copier"},
        ["partition 'aws-cn'", "'aws'"],
    ),
    (
        "version of another project",
        {"source_project_version_arn": OTHER_PROJECT_VERSION},
        ["version of the policy's project", "project name is 'other'", "'dev-defects'"],
    ),
    (
        "version of another account",
        {"source_project_version_arn": SOURCE_VERSION_ARN.replace(SOURCE_ACCOUNT, "333333333333")},
        ["account is '333333333333'"],
    ),
    (
        "wildcard version",
        {"source_project_version_arn": f"{SOURCE_PROJECT_ARN.rsplit('/', 1)[0]}/version/*"},
        ["exact ARN of one model version", "Wildcards"],
    ),
    (
        "project arn as resource",
        {"source_project_version_arn": SOURCE_PROJECT_ARN},
        ["source_project_version_arn must be a Rekognition project version ARN"],
    ),
    ("sid with punctuation", {"sid": "to-prod"}, ["sid", "'to-prod'", "letters and digits"]),
]


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [case[1:] for case in PERMISSION_ERRORS],
    ids=[case[0] for case in PERMISSION_ERRORS],
)
def test_bad_permissions_are_rejected_when_added(overrides: dict[str, Any], fragments: list[str]) -> None:
    policy = RekognitionProjectPolicy(_stack(), "Policy", project=SOURCE_PROJECT_ARN)
    kwargs: dict[str, Any] = {
        "principal": ROLE_ARN,
        "source_project_version_arn": SOURCE_VERSION_ARN,
        **overrides,
    }
    with pytest.raises(ModelCopyValidationError) as raised:
        policy.add_copy_permission(**kwargs)
    for fragment in fragments:
        assert fragment in str(raised.value), str(raised.value)
    assert policy.statements == []


def _principal_statement(**kwargs: Any) -> iam.PolicyStatement:
    defaults: dict[str, Any] = {
        "principals": [iam.ArnPrincipal(ROLE_ARN)],
        "actions": [COPY],
        "resources": [SOURCE_VERSION_ARN],
    }
    return iam.PolicyStatement(**{**defaults, **kwargs})


STATEMENT_ERRORS: list[tuple[str, Any, list[str]]] = [
    (
        "other action",
        lambda: _principal_statement(actions=[COPY, "rekognition:DescribeProjectVersions"]),
        ["only allow or deny 'rekognition:CopyProjectVersion'", "DescribeProjectVersions"],
    ),
    ("action wildcard", lambda: _principal_statement(actions=["rekognition:*"]), ["'rekognition:*'"]),
    (
        "not action",
        lambda: _principal_statement(actions=[], not_actions=["rekognition:DeleteProject"]),
        ["NotAction", "Rekognition rejects it"],
    ),
    (
        "not resource",
        lambda: _principal_statement(resources=[], not_resources=[SOURCE_VERSION_ARN]),
        ["NotResource"],
    ),
    (
        "not principal",
        lambda: _principal_statement(principals=[], not_principals=[iam.ArnPrincipal(ROLE_ARN)]),
        ["NotPrincipal"],
    ),
    ("any principal", lambda: _principal_statement(principals=[iam.AnyPrincipal()]), ["Wildcard principals"]),
    (
        "service principal",
        lambda: _principal_statement(principals=[iam.ServicePrincipal("lambda.amazonaws.com")]),
        ["{'AWS': <account or role ARN>}", "Service"],
    ),
    ("no principal", lambda: _principal_statement(principals=[]), ["needs Principal"]),
    ("no resource", lambda: _principal_statement(resources=[]), ["needs Resource"]),
]


@pytest.mark.parametrize(
    "make_statement, fragments",
    [case[1:] for case in STATEMENT_ERRORS],
    ids=[case[0] for case in STATEMENT_ERRORS],
)
def test_statements_breaking_project_policy_rules_are_rejected(
    make_statement: Any, fragments: list[str]
) -> None:
    policy = RekognitionProjectPolicy(_stack(), "Policy", project=SOURCE_PROJECT_ARN)
    with pytest.raises(ModelCopyValidationError) as raised:
        policy.add_statement(make_statement())
    for fragment in fragments:
        assert fragment in str(raised.value), str(raised.value)
    assert policy.statements == []


def test_duplicate_sid_is_rejected() -> None:
    policy = RekognitionProjectPolicy(_stack(), "Policy", project=SOURCE_PROJECT_ARN)
    policy.add_copy_permission(principal=ROLE_ARN, source_project_version_arn=SOURCE_VERSION_ARN, sid="Prod")
    with pytest.raises(ModelCopyValidationError, match=r"already has a statement with sid 'Prod'"):
        policy.add_copy_permission(
            principal="444444444444", source_project_version_arn=SOURCE_VERSION_ARN, sid="Prod"
        )


def test_document_over_2000_characters_is_packed_into_one_statement() -> None:
    """One statement per permission would exceed 2000 characters: the permissions are packed (one statement,
    its principals a list). Too many to pack fail the synthesis: tests/constructs/test_fan_out.py."""
    app = App()
    stack = Stack(app, "Big", env=DEV_ENV)
    policy = RekognitionProjectPolicy(stack, "Policy", project=SOURCE_PROJECT_ARN)
    for account in range(100000000000, 100000000009):
        policy.add_copy_permission(principal=str(account), source_project_version_arn=SOURCE_VERSION_ARN)
    assert len(policy.render()) > 2000
    app.synth()
    (document,) = policy.documents()
    assert len(document) <= 2000
    (statement,) = json.loads(document)["Statement"]
    assert statement["Principal"]["AWS"] == [
        f"arn:aws:iam::{account}:root" for account in range(100000000000, 100000000009)
    ]
    _document(Template.from_stack(stack), "Big.Policy")


def test_document_of_2000_characters_is_accepted() -> None:
    app = App()
    stack = Stack(app, "Fits", env=DEV_ENV)
    policy = RekognitionProjectPolicy(stack, "Policy", project=SOURCE_PROJECT_ARN)
    for account in range(100000000000, 100000000008):
        policy.add_copy_permission(principal=str(account), source_project_version_arn=SOURCE_VERSION_ARN)
    assert len(policy.render()) <= 2000
    app.synth()


def test_policy_without_statements_fails_the_synthesis() -> None:
    app = App()
    RekognitionProjectPolicy(Stack(app, "Empty", env=DEV_ENV), "Policy", project=SOURCE_PROJECT_ARN)
    with pytest.raises(RuntimeError, match=r"'Empty.Policy' has no statements.*add_copy_permission"):
        app.synth()


def test_at_most_five_policies_per_project_in_an_app() -> None:
    app = App()
    one, two = Stack(app, "One", env=DEV_ENV), Stack(app, "Two", env=DEV_ENV)
    for index in range(3):
        RekognitionProjectPolicy(one, f"P{index}", project=SOURCE_PROJECT_ARN)
    for index in range(2):
        RekognitionProjectPolicy(two, f"P{index}", project=SOURCE_PROJECT_ARN)
    with pytest.raises(ModelCopyValidationError) as raised:
        RekognitionProjectPolicy(two, "P2", project=SOURCE_PROJECT_ARN)
    assert "at most 5 project policies" in str(raised.value)
    assert "One/P0" in str(raised.value) and "add_copy_permission" in str(raised.value)
    assert two.node.try_find_child("P2") is None
    # Another project of the same account is not affected.
    RekognitionProjectPolicy(two, "Other", project=SOURCE_PROJECT_ARN.replace("dev-defects", "other"))


def test_one_name_once_per_project() -> None:
    stack = _stack()
    RekognitionProjectPolicy(stack, "First", project=SOURCE_PROJECT_ARN, policy_name="to-prod")
    with pytest.raises(
        ModelCopyValidationError, match=r"already has a policy named 'to-prod'.*Validation/First"
    ):
        RekognitionProjectPolicy(stack, "Second", project=SOURCE_PROJECT_ARN, policy_name="to-prod")


def test_tokens_skip_validation() -> None:
    stack = _stack(env=None)
    token = CfnParameter(stack, "Anything").value_as_string
    policy = RekognitionProjectPolicy(stack, "Policy", project=token, policy_name=token)
    policy.add_copy_permission(principal=token, source_project_version_arn=token)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        POLICY_RESOURCE_TYPE,
        Match.object_like(
            {"ProjectArn": {"Ref": "Anything"}, "PolicyDocument": {"Fn::Join": Match.any_value()}}
        ),
    )


def test_cfn_project_of_an_agnostic_stack_is_accepted() -> None:
    stack = _stack(env=None)
    project = rekognition.CfnProject(stack, "Project", project_name="dev-local")
    policy = RekognitionProjectPolicy(stack, "Policy", project=project)
    version = f"arn:aws:rekognition:{REGION}:{SOURCE_ACCOUNT}:project/dev-local/version/v1/1700000000003"
    policy.add_copy_permission(principal=ROLE_ARN, source_project_version_arn=version)
    with pytest.raises(ModelCopyValidationError, match=r"project name is 'dev-defects'.*'dev-local'"):
        policy.add_copy_permission(principal=ROLE_ARN, source_project_version_arn=SOURCE_VERSION_ARN)


def test_arguments_after_scope_and_id_are_keyword_only() -> None:
    for function in (RekognitionProjectPolicy.__init__, RekognitionProjectPolicy.add_copy_permission):
        parameters = list(inspect.signature(function).parameters.values())
        names = [p.name for p in parameters]
        positional = 3 if names[:3] == ["self", "scope", "id"] else 1
        assert {p.kind for p in parameters[positional:]} == {inspect.Parameter.KEYWORD_ONLY}


def test_copy_resource_type_is_unchanged() -> None:
    assert (RESOURCE_TYPE, POLICY_RESOURCE_TYPE) == (
        "Custom::RekognitionModelCopy",
        "Custom::RekognitionProjectPolicy",
    )
