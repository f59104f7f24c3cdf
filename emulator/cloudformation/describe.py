"""CloudFormation's DescribeStacks for the driver's stacks, through moto's CloudFormation API.

The driver's stacks are its own, not moto's, so a handler that asks CloudFormation for its stack's status
(``lambda/cfn/stack_status.py``) would get moto's "Stack with id ... does not exist". Every open driver is
registered here, and moto's backend answers for the stacks of the driver in its account and Region, as
CloudFormation does (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html:
``StackName`` is the stack's name or its unique stack id; a deleted stack is found by its id only). Other
names go to moto as before. Not modelled: IAM authorization of the call (moto's CloudFormation does not
authorize either); the fields other than the name, id and status (the creation time is the epoch).
"""

from __future__ import annotations

import datetime
import weakref
from typing import Any

from moto.cloudformation import models

_DRIVERS: weakref.WeakSet[Any] = weakref.WeakSet()
_original_describe_stacks = models.CloudFormationBackend.describe_stacks


class _Described:
    """What moto's DescribeStacks response reads of a stack."""

    def __init__(self, stack: Any) -> None:
        self.stack_name = stack.name
        self.stack_id = stack.stack_id
        self.stack_status = stack.status
        self.creation_time = datetime.datetime.fromtimestamp(0, tz=datetime.UTC)  # not modelled
        self.tags: dict[str, str] = {}


def register(driver: Any) -> None:
    _DRIVERS.add(driver)


def unregister(driver: Any) -> None:
    _DRIVERS.discard(driver)


def _describe_stacks(self: Any, name_or_stack_id: str) -> list[Any]:
    if name_or_stack_id:
        for driver in list(_DRIVERS):
            for stack in reversed(driver.stacks):  # the newest stack of a name first
                if (stack.account_id, stack.region) != (self.account_id, self.region_name):
                    continue
                deleted = stack.status == "DELETE_COMPLETE"
                if stack.stack_id == name_or_stack_id or (stack.name == name_or_stack_id and not deleted):
                    return [_Described(stack)]
    return list(_original_describe_stacks(self, name_or_stack_id))


models.CloudFormationBackend.describe_stacks = _describe_stacks  # type: ignore[method-assign]
