"""Fan-out at the construct level: a project policy packed into parts within PutProjectPolicy's limits, the
stated maximum of destination accounts (it synthesises, one more fails naming the limits), promotions of one
source project sharing one policy, promotions across pipeline stages, and the quality bar on the policy."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Stage
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from rekognition_model_copy import (
    POLICY_RESOURCE_TYPE,
    RESOURCE_TYPE,
    ModelCopyValidationError,
    RekognitionModelPromotion,
    RekognitionProjectPolicy,
    packing,
)
from tests.conftest import cfn_lint_errors

from .conftest import DEV_ENV, ENV, REGION, SOURCE_PROJECT_ARN, SOURCE_VERSION_ARN

STATED_MAXIMUM = 106
"""Destination accounts (account roots) one version reaches from a project without other policies: two
parts (2 x parts <= 5 while old and new parts coexist) of 53 account roots each."""
NAME = "Dev.FanOut"


def account(n: int) -> str:
    return f"{200000000000 + n:012d}"


def fan_out(count: int, *, app: App | None = None, stack_name: str = "Dev", **kwargs: Any) -> Any:
    """A policy of ``stack_name`` allowing ``count`` accounts to copy the version: (app, stack, policy)."""
    app = app or App()
    stack = Stack(app, stack_name, env=DEV_ENV)
    policy = RekognitionProjectPolicy(stack, "FanOut", project=SOURCE_PROJECT_ARN, **kwargs)
    for n in range(count):
        policy.add_copy_permission(principal=account(n), source_project_version_arn=SOURCE_VERSION_ARN)
    return app, stack, policy


def parts(template: Template) -> dict[str, dict[str, Any]]:
    """Logical id -> properties of the template's project policies."""
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template.find_resources(POLICY_RESOURCE_TYPE).items()
    }


def principals(documents: list[str]) -> list[str]:
    found: list[str] = []
    for document in documents:
        assert len(document) <= 2000
        for statement in json.loads(document)["Statement"]:
            value = statement["Principal"]["AWS"]
            found.extend([value] if isinstance(value, str) else value)
    return found


def roots(count: int, start: int = 0) -> list[str]:
    return [f"arn:aws:iam::{account(n)}:root" for n in range(start, count)]


# --- Packing into parts ------------------------------------------------------------------------------------


def test_statements_that_do_not_fit_one_by_one_are_merged_into_one_document() -> None:
    """Nine accounts: one statement each would exceed 2000 characters; one statement, nine principals fits."""
    _, stack, policy = fan_out(9)
    assert len(policy.render()) > 2000
    (properties,) = parts(Template.from_stack(stack)).values()
    assert properties["PolicyName"] == NAME  # one part keeps the plain name (updated in place)
    assert json.loads(properties["PolicyDocument"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": roots(9)},
            "Action": "rekognition:CopyProjectVersion",
            "Resource": SOURCE_VERSION_ARN,
        }
    ]


def test_sixty_accounts_take_two_parts_named_by_their_position_and_content() -> None:
    _, stack, policy = fan_out(60)
    found = parts(Template.from_stack(stack))
    assert set(found) == {stack.get_logical_id(p.node.default_child) for p in policy.resources}
    assert len(found) == 2
    documents = [p["PolicyDocument"] for p in found.values()]
    assert sorted(principals(documents)) == sorted(roots(60))
    for properties in found.values():
        digest = re.fullmatch(rf"{re.escape(NAME)}-[12]-([0-9a-f]{{8}})", properties["PolicyName"])
        assert digest, properties["PolicyName"]
        assert properties["ProjectArn"] == SOURCE_PROJECT_ARN
    assert policy.documents() == [found[lid]["PolicyDocument"] for lid in sorted(found, key=_part_order)]
    assert cfn_lint_errors(Template.from_stack(stack), REGION) == []


def _part_order(logical_id: str) -> int:
    return 0 if logical_id.startswith("FanOutResource") else 1


def test_removing_a_later_account_leaves_the_earlier_part_unchanged() -> None:
    """Next-fit: a removal never moves a grant to a later part, so an earlier part keeps its name (no
    replacement); the changed part gets a new name, i.e. a new policy put before the old one is deleted."""
    before = {p["PolicyName"] for p in parts(Template.from_stack(fan_out(60)[1])).values()}
    after = {p["PolicyName"] for p in parts(Template.from_stack(fan_out(59)[1])).values()}
    assert len(before & after) == 1 and len(after) == 2


def test_the_stated_maximum_synthesises_and_one_more_fails_naming_the_limits() -> None:
    assert packing.max_destination_accounts(SOURCE_VERSION_ARN, packing.max_parts(0)) == STATED_MAXIMUM
    app, stack, policy = fan_out(STATED_MAXIMUM)
    app.synth()
    assert sorted(principals(policy.documents())) == sorted(roots(STATED_MAXIMUM))
    assert len(parts(Template.from_stack(stack))) == 2

    app, _, _ = fan_out(STATED_MAXIMUM + 1)
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    message = str(raised.value)
    for fragment in (
        f"'{NAME}' needs 3 documents",
        "at most 2:",
        "at most 2000 characters",
        "at most 5 policies",
        "old and the new part exist together",
        f"At most {STATED_MAXIMUM} destination accounts",
        "Dev/FanOut",
    ):
        assert fragment in message


def test_other_policies_of_the_project_lower_the_maximum() -> None:
    """Two other policies on the project: 2 x parts <= 3, one part, 53 accounts."""
    app, stack, _ = fan_out(54)
    for index in range(2):
        other = RekognitionProjectPolicy(stack, f"Other{index}", project=SOURCE_PROJECT_ARN)
        other.add_copy_permission(
            principal=account(900 + index), source_project_version_arn=SOURCE_VERSION_ARN
        )
    with pytest.raises(RuntimeError, match=r"may have at most 1: .*2 taken by other policies.*At most 53 "):
        app.synth()


def test_a_statement_too_long_for_any_document_fails_with_the_packers_reason() -> None:
    from aws_cdk import aws_iam as iam

    app, _, policy = fan_out(60)
    policy.add_statement(
        iam.PolicyStatement(
            effect=iam.Effect.DENY,
            principals=[iam.ArnPrincipal(root) for root in roots(1070, start=1000)],
            actions=["rekognition:CopyProjectVersion"],
            resources=[SOURCE_VERSION_ARN],
        )
    )
    with pytest.raises(RuntimeError, match=r"statements given as they are render a project policy document"):
        app.synth()


# --- Promotions sharing the source side --------------------------------------------------------------------


def promote(source: Stack, destination: Stack, id: str, **kwargs: Any) -> RekognitionModelPromotion:
    """A promotion of the dev version (``kwargs`` add or override keywords) into a new project."""
    keywords: dict[str, Any] = {
        "source_project_arn": SOURCE_PROJECT_ARN,
        "source_project_version_arn": SOURCE_VERSION_ARN,
        "destination_project": rekognition.CfnProject(destination, "Project", project_name="prod-defects"),
        "version_name": "defects.2026-11-01",
        "output_bucket": s3.Bucket(destination, "Bucket"),
        **kwargs,
    }
    return RekognitionModelPromotion(id=id, source_stack=source, destination_stack=destination, **keywords)


def promotions(count: int, *, stages: bool = False, **kwargs: Any) -> tuple[App, Stack, list[Any]]:
    """``count`` promotions of the dev version into one stack per account (each in its own Stage when
    ``stages``)."""
    app = App()
    dev = Stack(Stage(app, "DevStage") if stages else app, "Dev", env=DEV_ENV)
    made = []
    for n in range(count):
        scope = Stage(app, f"Prod{n}") if stages else app
        prod = Stack(scope, f"Prod{n}", env=Environment(account=account(n), region=REGION))
        made.append(promote(dev, prod, f"ToProd{n}", **kwargs))
    return app, dev, made


def test_promotions_of_one_source_project_share_the_first_ones_policy() -> None:
    _, dev, made = promotions(3)
    assert all(p.policy is made[0].policy for p in made)
    assert made[0].policy.node.path == "Dev/ToProd0"
    (properties,) = parts(Template.from_stack(dev)).values()
    assert properties["PolicyName"] == "Dev.ToProd0"
    assert principals([properties["PolicyDocument"]]) == roots(3)
    assert all(dev in Stack.of(p.copy).dependencies for p in made)


def test_promotions_share_per_policy_name_and_an_explicit_policy_is_used_as_given() -> None:
    app, dev, made = promotions(2, policy_name="to-prod")
    assert made[0].policy is made[1].policy
    explicit = RekognitionProjectPolicy(dev, "Explicit", project=SOURCE_PROJECT_ARN)
    # the source stack's id ToProd0 is the shared policy's: free here, as no policy is created
    other = promote(dev, Stack(app, "ProdX", env=ENV), "ToProd0", project_policy=explicit)
    assert other.policy is explicit
    assert {p["PolicyName"] for p in parts(Template.from_stack(dev)).values()} == {"to-prod", "Dev.Explicit"}


def test_a_promotion_across_pipeline_stages_adds_no_stack_dependency() -> None:
    app, dev, made = promotions(2, stages=True)
    for promotion in made:
        assert Stack.of(promotion.copy).dependencies == []
        Template.from_stack(Stack.of(promotion.copy)).resource_count_is(RESOURCE_TYPE, 1)
    assert principals(made[0].policy.documents()) == roots(2)
    app.synth()  # no NoCrossStageDependency


# --- The quality bar on the policy -------------------------------------------------------------------------


def test_the_policys_bar_is_the_strictest_given_on_every_part() -> None:
    _, stack, policy = fan_out(60, min_f1_score=0.5)
    policy.add_copy_permission(
        principal=account(0), source_project_version_arn=SOURCE_VERSION_ARN, min_f1_score=0.8
    )
    policy.add_copy_permission(
        principal=account(1), source_project_version_arn=SOURCE_VERSION_ARN, min_f1_score=0.7
    )
    assert policy.min_f1_score == 0.8
    template = Template.from_stack(stack)
    assert [p["MinF1Score"] for p in parts(template).values()] == [0.8, 0.8]
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Action": "rekognition:DescribeProjectVersions", "Resource": SOURCE_PROJECT_ARN}
                        )
                    ]
                )
            }
        },
    )


def test_without_a_bar_no_min_f1_score_and_no_read_permission() -> None:
    _, stack, policy = fan_out(2)
    assert policy.min_f1_score is None
    template = Template.from_stack(stack)
    assert all("MinF1Score" not in p for p in parts(template).values())
    assert "rekognition:DescribeProjectVersions" not in json.dumps(template.to_json())


@pytest.mark.parametrize("bar", [0, -0.1, 1.01])
def test_a_bar_outside_zero_to_one_is_rejected(bar: float) -> None:
    with pytest.raises(ModelCopyValidationError, match="min_f1_score"):
        fan_out(1, min_f1_score=bar)
    with pytest.raises(ModelCopyValidationError, match="min_f1_score"):
        fan_out(1)[2].add_copy_permission(
            principal=account(5), source_project_version_arn=SOURCE_VERSION_ARN, min_f1_score=bar
        )


def test_a_cross_account_promotions_bar_goes_to_the_policy_not_the_copy() -> None:
    _, dev, made = promotions(2, min_f1_score=0.9)
    assert made[0].policy.min_f1_score == 0.9
    assert [p["MinF1Score"] for p in parts(Template.from_stack(dev)).values()] == [0.9]
    for promotion in made:
        Template.from_stack(Stack.of(promotion.copy)).has_resource_properties(
            RESOURCE_TYPE, {"MinF1Score": Match.absent()}
        )


def test_a_same_account_promotions_bar_goes_to_the_copy() -> None:
    app = App()
    source, destination = Stack(app, "Source", env=ENV), Stack(app, "Destination", env=ENV)
    version = f"arn:aws:rekognition:{REGION}:{ENV.account}:project/prod-imported/version/v1/1710000000001"
    promotion = promote(
        source,
        destination,
        "SameAccount",
        source_project_arn=version.split("/version/")[0] + "/1710000000000",
        source_project_version_arn=version,
        min_f1_score=0.9,
    )
    assert promotion.policy is None
    Template.from_stack(destination).has_resource_properties(RESOURCE_TYPE, {"MinF1Score": 0.9})


def test_a_promotion_across_stages_warns_that_the_source_stage_deploys_first() -> None:
    from aws_cdk.assertions import Annotations

    _, _, made = promotions(1, stages=True)
    prod = Stack.of(made[0].copy)
    warnings = Annotations.from_stack(prod).find_warning("*", Match.string_like_regexp("another Stage"))
    assert len(warnings) == 1
    _, _, same_stage = promotions(1)
    assert Annotations.from_stack(Stack.of(same_stage[0].copy)).find_warning("*", Match.any_value()) == []


def test_a_retained_policy_of_several_parts_still_deletes_a_replaced_part() -> None:
    from aws_cdk import RemovalPolicy

    _, stack, _ = fan_out(60, removal_policy=RemovalPolicy.RETAIN)
    resources = Template.from_stack(stack).find_resources(POLICY_RESOURCE_TYPE)
    assert len(resources) == 2
    for resource in resources.values():
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["UpdateReplacePolicy"] == "Delete"  # a part named by its content is replaced
    _, single, _ = fan_out(3, removal_policy=RemovalPolicy.RETAIN)
    (resource,) = Template.from_stack(single).find_resources(POLICY_RESOURCE_TYPE).values()
    assert resource["UpdateReplacePolicy"] == "Retain"  # one part keeps the plain name, as before


def test_a_token_bar_on_a_policy_is_refused_at_synth() -> None:
    from aws_cdk import CfnParameter, Token

    _, stack, policy = fan_out(1)
    bar = Token.as_number(CfnParameter(stack, "Bar", type="Number").value_as_number)
    with pytest.raises(ModelCopyValidationError, match="must be a literal number"):
        policy.raise_min_f1_score(bar)
