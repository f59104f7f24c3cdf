"""cdk-nag (AwsSolutions pack) acknowledgments for the backing function this library creates.

The few wildcards the function's policy needs (the polling rules' name prefix, the versions of a destination
project, the objects under a copy's output prefix) are acknowledged on the role, each by its exact finding
id (``AwsSolutions-IAM5[Resource::<resource>]``) with the reason, and the function's runtime
(AwsSolutions-L1) only while every newer Python runtime is one the handler has not been tested on. An app
using these constructs gets a clean cdk-nag run without suppressing anything itself. Acknowledgments are
metadata: templates do not change.

An acknowledgment is written as the construct metadata that ``Validations.of(scope).acknowledge`` records
(type ``aws:cdk:acknowledged-rules``, data ``{finding id: reason}``) and that cdk-nag 3 reads on a resource
and its scopes. It is added with ``node.add_metadata`` (part of ``constructs``) rather than through
``Validations.acknowledge``/``Acknowledgment``, which first appear in aws-cdk-lib 2.252.0 (and whose
handling of ids changed in later releases): the library's aws-cdk-lib floor stays lower this way.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

ACKNOWLEDGED_RULES_METADATA_KEY = "aws:cdk:acknowledged-rules"
"""The metadata type of acknowledged findings (``Validations.ACKNOWLEDGED_RULES_METADATA_KEY`` in the
aws-cdk-lib releases that have it; cdk-nag 3 reads this type on a resource and on each of its scopes)."""

NAG_WILDCARD_RULE = "AwsSolutions-IAM5"
"""cdk-nag's rule for wildcards in identity policies; each wildcard resource is a finding of its own."""

NAG_RUNTIME_RULE = "AwsSolutions-L1"
"""cdk-nag's rule for a Lambda function not on the latest runtime of its family."""

UNTESTED_NEWER_RUNTIMES = frozenset({"python3.14"})
"""Python runtimes aws-cdk-lib knows that are newer than the function's (``HANDLER_RUNTIME`` of
:mod:`.provider`) and that the handler has not been tested on (no such interpreter on the project's
machines). AwsSolutions-L1 is acknowledged only while these are the only newer ones: an aws-cdk-lib with a
further runtime brings the finding back."""


def _truthy(value: Any) -> bool:
    """JavaScript's truthiness (cdk-nag tests intrinsics with ``!!node[field]``): ``[]`` and ``{}`` count."""
    if value is None or value is False or value == "":
        return False
    return not (isinstance(value, int | float) and value == 0)


def _flatten_cfn_reference(node: Any) -> str:
    """A resolved CloudFormation value as one string, the way cdk-nag names resources in finding ids.

    A port of cdk-nag's ``flattenCfnReference``: ``Fn::Join`` joined, ``Ref`` as ``<name>``, ``Fn::GetAtt``
    as ``<logical id.attribute>``, ``${...}`` of ``Fn::Sub`` as ``<...>``, anything else as compact JSON.
    """
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if _truthy(node.get("Fn::Join")):
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten_cfn_reference(item) for item in items)
        if _truthy(node.get("Fn::Sub")):
            return _flatten_cfn_reference(node["Fn::Sub"])
        if _truthy(node.get("Fn::GetAtt")):
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten_cfn_reference(resource)}.{_flatten_cfn_reference(attribute)}>"
        if _truthy(node.get("Fn::ImportValue")):
            return _flatten_cfn_reference(node["Fn::ImportValue"])
        if _truthy(node.get("Ref")):
            return f"<{_flatten_cfn_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


def nag_wildcard_finding_id(scope: IConstruct, resource: str) -> str:
    """cdk-nag's finding id for the wildcard ``resource`` in an identity policy of ``scope``'s stack:
    ``AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:us-east-1:222222222222:rule/rmc-1a2b3c4d*]``.

    Tokens are resolved now: a logical id overridden later, or a reference to another stack (written as
    ``Fn::ImportValue`` at synth), gives another id, and cdk-nag reports that finding instead.
    """
    flattened = _flatten_cfn_reference(Stack.of(scope).resolve(resource))
    return f"{NAG_WILDCARD_RULE}[Resource::{flattened}]"


class WildcardAcknowledgments:
    """The wildcard findings acknowledged on one construct (the function's role), each once."""

    def __init__(self, construct: IConstruct) -> None:
        self._construct = construct
        self._acknowledged: set[str] = set()

    def acknowledge(self, resource: str, reason: str) -> None:
        """Acknowledge cdk-nag's finding for exactly this wildcard ``resource`` (other wildcards of the
        policy are still reported), once per finding however many copies share it: remembered here, as
        reading the construct's metadata back through jsii for every copy made synth time quadratic.
        Nothing is recorded for a resource without ``*``."""
        finding = nag_wildcard_finding_id(self._construct, resource)
        if "*" not in finding or finding in self._acknowledged:
            return
        self._acknowledged.add(finding)
        acknowledge(self._construct, finding, reason)


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge cdk-nag's ``finding`` (a rule id, or a rule id with its ``[...]`` finding) on
    ``construct`` and everything under it, with ``reason``."""
    construct.node.add_metadata(ACKNOWLEDGED_RULES_METADATA_KEY, {finding: reason})


def _python_version(runtime: lambda_.Runtime) -> tuple[int, ...]:
    return tuple(int(part) for part in runtime.name.removeprefix("python").split(".") if part.isdigit())


def newer_python_runtimes(runtime: lambda_.Runtime) -> set[str]:
    """Names of the Python runtimes aws-cdk-lib knows that are newer than ``runtime``."""
    ours = _python_version(runtime)
    return {
        known.name
        for known in lambda_.Runtime.ALL
        if known.family == lambda_.RuntimeFamily.PYTHON and _python_version(known) > ours
    }


def acknowledge_runtime(function: lambda_.Function) -> None:
    """Acknowledge AwsSolutions-L1 (not the latest runtime) on ``function`` alone, and only while every
    newer Python runtime aws-cdk-lib knows is one of :data:`UNTESTED_NEWER_RUNTIMES`."""
    newer = newer_python_runtimes(function.runtime)
    if not newer or not newer <= UNTESTED_NEWER_RUNTIMES:
        return
    cfn_function = function.node.default_child
    assert isinstance(cfn_function, lambda_.CfnFunction)
    ours, untested = function.runtime.name, ", ".join(sorted(newer))
    reason = (
        f"{ours} is the newest Python the handler (pure Python: crhelper 2.0.12, boto3 from the "
        f"runtime) has been tested on: its handler tests pass on CPython {ours.removeprefix('python')}. "
        f"{untested} is newer, but no such interpreter is available here to test it, and this function "
        "answers CloudFormation for production models. Only that runtime is acknowledged: a later one "
        "brings the finding back."
    )
    acknowledge(cfn_function, NAG_RUNTIME_RULE, reason)
