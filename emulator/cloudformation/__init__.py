"""A CloudFormation lifecycle driver for the project's custom resources, on emulated AWS.

It plays CloudFormation for a synthesised template, inside ``moto.mock_aws``:

* "deploys" the ordinary resources the custom resources refer to (buckets, keys, Rekognition projects,
  roles, functions) into moto, and resolves the template's intrinsic functions;
* builds Create / Update / Delete events for every ``Custom::*`` resource, with a ResponseURL served by a
  local HTTPS server (crhelper answers over HTTPS only);
* calls the real ``index.handler`` from the function's asset directory, with the function's environment,
  credentials of its role (STS assume-role, so the emulator sees the right account and principal) and a
  Lambda context whose remaining time counts down on the simulated clock;
* invokes it asynchronously, as CloudFormation does: the event waits in Lambda's queue, a cold start
  runs the init phase, a failed or timed-out invocation is retried (twice, or as the template's
  AWS::Lambda::EventInvokeConfig says); see :mod:`.lambda_runtime`;
* fires the EventBridge schedules crhelper creates, at their rate on the simulated clock, with the
  target Input as the event (delivered twice with the probability ``duplicate_schedule_deliveries``);
* follows CloudFormation's rules: replacement when an Update answers a new physical id (Delete of the old
  one afterwards unless UpdateReplacePolicy is Retain); rollback after a failure (Deletes after a failed
  Create; after a failed Update, Updates back to the old properties sent to the physical id the stack
  holds, then Deletes of what the update created or the rollback superseded), ending *_FAILED when a
  rollback request fails; no Delete for DeletionPolicy Retain; a FAILED resource when no answer arrives
  within ServiceTimeout, counted from when the request was sent;
* asserts the protocol: exactly one response per request, well-formed bodies, physical id rules, and no
  polling rule left behind once a request is answered. Violations are collected in ``violations``
  (``audit()`` adds responses that arrived late).

The simulated clock is shared with the Custom Labels emulator, so a 20-minute copy takes milliseconds.

Modules: :mod:`.cloud` (``CloudFormation``: accounts, Lambda, schedules, the event loop), :mod:`.stack`
(``Stack``: the operations and their rollbacks), :mod:`.template` (intrinsics, dependency order),
:mod:`.resources` (ordinary resources in moto), :mod:`.protocol` (``Request`` and the checks on answers),
:mod:`.server` (the HTTPS ResponseURL), :mod:`.lambda_runtime` (Lambda in virtual time).
"""

from __future__ import annotations

from emulator import eventbridge as _eventbridge  # noqa: F401 - installs EventBridge's authorization

from .cloud import CloudFormation
from .protocol import Request
from .resources import Resource
from .server import ResponseServer
from .stack import Stack, StackEvent
from .template import DriverError

__all__ = ["CloudFormation", "DriverError", "Request", "Resource", "ResponseServer", "Stack", "StackEvent"]
