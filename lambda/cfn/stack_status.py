"""Whether the request's stack is rolling back an update: CloudFormation's own answer.

A custom resource's request does not say whether it is part of a rollback: the rollback of an Update is
one more Update, with the previous properties as ``ResourceProperties`` and the rejected ones as
``OldResourceProperties`` (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html),
exactly the shape of a forward update back to those properties. Where a resource must tell the two apart,
it asks DescribeStacks for the stack's status (``UPDATE_ROLLBACK_IN_PROGRESS`` while CloudFormation rolls
back an update: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html). It asks
only then,
and a status it cannot read (no permission, no endpoint in a VPC, throttling after retries) counts as
no rollback: the resource then takes the answer that is safe for a forward update. A stack whose
operation is over (a status ending in ``_COMPLETE`` or ``_FAILED``) waits for no Update's answer, nor does
one in a cleanup phase (``*_CLEANUP_IN_PROGRESS``: CloudFormation only deletes the resources it replaced
then): an Update read then is a late delivery of one answered already (Lambda delivers at least once), and
it raises :class:`StaleRequest`, so that it answers nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"


class StaleRequest(Exception):
    """The request's stack is not in an operation: nothing waits for its answer (``stale``)."""

    stale = True


def rolling_back(cloudformation: Callable[[], Any], stack_id: str) -> bool | str:
    """True when the stack ``stack_id`` is rolling back an update, False when it is not, and what went
    wrong (a sentence) when its status could not be read; ``cloudformation`` makes a client."""
    try:
        stacks = cloudformation().describe_stacks(StackName=stack_id).get("Stacks") or []
    except Exception as error:  # noqa: BLE001 - not known: the caller takes the forward update's answer
        code = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
        logger.warning("Could not read the status of stack %s: %s", stack_id, error)
        return f"cloudformation:DescribeStacks failed ({code})"
    status = str(stacks[0].get("StackStatus", "")) if stacks else ""
    logger.info("Stack %s is %s", stack_id, status or "not found")
    if status.endswith(("_COMPLETE", "_FAILED", "_CLEANUP_IN_PROGRESS")):
        raise StaleRequest(f"The stack is {status}: this request was answered already")
    return status == ROLLING_BACK
