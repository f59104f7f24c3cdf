"""CloudFormation's DescribeStacks and DescribeStackEvents for the driver's stacks, through moto's
CloudFormation API.

The driver's stacks are its own, not moto's, so a handler that asks CloudFormation for its stack's status
(``lambda/cfn/stack_status.py``) would get moto's "Stack with id ... does not exist". Every open driver is
registered here, and moto's backend answers for the stacks of the driver in its account and Region, as
CloudFormation does (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html:
``StackName`` is the stack's name or its unique stack id; a deleted stack is found by its id only). Other
names go to moto as before. Not modelled: IAM authorization of the call (moto's CloudFormation does not
authorize either); the fields other than the name, id and status (the creation time is the epoch).

DescribeStackEvents returns the stack's events newest first
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackEvents.html), in one
page (a page holds up to 1 MB). A custom resource's FAILED answer shows its Reason as
``config.custom_resource_event_reason`` says, and a custom resource's events carry its properties as
``config.stack_event_properties`` says (neither is documented: see those fields).
"""

from __future__ import annotations

import datetime
import json
import weakref
from typing import Any

from moto.cloudformation import models

from emulator.custom_labels.runtime import config

_DRIVERS: weakref.WeakSet[Any] = weakref.WeakSet()
_original_describe_stacks = models.CloudFormationBackend.describe_stacks
_original_describe_stack_events = models.CloudFormationBackend.describe_stack_events


class _Described:
    """What moto's DescribeStacks response reads of a stack."""

    def __init__(self, stack: Any) -> None:
        self.stack_name = stack.name
        self.stack_id = stack.stack_id
        self.stack_status = stack.status
        self.creation_time = datetime.datetime.fromtimestamp(0, tz=datetime.UTC)  # not modelled
        self.tags: dict[str, str] = {}


class _DescribedEvent:
    """What moto's DescribeStackEvents response reads of an event."""

    def __init__(self, event: Any, number: int) -> None:
        self.stack_id = event.stack_id
        self.event_id = f"{event.logical_id}-{number}"
        self.stack_name = event.stack
        self.logical_resource_id = event.logical_id
        own = event.resource_type == "AWS::CloudFormation::Stack" and event.logical_id == event.stack
        self.physical_resource_id = event.physical_id or (event.stack_id if own else "")
        self.resource_type = event.resource_type
        self.timestamp = datetime.datetime.fromtimestamp(event.time, tz=datetime.UTC)
        self.resource_status = event.status
        self.resource_status_reason = _shown(event)
        self.client_request_token = None
        shown = event.properties is not None and config.stack_event_properties == "every"
        self.resource_properties = json.dumps(event.properties) if shown else None


def _shown(event: Any) -> str:
    if not (event.request_id and event.reason) or config.custom_resource_event_reason == "verbatim":
        return str(event.reason)
    return (
        f"Received response status [FAILED] from custom resource. Message returned: {event.reason} "
        f"(RequestId: {event.request_id})"
    )


def register(driver: Any) -> None:
    _DRIVERS.add(driver)


def unregister(driver: Any) -> None:
    _DRIVERS.discard(driver)


def _driver_stack(backend: Any, name_or_stack_id: str) -> tuple[Any, Any] | None:
    """The driver and its stack that ``name_or_stack_id`` names in the backend's account and Region."""
    if name_or_stack_id:
        for driver in list(_DRIVERS):
            for stack in reversed(driver.stacks):  # the newest stack of a name first
                if (stack.account_id, stack.region) != (backend.account_id, backend.region_name):
                    continue
                deleted = stack.status == "DELETE_COMPLETE"
                if stack.stack_id == name_or_stack_id or (stack.name == name_or_stack_id and not deleted):
                    return driver, stack
    return None


def _describe_stacks(self: Any, name_or_stack_id: str) -> list[Any]:
    found = _driver_stack(self, name_or_stack_id)
    if found:
        return [_Described(found[1])]
    return list(_original_describe_stacks(self, name_or_stack_id))


def _describe_stack_events(self: Any, stack_name: str) -> list[Any]:
    """The stack's events oldest first (moto's response reverses them)."""
    found = _driver_stack(self, stack_name)
    if not found:
        return list(_original_describe_stack_events(self, stack_name))
    driver, stack = found
    events = [e for e in list(driver.events) if e.stack_id == stack.stack_id]
    return [_DescribedEvent(event, number) for number, event in enumerate(events)]


models.CloudFormationBackend.describe_stacks = _describe_stacks  # type: ignore[method-assign]
models.CloudFormationBackend.describe_stack_events = _describe_stack_events  # type: ignore[method-assign]
