"""RekognitionModelPromotion: the policy in the source stack, the copy in the destination one, the wiring."""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Capture, Match, Template

from rekognition_model_copy import (
    POLICY_RESOURCE_TYPE,
    PROVIDER_ID,
    RESOURCE_TYPE,
    ModelCopyValidationError,
    RekognitionModelCopy,
    RekognitionModelCopyProvider,
    RekognitionModelPromotion,
    RekognitionProjectPolicy,
)
from rekognition_model_copy.provider import default_role_name
from tests.conftest import cfn_lint_errors

from .conftest import (
    ACCOUNT,
    DEV_ENV,
    DEV_STACK,
    ENV,
    IMPORTED_KEY_ARN,
    PROD_STACK,
    REGION,
    SOURCE_ACCOUNT,
    SOURCE_KEY_ARN,
    SOURCE_PROJECT_ARN,
    SOURCE_VERSION_2_ARN,
    SOURCE_VERSION_ARN,
    PromotionStacks,
)

COPY = "rekognition:CopyProjectVersion"
PROD_ROLE_NAME = f"{PROD_STACK}-ModelCopy-{REGION}"
PROD_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{PROD_ROLE_NAME}"
PROD_ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"


def _document(template: Template, policy_name: str) -> dict[str, Any]:
    document = Capture()
    template.has_resource_properties(
        POLICY_RESOURCE_TYPE, Match.object_like({"PolicyName": policy_name, "PolicyDocument": document})
    )
    parsed: dict[str, Any] = json.loads(document.as_string())
    return parsed


def _role_statements(template: Template, *statements: Any) -> None:
    template.has_resource_properties(
        "AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with(list(statements))}}
    )


def _statement(actions: Any, resource: Any, **extra: Any) -> Any:
    return Match.object_like({"Effect": "Allow", "Action": actions, "Resource": resource, **extra})


# --- The source stack: the project policy ---------------------------------------------------------


def test_policy_allows_the_destination_copy_role_on_the_exact_version(
    promotion_stacks: PromotionStacks,
) -> None:
    assert _document(promotion_stacks.dev_template, f"{DEV_STACK}.ByRole") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": PROD_ROLE_ARN},
                "Action": COPY,
                "Resource": SOURCE_VERSION_ARN,
            }
        ],
    }
    promotion_stacks.dev_template.has_resource_properties(
        POLICY_RESOURCE_TYPE,
        Match.object_like({"ProjectArn": SOURCE_PROJECT_ARN, "PolicyName": f"{DEV_STACK}.ByRole"}),
    )


def test_account_principal_by_default(promotion_stacks: PromotionStacks) -> None:
    assert _document(promotion_stacks.dev_template, "promote-to-prod")["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": PROD_ROOT_ARN},
            "Action": COPY,
            "Resource": SOURCE_VERSION_2_ARN,
        }
    ]
    assert promotion_stacks.by_account.principal_arn == PROD_ROOT_ARN
    assert promotion_stacks.by_role.principal_arn == PROD_ROLE_ARN


def test_no_wildcard_principal_anywhere(promotion_stacks: PromotionStacks) -> None:
    documents = [
        _document(promotion_stacks.dev_template, n) for n in (f"{DEV_STACK}.ByRole", "promote-to-prod")
    ]
    principals = [s["Principal"]["AWS"] for d in documents for s in d["Statement"]]
    assert principals and all("*" not in p for p in principals)
    promotion_stacks.dev_template.all_resources_properties(
        POLICY_RESOURCE_TYPE,
        Match.object_like({"PolicyDocument": Match.not_(Match.string_like_regexp(r"\*"))}),
    )


def test_policy_document_is_literal_json(promotion_stacks: PromotionStacks) -> None:
    """No token in the source stack names anything of the destination account."""
    promotion_stacks.dev_template.all_resources_properties(
        POLICY_RESOURCE_TYPE, Match.object_like({"PolicyDocument": Match.string_like_regexp(r"^\{.*\}$")})
    )


def test_source_role_manages_policies_of_the_source_project_only(promotion_stacks: PromotionStacks) -> None:
    _role_statements(
        promotion_stacks.dev_template,
        _statement(
            [
                "rekognition:PutProjectPolicy",
                "rekognition:DeleteProjectPolicy",
                "rekognition:ListProjectPolicies",
            ],
            SOURCE_PROJECT_ARN,
        ),
    )
    # The source stack copies nothing: no copy resource, no copy permissions.
    promotion_stacks.dev_template.resource_count_is(RESOURCE_TYPE, 0)
    promotion_stacks.dev_template.resource_count_is(POLICY_RESOURCE_TYPE, 2)
    statements = Capture()
    promotion_stacks.dev_template.has_resource_properties(
        "AWS::IAM::Policy", {"PolicyDocument": {"Statement": statements, "Version": Match.any_value()}}
    )
    rekognition_statements = [s for s in statements.as_array() if "rekognition:" in json.dumps(s["Action"])]
    assert [s["Resource"] for s in rekognition_statements] == [SOURCE_PROJECT_ARN]


# --- The destination stack: the copy, its named role, keys and bucket -----------------------------


def test_copy_role_has_the_deterministic_name(promotion_stacks: PromotionStacks) -> None:
    promotion_stacks.prod_template.has_resource_properties("AWS::IAM::Role", {"RoleName": PROD_ROLE_NAME})
    promotion_stacks.prod_template.resource_count_is("AWS::IAM::Role", 1)
    assert promotion_stacks.by_role.copy_role_name == PROD_ROLE_NAME
    assert promotion_stacks.by_role.copy_role_arn == PROD_ROLE_ARN
    assert promotion_stacks.by_account.copy_role_arn == PROD_ROLE_ARN
    # The source stack has its own (unnamed) function role.
    promotion_stacks.dev_template.has_resource_properties("AWS::IAM::Role", {"RoleName": Match.absent()})


def test_copies_are_in_the_destination_stack(promotion_stacks: PromotionStacks) -> None:
    template = promotion_stacks.prod_template
    template.resource_count_is(RESOURCE_TYPE, 2)
    template.resource_count_is(POLICY_RESOURCE_TYPE, 0)
    template.has_resource_properties(
        RESOURCE_TYPE,
        Match.object_like(
            {
                "SourceProjectArn": SOURCE_PROJECT_ARN,
                "SourceProjectVersionArn": SOURCE_VERSION_ARN,
                "DestinationProjectArn": {"Fn::GetAtt": ["Project", "Arn"]},
                "OutputConfig": {"S3Bucket": Match.any_value(), "S3KeyPrefix": "promoted/by-role/"},
                "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^ModelKey"), "Arn"]},
            }
        ),
    )
    template.has_resource_properties(
        RESOURCE_TYPE,
        Match.object_like({"SourceProjectVersionArn": SOURCE_VERSION_2_ARN, "KmsKeyId": IMPORTED_KEY_ARN}),
    )
    assert Stack.of(promotion_stacks.by_role.copy) is promotion_stacks.prod
    assert promotion_stacks.by_role.policy is not None
    assert Stack.of(promotion_stacks.by_role.policy) is promotion_stacks.dev


def test_kms_rights_on_each_key_alone(promotion_stacks: PromotionStacks) -> None:
    own_key = {"Fn::GetAtt": [Match.string_like_regexp("^ModelKey"), "Arn"]}
    _role_statements(
        promotion_stacks.prod_template,
        _statement(["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"], [own_key, IMPORTED_KEY_ARN]),
        _statement(
            "kms:CreateGrant",
            [own_key, IMPORTED_KEY_ARN, SOURCE_KEY_ARN],
            Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
        # the source model's key: read only (added by the second promotion, hence last)
        _statement(["kms:DescribeKey", "kms:Decrypt"], SOURCE_KEY_ARN),
    )


def test_s3_rights_on_the_output_prefix_only(promotion_stacks: PromotionStacks) -> None:
    bucket_arn = {"Fn::GetAtt": [Match.string_like_regexp("^OutputBucket"), "Arn"]}
    _role_statements(
        promotion_stacks.prod_template,
        # AmazonRekognitionCustomLabelsFullAccess's S3 actions, without ListAllMyBuckets or conditions
        _statement(["s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketLocation"], bucket_arn),
        # copies of one stack share one statement per action set, each adding its own resources only
        _statement(
            [
                "s3:PutObject",
                "s3:GetObject",
                "s3:GetObjectAcl",
                "s3:GetObjectTagging",
                "s3:GetObjectVersion",
            ],
            Match.array_with([{"Fn::Join": ["", [bucket_arn, "/promoted/by-role/*"]]}]),
        ),
    )


def test_key_policy_statements_for_an_imported_key(promotion_stacks: PromotionStacks) -> None:
    by_account = promotion_stacks.by_account
    assert [k.key_arn for k in by_account.imported_keys] == [IMPORTED_KEY_ARN]
    # the principal is the account by default: a key policy naming a role that does not exist is rejected
    assert [s.to_json() for s in by_account.key_policy_statements()] == [
        {
            "Sid": "RekognitionModelCopyOutputKeyUse",
            "Effect": "Allow",
            "Principal": {"AWS": PROD_ROOT_ARN},
            "Action": ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
        },
        {
            "Sid": "RekognitionModelCopyOutputKeyGrants",
            "Effect": "Allow",
            "Principal": {"AWS": PROD_ROOT_ARN},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]

    # A key of the destination stack gets its rights through CDK grants: nothing to add by hand.
    assert promotion_stacks.by_role.imported_keys == []
    assert promotion_stacks.same_account.key_policy_statements() == []


def test_key_policy_statements_for_the_source_models_key(promotion_stacks: PromotionStacks) -> None:
    by_account = promotion_stacks.by_account
    assert by_account.source_kms_key_arn == SOURCE_KEY_ARN
    assert [s.to_json() for s in by_account.source_key_policy_statements()] == [
        {
            "Sid": "RekognitionModelCopySourceKeyUse",
            "Effect": "Allow",
            "Principal": {"AWS": PROD_ROOT_ARN},
            "Action": ["kms:DescribeKey", "kms:Decrypt"],
            "Resource": "*",
        },
        {
            "Sid": "RekognitionModelCopySourceKeyGrants",
            "Effect": "Allow",
            "Principal": {"AWS": PROD_ROOT_ARN},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]
    assert promotion_stacks.by_role.source_kms_key_arn is None
    assert promotion_stacks.by_role.source_key_policy_statements() == []


def test_destination_stack_deploys_after_the_source_stack(promotion_stacks: PromotionStacks) -> None:
    assert promotion_stacks.prod.dependencies == [promotion_stacks.dev]
    assert promotion_stacks.dev.dependencies == []
    assembly = promotion_stacks.app.synth()
    prod = assembly.get_stack_by_name(PROD_STACK)
    assert DEV_STACK in [d.id for d in prod.dependencies]


# --- Same account ---------------------------------------------------------------------------------


def test_same_account_promotion_creates_no_policy_and_no_dependency(
    promotion_stacks: PromotionStacks,
) -> None:
    assert promotion_stacks.same_account.policy is None
    assert not promotion_stacks.same_account.cross_account
    promotion_stacks.same_source_template.resource_count_is(POLICY_RESOURCE_TYPE, 0)
    promotion_stacks.same_destination_template.resource_count_is(POLICY_RESOURCE_TYPE, 0)
    promotion_stacks.same_destination_template.resource_count_is(RESOURCE_TYPE, 1)
    assert promotion_stacks.same_destination.dependencies == []
    assert promotion_stacks.same_source.node.try_find_child("SameAccount") is None


def test_promotion_within_one_stack() -> None:
    stack = Stack(App(), "Single", env=ENV)
    version = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/prod-imported/version/v1/1710000000001"
    promotion = RekognitionModelPromotion(
        id="Copy",
        source_stack=stack,
        destination_stack=stack,
        source_project_arn=f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/prod-imported/1710000000000",
        source_project_version_arn=version,
        destination_project=rekognition.CfnProject(stack, "Project", project_name="prod-copies"),
        version_name="copy",
        output_bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "prod-output"),
    )
    assert promotion.policy is None
    Template.from_stack(stack).resource_count_is(POLICY_RESOURCE_TYPE, 0)


def test_templates_pass_cfn_lint(promotion_stacks: PromotionStacks) -> None:
    for template in (
        promotion_stacks.dev_template,
        promotion_stacks.prod_template,
        promotion_stacks.same_destination_template,
    ):
        assert cfn_lint_errors(template) == []


# --- Role names -----------------------------------------------------------------------------------


def test_default_role_name_fits_iam() -> None:
    app = App()
    short = Stack(app, "Prod", env=ENV)
    assert default_role_name(short) == "Prod-ModelCopy-us-east-1"
    long_names = [Stack(app, "P" * 60 + suffix, env=Environment(region="ap-southeast-2")) for suffix in "ab"]
    names = [default_role_name(stack) for stack in long_names]
    for name in names:
        assert len(name) == 64
        assert re.fullmatch(r"[\w+=,.@-]{1,64}", name)
        assert name.endswith("-ModelCopy-ap-southeast-2")
    assert names[0] != names[1]


def test_default_role_name_needs_a_region() -> None:
    with pytest.raises(ModelCopyValidationError, match=r"'Agnostic' has no concrete Region.*role_name"):
        default_role_name(Stack(App(), "Agnostic"))


def _promote(source: Stack, destination: Stack, **overrides: Any) -> RekognitionModelPromotion:
    kwargs: dict[str, Any] = {
        "id": "Promotion",
        "source_stack": source,
        "destination_stack": destination,
        "source_project_arn": SOURCE_PROJECT_ARN,
        "source_project_version_arn": SOURCE_VERSION_ARN,
        "destination_project": f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/prod/1710000000000",
        "version_name": "promoted",
        "output_bucket": destination.node.try_find_child("Bucket")
        or s3.Bucket.from_bucket_name(destination, "Bucket", "prod-output"),
    }
    kwargs.update(overrides)
    return RekognitionModelPromotion(**kwargs)


def _pair() -> tuple[Stack, Stack]:
    app = App()
    return Stack(app, "Dev", env=DEV_ENV), Stack(app, "Prod", env=ENV)


def test_a_role_named_before_keeps_its_name() -> None:
    dev, prod = _pair()
    RekognitionModelCopyProvider.of(prod, role_name="prod-model-copier")
    promotion = _promote(dev, prod, principal="role")
    assert promotion.copy_role_arn == f"arn:aws:iam::{ACCOUNT}:role/prod-model-copier"
    assert promotion.policy is not None
    assert promotion.policy.statements[0]["Principal"] == {"AWS": promotion.copy_role_arn}
    Template.from_stack(prod).has_resource_properties("AWS::IAM::Role", {"RoleName": "prod-model-copier"})


def test_a_provider_created_before_the_promotion_gets_the_name() -> None:
    dev, prod = _pair()
    bucket = s3.Bucket.from_bucket_name(prod, "Bucket", "prod-output")
    earlier = RekognitionModelCopy(
        prod,
        "Earlier",
        source_project_arn=SOURCE_PROJECT_ARN,
        source_project_version_arn=SOURCE_VERSION_ARN,
        destination_project=f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/prod/1710000000000",
        version_name="earlier",
        output_bucket=bucket,
    )
    assert earlier.provider.role_name is None
    promotion = _promote(dev, prod)
    assert promotion.copy.provider is earlier.provider
    assert earlier.provider.role_name == "Prod-ModelCopy-us-east-1"
    Template.from_stack(prod).has_resource_properties(
        "AWS::IAM::Role", {"RoleName": "Prod-ModelCopy-us-east-1"}
    )


def test_one_role_name_per_stack() -> None:
    _, prod = _pair()
    RekognitionModelCopyProvider.of(prod, role_name="first")
    with pytest.raises(ModelCopyValidationError, match=r"already named 'first'.*'second'"):
        RekognitionModelCopyProvider.of(prod, role_name="second")


def test_bad_role_name() -> None:
    _, prod = _pair()
    with pytest.raises(ModelCopyValidationError, match=r"role_name.*'bad name'"):
        RekognitionModelCopyProvider.of(prod, role_name="bad name")
    assert prod.node.try_find_child(PROVIDER_ID) is None


# --- Sharing a policy -----------------------------------------------------------------------------


def test_promotions_can_share_one_policy() -> None:
    dev, prod = _pair()
    shared = RekognitionProjectPolicy(dev, "Shared", project=SOURCE_PROJECT_ARN)
    first = _promote(dev, prod, project_policy=shared)
    second = _promote(
        dev, prod, id="Second", source_project_version_arn=SOURCE_VERSION_2_ARN, project_policy=shared
    )
    assert first.policy is second.policy is shared
    assert [s["Resource"] for s in shared.statements] == [SOURCE_VERSION_ARN, SOURCE_VERSION_2_ARN]
    Template.from_stack(dev).resource_count_is(POLICY_RESOURCE_TYPE, 1)


# --- Validation -----------------------------------------------------------------------------------


def _agnostic_source() -> tuple[Stack, Stack]:
    app = App()
    return Stack(app, "Dev"), Stack(app, "Prod", env=ENV)


def _region_only_destination() -> tuple[Stack, Stack]:
    app = App()
    return Stack(app, "Dev", env=DEV_ENV), Stack(app, "Prod", env=Environment(region=REGION))


def _other_region() -> tuple[Stack, Stack]:
    app = App()
    return Stack(app, "Dev", env=DEV_ENV), Stack(
        app, "Prod", env=Environment(account=ACCOUNT, region="eu-west-1")
    )


def _source_of_other_account() -> tuple[Stack, Stack]:
    app = App()
    return Stack(app, "Dev", env=Environment(account="333333333333", region=REGION)), Stack(
        app, "Prod", env=ENV
    )


def _id_taken_in_source() -> tuple[Stack, Stack]:
    dev, prod = _pair()
    s3.Bucket(dev, "Promotion")
    return dev, prod


def _policy_name_taken() -> tuple[Stack, Stack]:
    dev, prod = _pair()
    RekognitionProjectPolicy(dev, "Existing", project=SOURCE_PROJECT_ARN, policy_name="to-prod")
    return dev, prod


PROMOTION_ERRORS: list[tuple[str, Any, dict[str, Any], list[str]]] = [
    (
        "agnostic source stack",
        _agnostic_source,
        {},
        ["source_stack 'Dev' has no concrete account and region", "env=Environment(account="],
    ),
    (
        "destination stack without account",
        _region_only_destination,
        {},
        ["destination_stack 'Prod' has no concrete account", "env=Environment"],
    ),
    (
        "stacks in different regions",
        _other_region,
        {},
        ["within one Region", "'us-east-1'", "'eu-west-1'"],
    ),
    (
        "version of another account than the source stack",
        _source_of_other_account,
        {},
        ["source_project_version_arn is in account '111111111111'", "'333333333333'", "Deploy source_stack"],
    ),
    ("unknown principal", _pair, {"principal": "user"}, ["principal must be 'account'", "'role'", "'user'"]),
    (
        "source key given as an alias",
        _pair,
        {"source_kms_key": f"arn:aws:kms:{REGION}:{SOURCE_ACCOUNT}:alias/dev-models"},
        ["source_kms_key must be the ARN of a KMS key", "alias/dev-models", "describe-key"],
    ),
    (
        "source key of another region",
        _pair,
        {"source_kms_key": SOURCE_KEY_ARN.replace(REGION, "eu-west-1")},
        ["source_kms_key", "region 'eu-west-1'", "'us-east-1'"],
    ),
    ("bad policy name", _pair, {"policy_name": "to prod"}, ["policy_name", "'to prod'"]),
    (
        "id taken in the source stack",
        _id_taken_in_source,
        {},
        ["'Promotion' is already taken in stack 'Dev'"],
    ),
    (
        "policy name taken in the app",  # checked by the policy itself: the copy must not be left behind
        _policy_name_taken,
        {"policy_name": "to-prod"},
        ["already has a policy named 'to-prod'"],
    ),
    ("bad version name", _pair, {"version_name": "bad name!"}, ["version_name", "'bad name!'"]),
    (
        "source project of another project",
        _pair,
        {"source_project_arn": SOURCE_PROJECT_ARN.replace("dev-defects", "other")},
        ["source_project_arn", "'other'"],
    ),
    (
        "destination of another account",
        _pair,
        {"destination_project": f"arn:aws:rekognition:{REGION}:444444444444:project/prod/1710000000000"},
        ["destination_project", "'444444444444'"],
    ),
]


@pytest.mark.parametrize(
    "make_stacks, overrides, fragments",
    [case[1:] for case in PROMOTION_ERRORS],
    ids=[case[0] for case in PROMOTION_ERRORS],
)
def test_bad_promotions_fail_before_anything_is_created(
    make_stacks: Any, overrides: dict[str, Any], fragments: list[str]
) -> None:
    source, destination = make_stacks()
    before = {stack: {c.node.id for c in stack.node.children} for stack in (source, destination)}
    with pytest.raises(ModelCopyValidationError) as raised:
        _promote(source, destination, **overrides)
    for fragment in fragments:
        assert fragment in str(raised.value), str(raised.value)
    for stack in (source, destination):
        # Nothing but the bucket reference the test itself imports into the destination stack.
        assert {c.node.id for c in stack.node.children} <= before[stack] | {"Bucket"}
        if PROVIDER_ID not in before[stack]:
            assert stack.node.try_find_child(PROVIDER_ID) is None
        assert stack.dependencies == []


def test_source_key_of_another_account_must_be_a_literal_arn() -> None:
    """A key construct of the dev stack: its ARN is a deploy-time value the prod account cannot import."""
    dev, prod = _pair()
    key = kms.Key(dev, "ModelsKey")
    with pytest.raises(ModelCopyValidationError, match="source_kms_key must be given as a literal key ARN"):
        _promote(dev, prod, source_kms_key=key)
    assert prod.node.try_find_child(PROVIDER_ID) is None
    # the same key by its ARN works, and so does an imported key
    _promote(dev, prod, source_kms_key=SOURCE_KEY_ARN)
    imported = kms.Key.from_key_arn(prod, "SourceKey", SOURCE_KEY_ARN)
    other = _promote(dev, prod, id="Other", version_name="other", source_kms_key=imported)
    assert other.source_kms_key_arn == SOURCE_KEY_ARN


def test_shared_policy_of_another_stack_is_rejected() -> None:
    app = App()
    dev, prod = Stack(app, "Dev", env=DEV_ENV), Stack(app, "Prod", env=ENV)
    elsewhere = RekognitionProjectPolicy(
        Stack(app, "Elsewhere", env=DEV_ENV), "P", project=SOURCE_PROJECT_ARN
    )
    with pytest.raises(ModelCopyValidationError, match=r"not in source_stack 'Dev'"):
        _promote(dev, prod, project_policy=elsewhere)


def test_shared_policy_of_another_project_is_rejected() -> None:
    dev, prod = _pair()
    other = RekognitionProjectPolicy(dev, "P", project=SOURCE_PROJECT_ARN.replace("dev-defects", "other"))
    with pytest.raises(ModelCopyValidationError, match=r"not on the source project"):
        _promote(dev, prod, project_policy=other)


def test_imported_bucket_key_is_listed() -> None:
    dev, prod = _pair()
    key = kms.Key.from_key_arn(prod, "BucketKey", IMPORTED_KEY_ARN)
    bucket = s3.Bucket.from_bucket_attributes(prod, "Bucket", bucket_name="prod-output", encryption_key=key)
    promotion = _promote(dev, prod, output_bucket=bucket)
    assert [k.key_arn for k in promotion.imported_keys] == [IMPORTED_KEY_ARN]
    assert len(promotion.key_policy_statements()) == 2


def test_arguments_are_keyword_only() -> None:
    parameters = list(inspect.signature(RekognitionModelPromotion.__init__).parameters.values())[1:]
    # its own keywords, then those of the copy (CopyProps) unpacked: all keyword-only
    assert {p.kind for p in parameters[:-1]} == {inspect.Parameter.KEYWORD_ONLY}
    assert (parameters[-1].name, parameters[-1].kind) == ("props", inspect.Parameter.VAR_KEYWORD)
    with pytest.raises(TypeError, match="positional"):
        RekognitionModelPromotion("Promotion")  # type: ignore[call-arg]
    assert SOURCE_ACCOUNT != ACCOUNT
