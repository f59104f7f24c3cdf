"""Baseline: the model copy with plain crhelper and its defaults, as the crhelper README sets it up.

``CfnResource(polling_interval=2, sleep_on_delete=120)`` (crhelper's defaults, spelled out), create/delete
functions, and poll functions that return the physical id when done. The work itself is the project's own
``model_copy`` code (``copy_steps``), so only the waiting differs from the project.

One change, which does not change what crhelper waits for or which calls it makes: ``_wait_for_cwlogs``
(the ``sleep_on_delete`` before every Delete response) sleeps on the clock the lifecycle driver gives the
handler (``polling.CLOCK``) instead of ``time.sleep``, so the 120 s pass in simulated time and show in the
invocation's duration. Everything else is crhelper as shipped: DEBUG logging, boto3's default retry mode,
EventBridge rules ``rate(2 minutes)`` and one ``lambda:AddPermission`` per polling resource (the bench
creates the function in moto's Lambda backend so those calls succeed).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import boto3
from crhelper import CfnResource

if TYPE_CHECKING:  # Lambda imports the asset's modules top-level; type checkers see them in the bench
    from bench.baselines.crhelper_default import copy_steps
else:
    import copy_steps

from cfn import polling  # noqa: E402 - the project's module (copy_steps puts lambda/ on sys.path), for its clock

# crhelper's stubs declare only its public API; the private method overridden here is reached untyped.
_CRHELPER: Any = CfnResource


def _simulated_sleep(seconds: float) -> None:
    polling.CLOCK.sleep(seconds)  # looked up at call time: the driver swaps polling.CLOCK


class DefaultCfnResource(CfnResource):
    """crhelper's CfnResource; its delete sleep goes to the simulated clock."""

    def _wait_for_cwlogs(self, sleep: Any = None) -> None:
        _CRHELPER._wait_for_cwlogs(self, sleep=_simulated_sleep)


helper = DefaultCfnResource(polling_interval=2, sleep_on_delete=120)


def _rekognition() -> Any:
    return boto3.client("rekognition", region_name=os.environ.get("AWS_REGION"))


@helper.create
def create(event: dict[str, Any], context: Any) -> str:
    version_arn, data = copy_steps.start_copy(
        _rekognition(), event["ResourceProperties"], copy_steps.owner_of(event)
    )
    helper.Data.update(data)
    return version_arn


@helper.poll_create
def poll_create(event: dict[str, Any], context: Any) -> str | None:
    version_arn = str(event["CrHelperData"]["PhysicalResourceId"])
    project_arn = str(event["ResourceProperties"]["DestinationProjectArn"])
    if not copy_steps.copy_finished(_rekognition(), project_arn, version_arn):
        return None
    helper.Data["Status"] = "COPYING_COMPLETED"
    return version_arn


@helper.delete
def delete(event: dict[str, Any], context: Any) -> None:
    # crhelper polls every Delete, whatever this returns; the poll answers once the version is gone
    target = copy_steps.start_delete(
        _rekognition(), event["ResourceProperties"], event["PhysicalResourceId"], copy_steps.owner_of(event)
    )
    helper.Data["DeleteTarget"] = target or ""


@helper.poll_delete
def poll_delete(event: dict[str, Any], context: Any) -> str | None:
    physical_id = str(event["PhysicalResourceId"])
    target = event["CrHelperData"].get("DeleteTarget")
    project_arn = event["ResourceProperties"].get("DestinationProjectArn")
    if not target or not project_arn:
        return physical_id
    return physical_id if copy_steps.delete_finished(_rekognition(), str(project_arn), target) else None


def handler(event: dict[str, Any], context: Any) -> None:
    """The Lambda handler."""
    helper(event, context)
