"""Our thin layer over crhelper's CfnResource.

crhelper (2.0.12) drives the custom resource protocol and the EventBridge polling schedule. This subclass
keeps its flow and compensates for its known defects (see DOMAIN.md):

* no runtime IAM changes: the invoke permission for the schedule is granted once in the template,
  scoped to the rule-name prefix in ``POLL_RULE_PREFIX``; ``lambda:AddPermission`` is never called;
* rule names always fit EventBridge's 64 characters, whatever the LogicalResourceId;
* the schedule's target Input is a slim copy of the event (no Tags, no OldResourceProperties), so it stays
  under EventBridge's 8192 characters;
* an overall deadline: a poll after ``PollDeadline`` fails the resource and removes the schedule;
* a resource function may answer at once (``Outcome.complete``): no schedule is created for it;
* a fast path: before handing over to the 1-minute schedule, the first invocation polls in-process every
  10 s for up to 10 minutes (while the function has time left), so most operations answer in seconds;
* the pre-timeout timer also removes the schedule, so a timed-out poll does not poll forever;
* the response PUT is retried a bounded number of times, its HTTP status is checked, and neither the
  ResponseURL nor the event is ever logged; the Reason is truncated at its end, not its beginning.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import HTTPSConnection
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from crhelper import CfnResource

logger = logging.getLogger(__name__)

RULE_NAME_MAX = 64
TARGET_INPUT_MAX = 8192
REASON_MAX = 1024
DEFAULT_RULE_PREFIX = "rmc-"
SEND_ATTEMPTS = 5
# The fast path: the first invocation polls in-process every 10 s while the Lambda has more than
# FAST_PATH_RESERVE seconds left, then hands over to crhelper's 1-minute schedule. 10 s is both the
# detection latency target and the call budget (one DescribeProjectVersions per 10 s of copy time).
FAST_PATH_INTERVAL = 10.0
FAST_PATH_RESERVE = 30.0
# No longer than this: copies under 10 minutes are answered within 10 s of finishing; a longer copy does
# not keep the function running (and billed) for its whole 15 minutes before the schedule takes over.
FAST_PATH_MAX_SECONDS = 600.0
# Keys of the event that a poll invocation needs; everything else is left out of the target Input.
_POLL_EVENT_KEYS = (
    "RequestType",
    "ResponseURL",
    "StackId",
    "RequestId",
    "ResourceType",
    "LogicalResourceId",
    "PhysicalResourceId",
    "ServiceToken",
    "CrHelperData",
    "CrHelperPoll",
    "CrHelperRule",
    "CrHelperPermission",
    "PollDeadline",
    "PollProperties",
)


@dataclass
class Outcome:
    """What a resource function reports: the physical id, the Data to return, and whether it is done.

    ``complete=False`` hands over to the polling schedule; ``complete=True`` answers CloudFormation now.
    """

    physical_id: str
    data: dict[str, str] = field(default_factory=dict)
    complete: bool = False


class SystemClock:
    """Wall-clock time. The lifecycle driver swaps ``polling.CLOCK`` for its simulated clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


CLOCK: Any = SystemClock()


class DeadlineExceeded(Exception):
    """The resource's own deadline (the template's ServiceTimeout) passed while it was still working."""


def _sanitise(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "", text)


def rule_name(prefix: str, logical_id: str, suffix: str) -> str:
    """A rule name of at most 64 characters: prefix, as much of the logical id as fits, suffix."""
    room = RULE_NAME_MAX - len(prefix) - len(suffix) - 1
    return f"{prefix}{_sanitise(logical_id)[: max(room, 0)]}-{suffix}"[:RULE_NAME_MAX]


def send_response(response_url: str, body: dict[str, Any], ssl_verify: Any = None) -> None:
    """PUT the response to the presigned URL: bounded retries, HTTP status checked, URL never logged."""
    payload = json.dumps(body)
    parts = urlsplit(response_url)
    path = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    headers = {"content-type": "", "content-length": str(len(payload))}
    last_error = "no attempt made"
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            connection = HTTPSConnection(parts.netloc, timeout=30)
            connection.request("PUT", path, body=payload, headers=headers)
            status = connection.getresponse().status
            connection.close()
            if 200 <= status < 300:
                logger.info("Response %s sent to CloudFormation (HTTP %s)", body.get("Status"), status)
                return
            last_error = f"HTTP {status}"
        except OSError as error:  # connection refused, TLS failure, timeout
            last_error = type(error).__name__
        logger.warning(
            "Sending the response failed (%s), attempt %d of %d", last_error, attempt, SEND_ATTEMPTS
        )
        if attempt < SEND_ATTEMPTS:
            CLOCK.sleep(min(2**attempt, 10))
    logger.error("Giving up sending the response to CloudFormation: %s", last_error)


# crhelper's stubs declare only its public API; the private methods this layer overrides are reached
# through an untyped alias, and the private attributes it reads are declared on the subclass.
_CRHELPER: Any = CfnResource


class PollingResource(CfnResource):
    """crhelper's CfnResource with the defects above compensated; see the module docstring."""

    _event: dict[str, Any]
    _polling_interval: int
    _response_url: str
    _ssl_verify: Any
    _context: Any

    def __init__(self, *, poll_properties: Callable[[dict[str, Any]], dict[str, Any]], **kwargs: Any) -> None:
        kwargs.setdefault("log_level", "INFO")
        kwargs.setdefault("boto_level", "WARNING")
        kwargs.setdefault("polling_interval", 1)
        kwargs.setdefault("sleep_on_delete", 0)
        super().__init__(**kwargs)
        self._poll_properties = poll_properties
        self._outcome_complete = False
        self._clients: dict[str, Any] = {}

    # --- invocation ------------------------------------------------------------------------------------
    def __call__(self, event: dict[str, Any], context: Any) -> None:
        self._clients = {}  # credentials and Region are read per invocation
        self._outcome_complete = False
        if "CrHelperPoll" in event and not self._schedule_exists(event):
            # The schedule is removed only when the request is answered: this is a late or repeated
            # delivery (EventBridge delivers at least once; Lambda retries a timed-out poll). Answering
            # again would send a second, possibly contradicting, response.
            logger.info("Poll of %s: already answered, nothing to do", event.get("LogicalResourceId"))
            return
        super().__call__(event, context)

    def _schedule_exists(self, event: dict[str, Any]) -> bool:
        try:
            self._events().describe_rule(Name=str(event.get("CrHelperRule", "")).split("/")[-1])
        except self._events().exceptions.ResourceNotFoundException:
            return False
        return True

    def _log_setup(self, event: dict[str, Any], context: Any) -> None:
        _CRHELPER._log_setup(self, event, context)
        logger.info(
            "%s %s %s%s",
            event.get("RequestType"),
            event.get("ResourceType"),
            event.get("LogicalResourceId"),
            " (poll)" if "CrHelperPoll" in event else "",
        )

    def finish(self, outcome: Outcome) -> str:
        """Record an outcome from a create/update/delete/poll function; returns what crhelper expects."""
        self.Data.update(outcome.data)
        if "CrHelperPoll" in self._event:
            return outcome.physical_id if outcome.complete else ""
        self._outcome_complete = outcome.complete
        return outcome.physical_id

    def check_deadline(self) -> None:
        """Raise DeadlineExceeded when this request's own deadline has passed."""
        deadline = self._event.get("PollDeadline")
        if deadline is not None and CLOCK.now() > float(deadline):
            raise DeadlineExceeded(
                "Gave up waiting: the resource's timeout (the template's ServiceTimeout) passed. The "
                "Rekognition operation may still be running; see the function's log group."
            )

    def _polling_init(self, event: dict[str, Any]) -> None:
        if "CrHelperPoll" not in event and self._outcome_complete and self.Status != "FAILED":
            self._send_response = True  # done in the first invocation: no schedule needed
            return
        if "CrHelperPoll" not in event and self.Status == "FAILED":
            self._send_response = True  # failed before any schedule existed: nothing to remove
            return
        if "CrHelperPoll" in event and self.Status == "FAILED" and event["RequestType"] == "Create":
            # crhelper would answer with a random id; see _failure_physical_id
            self.PhysicalResourceId = self._failure_physical_id()
        if "CrHelperPoll" not in event:
            timeout = float(event.get("ResourceProperties", {}).get("ServiceTimeout") or 3600)
            # answer before CloudFormation gives up, so the Reason is ours and the schedule is removed
            event["PollDeadline"] = CLOCK.now() + timeout - min(60.0, timeout / 10)
            event["PollProperties"] = self._poll_properties(event)
            if self._wait_in_process(event):
                return
        _CRHELPER._polling_init(self, event)

    def _wait_in_process(self, event: dict[str, Any]) -> bool:
        """The fast path: poll in this invocation while Lambda time is left (then the 1-minute schedule).

        Returns True when the request is answered (done or failed); False hands over to the schedule.
        """
        poll = getattr(self, f"_poll_{event['RequestType'].lower()}_func", None)
        if poll is None or self._context is None:
            return False
        poll_event = {
            **event,
            "CrHelperPoll": True,
            "CrHelperData": {**self.Data, "PhysicalResourceId": self.PhysicalResourceId},
        }
        first_id, saved = self.PhysicalResourceId, self._event
        self._event = poll_event
        waited = 0.0
        try:
            while (
                self._context.get_remaining_time_in_millis() / 1000 - FAST_PATH_INTERVAL > FAST_PATH_RESERVE
                and waited + FAST_PATH_INTERVAL <= FAST_PATH_MAX_SECONDS
            ):
                CLOCK.sleep(FAST_PATH_INTERVAL)
                waited += FAST_PATH_INTERVAL
                try:
                    physical_id = poll(poll_event, self._context)
                except Exception as error:  # noqa: BLE001 - reported to CloudFormation as the Reason
                    logger.error("Failed while waiting: %s", error)
                    self.Status, self.Reason = "FAILED", str(error)
                    self.PhysicalResourceId = first_id if event["RequestType"] == "Create" else ""
                    self._send_response = True
                    return True
                if physical_id:
                    self.PhysicalResourceId = physical_id
                    self._send_response = True
                    return True
        finally:
            self._event = saved
        self.PhysicalResourceId = first_id
        return False

    # --- EventBridge schedule, no runtime IAM ----------------------------------------------------------
    def client(self, service: str, config: Any = None) -> Any:
        """The invocation's boto3 client for a service: made once per invocation (the fast path polls
        many times), with the invocation's own credentials and Region."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, region_name=os.environ.get("AWS_REGION"), config=config
            )
        return self._clients[service]

    def _events(self) -> Any:
        return self.client("events")

    def _put_rule(self) -> str:
        prefix = os.environ.get("POLL_RULE_PREFIX", DEFAULT_RULE_PREFIX)
        suffix = "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(8))
        response = self._events().put_rule(
            Name=rule_name(prefix, self._event["LogicalResourceId"], suffix),
            ScheduleExpression="rate(1 minute)"
            if self._polling_interval == 1
            else f"rate({self._polling_interval} minutes)",
            State="ENABLED",
        )
        return str(response["RuleArn"])

    def _add_permission(self, rule_arn: str) -> str:
        return "granted-in-template"  # AWS::Lambda::Permission scoped to the rule prefix

    def _remove_permission(self, sid: str) -> None:
        return None

    def _put_targets(self, func_name: str) -> None:
        rule_arn = self._event["CrHelperRule"]
        partition, region, account = rule_arn.split(":")[1], rule_arn.split(":")[3], rule_arn.split(":")[4]
        slim = {key: self._event[key] for key in _POLL_EVENT_KEYS if key in self._event}
        target_input = json.dumps(slim)
        if len(target_input) > TARGET_INPUT_MAX:
            raise ValueError(
                f"The polling schedule's input would be {len(target_input)} characters, over EventBridge's "
                f"{TARGET_INPUT_MAX}; shorten the resource's properties."
            )
        self._events().put_targets(
            Rule=rule_arn.split("/")[-1],
            Targets=[
                {
                    "Id": "1",
                    "Arn": f"arn:{partition}:lambda:{region}:{account}:function:{func_name}",
                    "Input": target_input,
                }
            ],
        )

    def _remove_targets(self, rule_arn: str) -> None:
        self._events().remove_targets(Rule=rule_arn.split("/")[-1], Ids=["1"])

    def _delete_rule(self, rule_arn: str) -> None:
        self._events().delete_rule(Name=rule_arn.split("/")[-1])

    def _remove_polling(self) -> None:
        if "CrHelperRule" not in self._event:
            return
        try:
            _CRHELPER._remove_polling(self)
        except Exception:  # noqa: BLE001 - the answer to CloudFormation matters more than the cleanup
            logger.exception("Removing the polling schedule failed")

    def _timeout(self) -> None:
        logger.error("The invocation is about to time out; answering FAILED")
        self._remove_polling()
        self.PhysicalResourceId = self._failure_physical_id()
        self._send("FAILED", "The function timed out while working on the resource; see its log group.")

    def _failure_physical_id(self) -> str:
        """The id a FAILED answer carries: for a Create, what it made (so the Delete that CloudFormation
        sends next removes it), else the resource's current id."""
        event = self._event
        if event.get("RequestType") != "Create":
            return str(event.get("PhysicalResourceId", ""))
        made = self.PhysicalResourceId or event.get("CrHelperData", {}).get("PhysicalResourceId")
        return str(made or self.generate_physical_id(event))

    # --- the response -----------------------------------------------------------------------------------
    def _send(self, status: str | None = None, reason: str = "", sender: Any = None) -> None:
        # crhelper's signature is kept; the PUT always goes through this module's send_response.
        body = {
            "Status": status or self.Status,
            # crhelper answers its own init failures with an empty id, which CloudFormation rejects
            "PhysicalResourceId": str(self.PhysicalResourceId or self._failure_physical_id()),
            "StackId": self.StackId,
            "RequestId": self.RequestId,
            "LogicalResourceId": self.LogicalResourceId,
            "Reason": _truncate(str(reason if status else self.Reason)),
            # crhelper's bookkeeping and our private keys (leading "_") are not part of the Data API
            "Data": {
                k: v for k, v in self.Data.items() if k != "PhysicalResourceId" and not k.startswith("_")
            },
            "NoEcho": self.NoEcho,
        }
        if body["Status"] == "FAILED":
            logger.error("FAILED: %s", body["Reason"])
        send_response(self._response_url, body, self._ssl_verify)


def _truncate(reason: str) -> str:
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 15] + " ...(truncated)"
