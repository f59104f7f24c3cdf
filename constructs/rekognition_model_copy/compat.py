"""What the library uses of aws-cdk-lib that older releases than the newest spell differently.

The library supports every aws-cdk-lib from the floor declared in ``pyproject.toml`` on. Where a newer release
added a keyword or a method for something older releases already did another way, this module picks the
newer one when it exists and the older one otherwise, with the same template either way.
"""

from __future__ import annotations

import functools
import inspect
from typing import TypedDict

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_lambda as lambda_


def python_runtime(name: str) -> lambda_.Runtime:
    """The Lambda runtime ``name`` (``python3.13``): aws-cdk-lib's own constant when this release has one (so
    ``Runtime.ALL`` and cdk-nag know it), else the same runtime made by name (older releases)."""
    for known in lambda_.Runtime.ALL:
        if known.name == name:
            return known
    return lambda_.Runtime(name, lambda_.RuntimeFamily.PYTHON)


class ServiceTimeoutArguments(TypedDict, total=False):
    """The keyword arguments :func:`service_timeout` returns for ``CustomResource``."""

    service_timeout: Duration


@functools.cache
def _custom_resource_has_service_timeout() -> bool:
    return "service_timeout" in inspect.signature(CustomResource.__init__).parameters


def service_timeout(properties: dict[str, object], timeout: Duration) -> ServiceTimeoutArguments:
    """The custom resource's ``ServiceTimeout`` (how long CloudFormation waits for the function's answer).

    Returns the keyword arguments for ``CustomResource``: ``service_timeout=`` in the releases that have it;
    in older ones (before that keyword) it is written into ``properties`` instead, as the same
    ``ServiceTimeout`` property (seconds as a string), which CloudFormation reads alike
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html).
    ``timeout`` is already checked (1 second to 1 hour).
    """
    if _custom_resource_has_service_timeout():
        return {"service_timeout": timeout}
    properties["ServiceTimeout"] = str(int(timeout.to_seconds()))
    return {}


def add_stack_dependency(stack: Stack, target: Stack, reason: str) -> None:
    """``stack`` deploys after ``target``: ``add_stack_dependency`` where it exists, else its older name
    ``add_dependency`` (deprecated since the rename, the same dependency)."""
    method = getattr(stack, "add_stack_dependency", None) or stack.add_dependency
    method(target, reason)
