"""Exactly one answer per request: the request's one EventBridge rule.

Each request has one rule, named after its RequestId (:func:`rule_for`). The first delivery creates it,
disabled, as a claim (:func:`claim`); it becomes the polling schedule when the request is handed over
(``polling.PollingResource._put_rule``), and is deleted when the request is answered. A delivery that
finds the rule (a duplicate: Lambda and EventBridge deliver an event at least once) does nothing. A
request whose first invocation runs out of function time while its deadline has time left is handed over
(:func:`hand_over`): the rule's own later tick runs it again (:func:`take_back`); a duplicate delivery
that finds the rule handed over takes it back instead (:func:`claim`). An answer sent by the pre-timeout
timer (no time left) leaves the rule as a tombstone (:func:`tombstone`) that deletes itself ten minutes
later (:func:`clear_tombstone`), so a late duplicate of the request finds it. The rule's Description says
which of these it is (:func:`rule_state`).

Two deliveries of one request may both get past the claim (they describe the rule before either has put
it): the claim's Description carries a token of the invocation that put it last, and an invocation looks
again before each step of its wait and before it answers (:func:`still_mine`). An invocation whose rule no
longer says what it wrote (a twin's token, a twin's answer that removed the rule or left a cleanup) stops
without answering: the request is the other delivery's. So does one whose EventBridge calls, allowed when it
claimed, are now denied: CloudFormation deletes a custom resource's role (or its policy) only after the
resource answered, so the request was answered by another delivery, and this one's answer would differ.

Lambda does not retry the function's invocations (the construct sets its EventInvokeConfig's
``MaximumRetryAttempts`` to 0): every request is answered by the handler itself (crhelper answers an
exception, the pre-timeout timer a request out of time) or left to its rule's tick, so a retry of an
invocation that errored or timed out could only repeat a request already answered or taken over, and at
EventBridge's rules quota (no rule to find) it would answer a second time. Throttled events are still
tried again by Lambda, but those never ran
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).

Every function takes ``events``, which returns an EventBridge client when called (``PollingResource``
fits each client to the time left; a client that cannot be made fails where a call would).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from typing import Any

import contract

logger = logging.getLogger(__name__)

RULE_NAME_MAX = 64
DEFAULT_RULE_PREFIX = "rmc-"
# The request's rule: its Description says what it is.
CLAIMED, POLLING, ANSWERED, CLEANUP = "claimed", "polling", "answered", "cleanup"
HANDED_OVER = "handed-over"  # the request's first invocation ran out of function time: run it again
# A request handed over is run again by its rule's tick, a minute after the handover: the timed-out
# invocation was stopped a few seconds after it (the pre-timeout timer hands over TIMER_LEAD seconds before
# the function's timeout), and nothing else runs it again (the function has no Lambda retries). Had
# Lambda's retries been turned back on, the first would come a few seconds after the tick, find the request
# taken back, and do nothing.
HANDOVER_PERIOD = 60.0
HANDOVER_RATE = "rate(1 minute)"
ANSWERED_KEY = "RmcAnsweredRule"  # the target Input of a tombstone
RESTART_KEY = "RmcRestartRule"  # the target Input of a request handed over (the event, and this key)
TARGET_INPUT_MAX = 8192  # EventBridge's limit on a target's Input
# crhelper's keys of a poll event: a request handed over before its first function returned has none.
_CRHELPER_KEYS = ("CrHelperData", "CrHelperPoll", "CrHelperRule", "CrHelperPermission")
CLEANUP_KEY = "RmcCleanupRule"  # the target Input of a cleanup left for later
TOMBSTONE_RATE = "rate(10 minutes)"
CLEANUP_RATE = "rate(1 minute)"
# A cleanup that has not finished after this long stops (and says so in the log): no rule polls forever.
CLEANUP_LIFETIME = 24 * 3600.0


def rule_prefix() -> str:
    """The prefix of every rule this function makes (the template scopes its permissions to it)."""
    return os.environ.get(contract.POLL_RULE_PREFIX_ENV, DEFAULT_RULE_PREFIX)


def rule_name(prefix: str, logical_id: str, suffix: str) -> str:
    """A rule name of at most 64 characters: prefix, as much of the logical id as fits, suffix."""
    room = RULE_NAME_MAX - len(prefix) - len(suffix) - 1
    sanitised = re.sub(r"[^A-Za-z0-9_.-]", "", logical_id)
    return f"{prefix}{sanitised[: max(room, 0)]}-{suffix}"[:RULE_NAME_MAX]


def request_digest(request_id: str) -> str:
    """Eight hex digits of the RequestId: the suffix of the request's rule, and its mark elsewhere."""
    return hashlib.sha256(request_id.encode()).hexdigest()[:8].upper()


def rule_for(event: dict[str, Any]) -> str:
    """The name of the request's rule."""
    digest = request_digest(str(event.get("RequestId", "")))
    return rule_name(rule_prefix(), str(event.get("LogicalResourceId", "")), digest)


def rule_state(events: Callable[[], Any], name: str) -> str:
    """CLAIMED, POLLING, ANSWERED (a tombstone), or "" when the rule does not exist."""
    try:
        rule = events().describe_rule(Name=name)
    except events().exceptions.ResourceNotFoundException:
        return ""
    description = str(rule.get("Description") or "")
    return next((s for s in (CLAIMED, ANSWERED, CLEANUP, HANDED_OVER) if description.startswith(s)), POLLING)


# What claim() found: the request is this invocation's, another delivery's, this invocation's without a
# rule (EventBridge's rules quota is reached: no claim, and no schedule could be made either), or this
# invocation's although the claim failed (its rule's state is unknown: nothing is checked against it): the
# call was denied (DENIED), or it failed otherwise (UNSURE).
MINE, TAKEN, NO_ROOM, UNSURE, DENIED = "mine", "taken", "no-room", "unsure", "denied"
RULES_QUOTA_REASON = (
    "EventBridge's quota of rules per event bus (300 by default, 100 in some Regions, shared with every "
    "other rule of the account in this Region) is reached (PutRule: LimitExceededException): this "
    "resource needs one rule for each request in progress. Delete rules you do not need, or ask for a "
    "higher 'Maximum number of rules per event bus' quota in the Service Quotas console (Amazon "
    "EventBridge), then deploy again."
)


def claimed_by(token: str) -> str:
    """The Description of a claim put by the invocation holding ``token``."""
    return f"{CLAIMED} {token}"


def claim(events: Callable[[], Any], event: dict[str, Any], token: str) -> str:
    """Claim a request for this invocation (``token`` names it in the rule): MINE; TAKEN when another
    delivery has (or had) it; NO_ROOM when EventBridge's rules quota leaves no room for its rule (the
    request is worked on without one); DENIED when EventBridge denied the claim, UNSURE when it failed
    otherwise (worked on regardless in both cases)."""
    name = rule_for(event)
    try:
        state = rule_state(events, name)
        if state == HANDED_OVER:
            return _take_back(events, name, event, token)
        if state:
            logger.info(
                "%s of %s is already in hand (%s): nothing to do",
                event.get("RequestType"),
                event.get("LogicalResourceId"),
                state,
            )
            return TAKEN
        events().put_rule(
            Name=name, ScheduleExpression="rate(1 minute)", State="DISABLED", Description=claimed_by(token)
        )
    except Exception as error:  # noqa: BLE001 - without a claim the request is still answered
        if _code(error) == "LimitExceededException":
            logger.warning("Claiming the request failed: EventBridge's rules quota is reached")
            return NO_ROOM
        if "AccessDenied" in _code(error):
            logger.warning("EventBridge denies the request's claim; working on it regardless")
            return DENIED
        logger.exception("Claiming the request failed; working on it regardless")
        return UNSURE
    return MINE


def denied(events: Callable[[], Any], name: str) -> bool:
    """Whether EventBridge denies this function a look at the request's rule now (DescribeRule)."""
    try:
        events().describe_rule(Name=name)
    except Exception as error:  # noqa: BLE001 - only a denial counts
        return "AccessDenied" in _code(error)
    return False


def _code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code") or "")


def still_mine(events: Callable[[], Any], name: str, expected: str) -> bool:
    """Whether the request's rule still says what this invocation last made it say (``expected``: its
    Description; "" for no rule, when the rules quota left no room for one). False when it says anything
    else (another delivery's claim, schedule or cleanup; the rule removed by another delivery's answer), or
    when the call is denied: the invocation could call EventBridge when it claimed the request, and the
    function's role loses that only when CloudFormation deletes it, after the request was answered. Any
    other failure of the call is True: the invocation goes on as it would have without the look."""
    try:
        rule = events().describe_rule(Name=name)
    except Exception as error:  # noqa: BLE001 - only a denial or an answer to the look decides
        if _code(error) == "ResourceNotFoundException":
            return expected == ""
        if "AccessDenied" in _code(error):
            logger.warning("EventBridge denies the request's rule now: the request was answered elsewhere")
            return False
        logger.warning("Looking at the request's rule failed (%s); going on", _code(error) or error)
        return True
    return str(rule.get("Description") or "") == expected


def tombstone(events: Callable[[], Any], event: dict[str, Any], function_arn: str) -> None:
    """After the timer's answer: the request's rule stays, answered, and deletes itself later."""
    name = rule_for(event)
    try:
        events().put_rule(Name=name, ScheduleExpression=TOMBSTONE_RATE, State="ENABLED", Description=ANSWERED)
        events().put_targets(
            Rule=name,
            Targets=[{"Id": "1", "Arn": function_arn, "Input": json.dumps({ANSWERED_KEY: name})}],
        )
    except Exception:  # noqa: BLE001 - the answer is sent; a duplicate delivery may answer again
        logger.exception("Leaving the answered mark failed")


def leave_cleanup(
    events: Callable[[], Any], event: dict[str, Any], function_arn: str, cleanup: dict[str, str], until: float
) -> None:
    """Keep the request's rule, after its answer, as the schedule of a cleanup: every minute it invokes
    the function with ``cleanup`` (the resource's, opaque here) until the resource says it is done or
    ``until`` has passed. The rule exists already (the request's claim or schedule), so no rules quota is
    needed; the error of a rule that cannot be made or changed is raised. The input names the resource the
    cleanup acts for (its stack and logical id), so that its calls can be told apart from anyone else's
    (the log line, and a reader of the rule's target); it carries no RequestId: the request is answered."""
    name = rule_for(event)
    body = {
        CLEANUP_KEY: name,
        "ResourceType": event.get("ResourceType"),
        "StackId": event.get("StackId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "Cleanup": cleanup,
        "Until": until,
    }
    events().put_rule(Name=name, ScheduleExpression=CLEANUP_RATE, State="ENABLED", Description=CLEANUP)
    events().put_targets(Rule=name, Targets=[{"Id": "1", "Arn": function_arn, "Input": json.dumps(body)}])


def _restart_input(event: dict[str, Any]) -> str | None:
    """The target Input that runs a request's first invocation again: the event with the restart key (a
    Delete's without what it does not read: the old properties and the tags), or None when it does not fit
    in EventBridge's 8192 characters."""
    body = {k: v for k, v in event.items() if k not in _CRHELPER_KEYS}
    body[RESTART_KEY] = rule_for(event)
    text = json.dumps(body)
    if len(text) > TARGET_INPUT_MAX and event.get("RequestType") == "Delete":
        body.pop("OldResourceProperties", None)
        body["ResourceProperties"] = {
            k: v for k, v in dict(body.get("ResourceProperties") or {}).items() if k != "Tags"
        }
        text = json.dumps(body)
    return text if len(text) <= TARGET_INPUT_MAX else None


def hand_over(events: Callable[[], Any], event: dict[str, Any], function_arn: str) -> bool:
    """The request's first invocation is about to reach the function's timeout before its resource
    function returned: make the request's rule a schedule, marked as handed over, whose tick runs the
    invocation again (the resource functions are idempotent; :func:`take_back`). A duplicate delivery of
    the request that comes first claims it back instead (:func:`claim`). The rule's Description keeps the
    request's deadline (``PollDeadline``). False when the event does not fit in a target's Input; an error
    of EventBridge is raised."""
    body = _restart_input(event)
    if body is None:
        return False
    name = rule_for(event)
    description = f"{HANDED_OVER} {float(event.get('PollDeadline') or 0):.0f}"
    events().put_rule(Name=name, ScheduleExpression=HANDOVER_RATE, State="ENABLED", Description=description)
    events().put_targets(Rule=name, Targets=[{"Id": "1", "Arn": function_arn, "Input": body}])
    return True


def _take_back(events: Callable[[], Any], name: str, event: dict[str, Any], token: str) -> str:
    """Claim a request handed over for this invocation again: the rule disabled (no tick runs it too),
    the request's deadline restored into ``event`` from the rule's Description."""
    description = str(events().describe_rule(Name=name).get("Description") or "")
    try:
        event["PollDeadline"] = float(description.split()[1])
    except (IndexError, ValueError):
        pass  # no deadline recorded: the invocation counts from its own arrival
    events().put_rule(
        Name=name, ScheduleExpression="rate(1 minute)", State="DISABLED", Description=claimed_by(token)
    )
    logger.info(
        "%s of %s: taken back after a handover",
        event.get("RequestType"),
        event.get("LogicalResourceId"),
    )
    return MINE


def take_back(events: Callable[[], Any], event: dict[str, Any], token: str) -> bool:
    """A tick of a request handed over: claim the request again for this invocation. False when the rule
    is not (or no longer) a handover of this request (a duplicate delivery took it back, a late or repeated
    tick, an input naming anything else): nothing to do."""
    name = str(event.get(RESTART_KEY, ""))
    if name != rule_for(event) or rule_state(events, name) != HANDED_OVER:
        return False
    return _take_back(events, name, event, token) == MINE


def is_cleanup(events: Callable[[], Any], name: str) -> bool:
    """Whether ``name`` is a cleanup schedule of this function (a direct invocation naming anything else
    is ignored)."""
    return name.startswith(rule_prefix()) and rule_state(events, name) == CLEANUP


def clear_tombstone(events: Callable[[], Any], name: str) -> None:
    """The tombstone's own invocation: delete it (only an answered rule of this function)."""
    if name.startswith(rule_prefix()) and rule_state(events, name) == ANSWERED:
        delete_rule(events, name)


def delete_rule(events: Callable[[], Any], name: str) -> None:
    """Remove the rule and its target; a rule already gone is fine, any other failure is logged."""
    try:
        events().remove_targets(Rule=name, Ids=["1"])
        events().delete_rule(Name=name)
    except events().exceptions.ResourceNotFoundException:
        pass
    except Exception:  # noqa: BLE001 - the answer to CloudFormation matters more than the cleanup
        logger.exception("Removing the rule %s failed", name)
