"""The layer over crhelper's CfnResource: ``PollingResource``.

crhelper (2.0.12, pinned in ``requirements.txt``) drives the custom resource protocol and the EventBridge
polling schedule. This subclass keeps its flow and compensates for its known defects: it changes IAM at
run time (one ``lambda:AddPermission`` per polling resource), makes rule names from the whole
LogicalResourceId (over 64 characters for a long one), puts the whole event into the schedule's target
Input (over 8192 characters with many tags), has no overall deadline (a failed stack polls forever),
leaves the schedule behind when its pre-timeout timer answers, ignores the HTTP status of the response
PUT and retries a PUT that cannot connect forever, logs the whole event (ResponseURL included) at its
default DEBUG level and sleeps 120 s before every Delete answer.

What it relies on in crhelper beyond the public API (the private methods it overrides or extends, the
calls inside crhelper that reach them, the private attributes it uses, the timer's module) is stated once,
as data, in ``crhelper_contract.py``, which ``tests/handler/test_crhelper_contract.py`` checks against the
pinned crhelper.

What it does instead:

* no runtime IAM changes: the invoke permission for the schedule is granted once in the template,
  scoped to the rule-name prefix in ``POLL_RULE_PREFIX``; ``lambda:AddPermission`` is never called;
* rule names always fit EventBridge's 64 characters, whatever the LogicalResourceId
  (``request_rule.rule_name``);
* the schedule's target Input is a slim copy of the event (no Tags, no OldResourceProperties), so it stays
  under EventBridge's 8192 characters;
* one answer per request: the first delivery claims the request with a rule named after its RequestId
  (which becomes its schedule); a duplicate delivery or a late poll finds the rule and does nothing
  (``request_rule.py``); an invocation looks at the rule again before each look of its wait and before it
  answers, and stops without answering when another delivery of the request has it now
  (``_superseded``); Lambda does not retry the function's invocations (its EventInvokeConfig, set by the
  construct), since every request is answered here or left to its rule's tick;
* a deadline: FAILED is sent ANSWER_MARGIN seconds (a quarter of ServiceTimeout when shorter) before
  CloudFormation's timeout, counted from when the request reached the function (``Deadline``), and the
  schedule is removed; every client's retries and timeouts fit in the time left (``time_budget.py``);
* a resource function may answer at once (``Outcome.complete``): no schedule is created for it;
* a fast path: before handing over to the 1-minute schedule, the first invocation polls in-process every
  10 s for up to 10 minutes (while the function has time left), so most operations answer in seconds;
* a poll of the schedule whose next tick would come too late looks again in-process every 10 s while a
  look fits (``_look_again_in_process``), so the last round is not the last look;
* the pre-timeout timer (TIMER_LEAD s before Lambda's timeout) leaves the request to its schedule while
  the request's deadline has time left (``_hand_over``: nothing is answered, a call that returns late
  answers nothing either); with no time left it answers FAILED and takes the schedule down, so a
  timed-out poll does not poll forever;
* the response PUT is retried a bounded number of times, its HTTP status is checked, and neither the
  ResponseURL nor the event is ever logged; the Reason is truncated at its end, not its beginning
  (``cfn_response.py``); log level INFO; no sleep before a Delete answer.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from crhelper import CfnResource, resource_helper

from cfn import concurrency, request_rule, stack_status, time_budget
from cfn.cfn_response import put_response, truncate
from cfn.request_rule import ANSWERED_KEY, CLEANUP_KEY, CLEANUP_LIFETIME, POLLING, RESTART_KEY
from cfn.time_budget import MIN_STEP, SEND_RESERVE, answer_by, call_budget, fitted_config
from contract import MODEL_COPY_TYPE as MODEL_COPY
from outcome import Deadline, Outcome, service_timeout

logger = logging.getLogger(__name__)

TARGET_INPUT_MAX = 8192
# The fast path: the first invocation polls in-process every 10 s while the Lambda has more than
# FAST_PATH_RESERVE seconds left, then hands over to crhelper's 1-minute schedule. 10 s is both the
# detection latency target and the call budget (one DescribeProjectVersions per 10 s of copy time).
FAST_PATH_INTERVAL = 10.0
FAST_PATH_RESERVE = 30.0
# No longer than this: copies under 10 minutes are answered within 10 s of finishing; a longer copy does
# not keep the function running (and billed) for its whole 15 minutes before the schedule takes over.
FAST_PATH_MAX_SECONDS = 600.0
SCHEDULE_ROUND = 60.0
TIMER_LEAD = 3.0
# What a look in-process needs at the least after its wait: one call of the shortest client
# ``fitted_config`` makes (one attempt, 1 s to connect, 2 s to read). A poll whose next tick would come too
# late looks again in-process while this fits (``_look_again_in_process``).
SHORTEST_LOOK = 3.0
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
)


CleanupFunc = Callable[[Any, dict[str, str]], bool]


class SystemClock:
    """Wall-clock time. The lifecycle driver swaps ``polling.CLOCK`` for its simulated clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


CLOCK: Any = SystemClock()


def _service_timeout(event: dict[str, Any]) -> float:
    """The request's ServiceTimeout, from its properties."""
    return service_timeout(event.get("ResourceProperties", {}))


# crhelper's stubs declare only its public API; the private methods this layer overrides are reached
# through an untyped alias, and the private attributes it reads are declared on the subclass.
_CRHELPER: Any = CfnResource
_RESOURCE_HELPER: Any = resource_helper


def _schedule_failed(operation: str, error: Exception) -> RuntimeError:
    """The Reason of a request whose polling schedule could not be made (the request is then answered
    FAILED; crhelper would answer botocore's raw message)."""
    details = getattr(error, "response", {}).get("Error", {})
    said = f"{details.get('Code')}: {details.get('Message')}" if details.get("Code") else str(error)
    return RuntimeError(
        f"The request needs a polling schedule, and EventBridge's {operation} failed: {said}. The function's "
        f"role needs events:PutRule, events:PutTargets, events:DescribeRule, events:RemoveTargets and "
        f"events:DeleteRule on the rules named {request_rule.rule_prefix()}* (the construct grants them)."
    )


class PollingResource(CfnResource):
    """crhelper's CfnResource with the defects above mended; see the module docstring."""

    _event: dict[str, Any]
    _polling_interval: int
    _response_url: str
    _ssl_verify: Any
    _context: Any

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("log_level", "INFO")
        kwargs.setdefault("boto_level", "WARNING")
        kwargs.setdefault("polling_interval", 1)
        kwargs.setdefault("sleep_on_delete", 0)
        super().__init__(**kwargs)
        self._outcome_complete = False
        self._clients: dict[tuple[str, float], Any] = {}
        self._arrival = 0.0
        self._round = SCHEDULE_ROUND
        self._timer_answered = False
        self._handed_over = False
        self._cleanup_left = False
        self._no_room = False
        self._token = ""
        self._rule_says: str | None = None
        self._stood_down = False
        self._claim_denied = False
        self._work_denied = False
        self._stale = False
        self._fast_path_longest = FAST_PATH_MAX_SECONDS
        self._cleanup_funcs: dict[str, CleanupFunc] = {}

    # --- invocation ------------------------------------------------------------------------------------
    def __call__(self, event: dict[str, Any], context: Any) -> None:
        self._arrival = CLOCK.now()
        self._clients = {}  # credentials and Region are read per invocation
        self._outcome_complete = False
        self._round = SCHEDULE_ROUND * self._polling_interval
        self._timer_answered = False
        self._handed_over = False  # the pre-timeout timer left the request to its schedule
        self._cleanup_left = False
        self._no_room = False  # no rule could be made for this request (EventBridge's rules quota)
        # what this invocation last made the request's rule say ("": no rule; None: unknown, not checked)
        # and the token its claim carries; stood down: another delivery has the request (_superseded)
        self._token = uuid.uuid4().hex[:16]
        self._rule_says = None
        self._stood_down = False
        self._claim_denied = False  # EventBridge denied the request's claim
        self._work_denied = False  # the resource function failed with an AccessDenied
        self._stale = False  # the request's stack waits for no answer (stack_status.StaleRequest)
        self._context = context
        if ANSWERED_KEY in event:
            request_rule.clear_tombstone(self._events, str(event[ANSWERED_KEY]))
            return
        if CLEANUP_KEY in event:
            self._clean_up(event)
            return
        schedule = str(event.get("CrHelperRule", "")).split("/")[-1]  # a poll's: the request's rule
        if RESTART_KEY in event:
            # a request handed over by the pre-timeout timer: its first invocation again (its deadline kept)
            if not request_rule.take_back(self._events, event, self._token):
                logger.info("Restart of %s: not handed over, nothing to do", event.get("LogicalResourceId"))
                return
            del event[RESTART_KEY]
            self._rule_says = request_rule.claimed_by(self._token)
        elif "CrHelperPoll" not in event:
            claimed = request_rule.claim(self._events, event, self._token)
            if claimed == request_rule.TAKEN:
                return
            self._no_room = claimed == request_rule.NO_ROOM
            self._claim_denied = claimed == request_rule.DENIED
            self._rule_says = {
                request_rule.MINE: request_rule.claimed_by(self._token),
                request_rule.NO_ROOM: "",
            }.get(claimed)
            # answer before CloudFormation gives up, so the Reason is ours and the schedule is removed
            # (a request taken back after a handover keeps the deadline it had)
            event.setdefault("PollDeadline", answer_by(self._arrival, _service_timeout(event)))
        else:
            try:
                state: str | None = request_rule.rule_state(self._events, schedule)
            except Exception:  # noqa: BLE001 - a poll that cannot look still answers (never a hang)
                logger.exception("Looking at the polling schedule failed; polling regardless")
                state = None  # unknown: nothing is checked against it
            if state not in (POLLING, None):
                # The schedule is removed when the request is answered: this is a late or repeated
                # delivery (EventBridge and Lambda deliver at least once). Answering again would send a
                # second, possibly contradicting, response.
                logger.info("Poll of %s: already answered, nothing to do", event.get("LogicalResourceId"))
                return
            self._rule_says = state
        super().__call__(event, context)
        answered_here = "CrHelperPoll" not in event and "CrHelperRule" not in event
        left_alone = self._timer_answered or self._handed_over or self._cleanup_left or self._stood_down
        if answered_here and not left_alone:
            # answered here: the claim is released
            request_rule.delete_rule(self._events, request_rule.rule_for(event))

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
        """Record an outcome from a create/update/delete/poll function; returns what crhelper expects.

        A complete outcome with work left for later (``Outcome.cleanup``) keeps the request's rule as
        that work's schedule before the answer is sent; when that fails, the request fails with the
        reason (nothing is left behind unscheduled)."""
        self.Data.update(outcome.data)
        if outcome.complete and outcome.cleanup and not self._handed_over:
            self._leave_cleanup(outcome.cleanup)
        if "CrHelperPoll" in self._event:
            return outcome.physical_id if outcome.complete else ""
        self._outcome_complete = outcome.complete
        return outcome.physical_id

    def patiently(self, run: Callable[[], Outcome], *, may_start_work: bool = True) -> Outcome:
        """Run a resource function in a request's first invocation. A transient failure (an exception
        whose ``transient`` attribute is true: throttling, a server error after botocore's retries; or
        one with ``retry_within`` seconds of patience, for that long) is not the request's answer while
        time is left: it runs again every FAST_PATH_INTERVAL seconds
        while the request's deadline and the function's own time allow (the resource functions are
        idempotent: Lambda redelivers events anyway).

        Without a rule for this request (EventBridge's rules quota), a request that ``may_start_work`` (a
        copy that may outlast this invocation) is refused before anything is made; the others (a Delete,
        an Update made in place, such as a rollback to the copy the stack holds) run within this
        invocation."""
        answered = self._answered_already()
        if answered:
            self._stale = True
            raise stack_status.StaleRequest(answered[0].upper() + answered[1:])
        if self._no_room and may_start_work and self._event.get("RequestType") != "Delete":
            # before anything is made: it may need a schedule, which cannot be made
            raise RuntimeError(request_rule.RULES_QUOTA_REASON)
        started = CLOCK.now()
        while True:
            try:
                return run()
            except Exception as error:
                if getattr(error, "stale", False):  # a late delivery: its request was answered
                    logger.info("%s: nothing waits for its answer; this delivery answers nothing", error)
                    self._stale = True
                    raise
                # (``retry_within``: seconds from the first try in which the failure may still pass, such
                # as an AccessDenied while a new role or policy takes effect)
                within = float(getattr(error, "retry_within", 0.0) or 0.0)
                patient = CLOCK.now() - started + FAST_PATH_INTERVAL <= within
                if not (getattr(error, "transient", False) or patient) or not self._room_to_try_again():
                    # denied for the whole patience the denial has (a new role's permissions take effect
                    # within it), not cut short by the request's own time
                    self._work_denied = bool(getattr(error, "denied", False)) and not patient
                    raise
                logger.warning("Transient failure, trying again in %g s: %s", FAST_PATH_INTERVAL, error)
                CLOCK.sleep(FAST_PATH_INTERVAL)
                if self._superseded():
                    raise RuntimeError("Another delivery of this request has it now") from error

    def _answered_already(self) -> str:
        """Why this Create or Update was answered already, as the stack's events show
        (``stack_status.answered``: another delivery's FAILED answer, or the resource waiting for no answer
        in the stack's operation), or "". Asked of every first delivery: a delivery whose claim says the
        request is its own cannot tell, as a delivery without a rule (at EventBridge's rules quota) left
        none to find, and one whose request was answered SUCCESS left none either."""
        event = self._event
        if event.get("RequestType") not in ("Create", "Update") or event.get("ResourceType") != MODEL_COPY:
            return ""  # (a project policy's request is complete at once: nothing of it outlasts it)
        return stack_status.answered(lambda: self.client("cloudformation"), event, CLOCK.sleep)

    def _superseded(self) -> bool:
        """Whether another delivery of this request has it now (``request_rule.still_mine``): then this
        invocation stands down: it answers nothing and leaves the rule to the other (``_stood_down``)."""
        if not self._stood_down and self._rule_says is not None:
            event = self._event
            if not request_rule.still_mine(self._events, request_rule.rule_for(event), self._rule_says):
                logger.info(
                    "%s of %s: another delivery has it now; this one stops",
                    event.get("RequestType"),
                    event.get("LogicalResourceId"),
                )
                self._stood_down = True
        return self._stood_down

    def _lost_its_role(self) -> bool:
        """Whether this delivery of an Update or a Delete runs after its stack deleted the function's role:
        EventBridge denied its claim, the resource's own call was denied too for all the patience a denial
        gets (``patiently``: IAM's eventual consistency), and EventBridge still denies a look at the
        request's rule; a request without the time to wait out that patience answers. The role the library
        makes may always claim (its EventBridge permissions never change), and CloudFormation deletes the
        role only after the resources that use it are done: another delivery of this request (Lambda
        delivers at least once) answered it, and this one stands down (``_stood_down``) instead of
        answering a second time. A Create is always answered: its role may be new."""
        event = self._event
        if not (self._claim_denied and self._work_denied) or event.get("RequestType") == "Create":
            return False
        if not request_rule.denied(self._events, request_rule.rule_for(event)):
            return False  # EventBridge answers now: the denial is the resource's own, and it is answered
        logger.warning(
            "%s of %s: every call is denied, the function's role is gone; another delivery answered it",
            event.get("RequestType"),
            event.get("LogicalResourceId"),
        )
        self._stood_down = True
        return True

    def _rule_now_says(self, description: str) -> None:
        """This invocation made the request's rule say ``description`` ("": removed it); an invocation that
        does not check its rule (it could not look at it, or its own write half failed) never starts to."""
        if self._rule_says is not None:
            self._rule_says = description

    @property
    def rules_quota_reached(self) -> bool:
        """Whether this request has no rule (EventBridge's rules quota): nothing may outlast the
        invocation."""
        return self._no_room

    def _room_to_try_again(self) -> bool:
        if self._context is None:
            return False
        lambda_left = self._context.get_remaining_time_in_millis() / 1000 - FAST_PATH_INTERVAL
        return bool(lambda_left > FAST_PATH_RESERVE and self._time_left() - FAST_PATH_INTERVAL > MIN_STEP)

    # --- work left for later ----------------------------------------------------------------------------
    def cleanup(self, resource_type: str) -> Callable[[CleanupFunc], CleanupFunc]:
        """Register the function that does one tick of a resource type's cleanup (True: done)."""

        def register(func: CleanupFunc) -> CleanupFunc:
            self._cleanup_funcs[resource_type] = func
            return func

        return register

    def _leave_cleanup(self, cleanup: dict[str, str]) -> None:
        try:
            request_rule.leave_cleanup(
                self._events,
                self._event,
                str(self._context.invoked_function_arn),
                cleanup,
                CLOCK.now() + CLEANUP_LIFETIME,
            )
        except Exception as error:  # noqa: BLE001 - reported to CloudFormation as the Reason
            # the rule may be half made (PutRule done, PutTargets not): what it says is this invocation's
            # own doing, not a twin's, so nothing is checked against it; the answer then removes it
            self._rule_says = None
            raise RuntimeError(
                "Part of the work can only be done later (a model version still copying, which the service "
                f"does not delete yet), and its schedule could not be kept: {error}. Try again once the "
                "copy has finished (see the function's log group)."
            ) from error
        self._cleanup_left = True
        self._rule_now_says(request_rule.CLEANUP)

    def _clean_up(self, event: dict[str, Any]) -> None:
        """A tick of a cleanup schedule: the resource's cleanup function; the rule goes when it is done,
        or when its lifetime is over (logged)."""
        name = str(event[CLEANUP_KEY])
        if not request_rule.is_cleanup(self._events, name):
            logger.info("Cleanup %s: no such cleanup schedule of this function, nothing to do", name)
            return
        self._event = event
        func = self._cleanup_funcs.get(str(event.get("ResourceType")))
        done = False
        try:
            done = func is not None and func(self.client("rekognition"), dict(event.get("Cleanup") or {}))
        except Exception:  # noqa: BLE001 - looked at again at the next tick
            logger.exception("Cleanup %s failed; trying again at the next tick", name)
        if func is None or done:
            logger.info("Cleanup %s done", name)
            request_rule.delete_rule(self._events, name)
        elif CLOCK.now() > float(event.get("Until") or 0):
            logger.error("Cleanup %s did not finish in its lifetime; stopped. See the log above.", name)
            request_rule.delete_rule(self._events, name)

    def _answer_by(self) -> float:
        stored = self._event.get("PollDeadline")
        return float(stored) if stored else answer_by(self._arrival, _service_timeout(self._event))

    def _time_left(self) -> float:
        """Seconds this invocation may still spend on calls: to the request's deadline, and within the
        Lambda's own timeout (crhelper's timer answers half a second before it)."""
        left = self._answer_by() - float(CLOCK.now())
        if self._context is not None:
            left = min(left, float(self._context.get_remaining_time_in_millis()) / 1000 - 1.0)
        return left - SEND_RESERVE

    def deadline(self) -> Deadline:
        """The request's deadline, for the resource functions' polls. In a poll of the schedule, the next
        look is the next tick, or, when that tick would come too late for a step and another look fits in
        this invocation, FAST_PATH_INTERVAL from now (``_look_again_in_process`` keeps that promise)."""
        if "CrHelperRule" in self._event:
            tick = SCHEDULE_ROUND * self._polling_interval
            too_late = CLOCK.now() + tick + MIN_STEP > self._answer_by()
            self._round = FAST_PATH_INTERVAL if too_late and self._room_to_look_again() else tick
        return Deadline(self._answer_by(), CLOCK, MIN_STEP, self._round)

    def _room_to_look_again(self) -> bool:
        """Whether a look after FAST_PATH_INTERVAL more seconds fits before the request's deadline and
        within the function's own time."""
        return self._context is not None and self._time_left() - FAST_PATH_INTERVAL >= SHORTEST_LOOK

    def _look_again_in_process(self, event: dict[str, Any]) -> None:
        """A poll of the schedule that was told its next look comes in FAST_PATH_INTERVAL seconds (see
        ``deadline``) and is not done: it looks again in this invocation, every FAST_PATH_INTERVAL seconds
        while a look fits, and at once when none does any more (that look is told it is the last round, so
        it answers: done, left to a cleanup, or given up). So a copy deleted at the last scheduled round is
        seen gone, not given up on."""
        poll = getattr(self, f"_poll_{event['RequestType'].lower()}_func", None)
        while (
            poll is not None
            and self._round == FAST_PATH_INTERVAL
            and not self.PhysicalResourceId
            and self.Status != "FAILED"
            and not (self._timer_answered or self._handed_over)
        ):
            if self._room_to_look_again():
                CLOCK.sleep(FAST_PATH_INTERVAL)
            else:
                self._round = SCHEDULE_ROUND * self._polling_interval  # this look is the last
            if self._superseded():
                return
            try:
                self.PhysicalResourceId = poll(event, self._context)
            except Exception as error:  # noqa: BLE001 - reported to CloudFormation as the Reason
                logger.error("Failed while looking again: %s", error)
                self.Status, self.Reason = "FAILED", str(error)

    def _polling_init(self, event: dict[str, Any]) -> None:
        if "CrHelperRule" in event:
            self._look_again_in_process(event)  # a poll whose next tick would come too late
        if self._handed_over or self._stood_down:
            return  # the request is its schedule's, or another delivery's, now: nothing more from here
        if "CrHelperPoll" not in event and self._outcome_complete and self.Status != "FAILED":
            self._send_response = True  # done in the first invocation: no schedule needed
            return
        if "CrHelperPoll" not in event and self.Status == "FAILED":
            self._send_response = True  # failed before any schedule existed: nothing to remove
            return
        if "CrHelperPoll" in event and self.Status == "FAILED" and event["RequestType"] == "Create":
            # crhelper would answer with a random id; see _failure_physical_id
            self.PhysicalResourceId = self._failure_physical_id()
        if "CrHelperPoll" not in event and self._wait_in_process(event):
            return
        if "CrHelperPoll" not in event and self._no_room:
            # no rule for a schedule: the request is answered within this invocation, here FAILED, with
            # the id the resource had (a Create's, what it made)
            self.PhysicalResourceId = self._failure_physical_id()
            self.Status, self.Reason = "FAILED", (
                f"The {event.get('RequestType', 'request')} did not finish within one invocation of the "
                f"function, and it cannot be polled later: {request_rule.RULES_QUOTA_REASON}"
            )
            self._send_response = True
            return
        if "CrHelperPoll" not in event and self._superseded():
            return  # the request's rule is another delivery's: no schedule of this invocation replaces it
        _CRHELPER._polling_init(self, event)

    def _fast_path_has_room(self, waited: float) -> bool:
        # without a rule (the rules quota) there is no schedule to hand over to: the whole invocation
        longest = math.inf if self._no_room else self._fast_path_longest
        return bool(
            self._context.get_remaining_time_in_millis() / 1000 - FAST_PATH_INTERVAL > FAST_PATH_RESERVE
            and waited + FAST_PATH_INTERVAL <= longest
            and (not self._no_room or self._time_left() - FAST_PATH_INTERVAL > MIN_STEP)
        )

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
        # shorter when Lambda concurrency is scarce: each waiting invocation holds an execution
        self._fast_path_longest = concurrency.fast_path_seconds(
            FAST_PATH_MAX_SECONDS, lambda: self.client("lambda"), CLOCK.now()
        )
        self._event = poll_event
        waited = 0.0
        try:
            while self._fast_path_has_room(waited):
                CLOCK.sleep(FAST_PATH_INTERVAL)
                waited += FAST_PATH_INTERVAL
                if self._superseded():
                    return True  # another delivery has the request: nothing to answer from here
                # the next look: in 10 s, or (handing over) at the schedule's first tick
                self._round = FAST_PATH_INTERVAL if self._fast_path_has_room(waited) else SCHEDULE_ROUND
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

    # --- clients ----------------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """A boto3 client for a service, with the invocation's own credentials and Region, whose retries
        and timeouts fit in the time left (see ``fitted_config``); one per invocation while time allows
        the full budget (the fast path looks many times)."""
        key = (service, call_budget(self._time_left()))
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service, region_name=os.environ.get("AWS_REGION"), config=fitted_config(key[1])
            )
        return self._clients[key]

    def _events(self) -> Any:
        return self.client("events")

    def _put_rule(self) -> str:
        try:
            response = self._events().put_rule(
                Name=request_rule.rule_for(self._event),  # the request's claim becomes its schedule
                ScheduleExpression="rate(1 minute)"
                if self._polling_interval == 1
                else f"rate({self._polling_interval} minutes)",
                State="ENABLED",
                Description=POLLING,
            )
        except Exception as error:
            raise _schedule_failed("PutRule", error) from error
        self._rule_now_says(POLLING)
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
        try:
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
        except Exception as error:
            raise _schedule_failed("PutTargets", error) from error

    def _remove_targets(self, rule_arn: str) -> None:
        self._events().remove_targets(Rule=rule_arn.split("/")[-1], Ids=["1"])

    def _delete_rule(self, rule_arn: str) -> None:
        self._events().delete_rule(Name=rule_arn.split("/")[-1])

    def _remove_polling(self) -> None:
        if "CrHelperRule" not in self._event or self._cleanup_left or self._superseded():
            return  # no schedule, it is kept for the cleanup, or another delivery has it
        try:
            _CRHELPER._remove_polling(self)
            self._rule_now_says("")
        except Exception:  # noqa: BLE001 - the answer to CloudFormation matters more than the cleanup
            logger.exception("Removing the polling schedule failed")
            self._rule_says = None

    def _set_timeout(self) -> None:
        # crhelper's timer, TIMER_LEAD seconds before the Lambda timeout (crhelper: 0.5 s), so the answer
        # and the answered mark both fit; resource_helper.threading is what a test driver virtualises
        seconds = self._context.get_remaining_time_in_millis() / 1000 - TIMER_LEAD
        self._timer = _RESOURCE_HELPER.threading.Timer(max(seconds, 0.0), self._timeout)
        self._timer.start()

    def _timeout(self) -> None:
        if self._stood_down or self._hand_over():
            return
        logger.error("The invocation is about to time out; answering FAILED")
        self.PhysicalResourceId = self._failure_physical_id()
        reason = "The function timed out while working on the resource; see its log group."
        if self._no_room:
            # time is left, but no later invocation can take the request up: it has no rule
            reason = (
                "The function timed out while working on the resource (a call to AWS did not return), and "
                f"the request cannot go on in a later invocation: {request_rule.RULES_QUOTA_REASON}"
            )
        if self._answer_by() - float(CLOCK.now()) <= MIN_STEP + SEND_RESERVE:
            # one call held the invocation past the time the request had (botocore's timeouts did not end it)
            reason = (
                "A call to AWS did not return until the function timed out, past the time this request had "
                f"to answer (ServiceTimeout {_service_timeout(self._event):g} s); see the function's logs."
            )
        self._send("FAILED", reason)
        if self._stood_down:
            return  # another delivery has the request: its rule is not this invocation's to change
        self._timer_answered = True
        # replaces the schedule, if any: no poll answers again
        request_rule.tombstone(self._events, self._event, str(self._context.invoked_function_arn))

    def _hand_over(self) -> bool:
        """The invocation is about to reach the function's timeout while the request's own deadline has
        time left: leave the request to its schedule and answer nothing (True). A poll's schedule goes on;
        a first invocation (in its resource function or its fast path) is run again from the request's rule
        (``request_rule.hand_over``). Whatever this invocation does
        after this point sends nothing and leaves the rule as it is (``_handed_over``). False: no time is
        left, no rule can be made, or making it failed; the timer answers FAILED."""
        left = self._answer_by() - float(CLOCK.now())
        first = "CrHelperRule" not in self._event  # the request's first invocation (its fast path too)
        period = request_rule.HANDOVER_PERIOD if first else SCHEDULE_ROUND * self._polling_interval
        if self._no_room or left <= period + MIN_STEP + SEND_RESERVE:
            return False
        if first and self._superseded():
            return True  # another delivery has the request: nothing to hand over, nothing to answer
        try:
            # a poll of the schedule: the next tick polls again. A first invocation is run again by its
            # rule's tick (nothing else runs it: the function has no Lambda retries), HANDOVER_PERIOD
            # after the handover, when this invocation has been stopped (TIMER_LEAD s after it).
            if first and not request_rule.hand_over(
                self._events, self._event, str(self._context.invoked_function_arn)
            ):
                return False
        except Exception:  # noqa: BLE001 - then the timer answers FAILED, as without a handover
            logger.exception("Handing the request over to its schedule failed")
            # the rule may say "handed-over" with no target (PutRule done, PutTargets not): this
            # invocation's own write, not a twin's; nothing is checked against it, and the answer's
            # tombstone replaces it
            self._rule_says = None
            return False
        self._handed_over = True
        logger.warning("The invocation is about to time out; the request is left to its polling schedule")
        return True

    def generate_physical_id(self, event: dict[str, Any]) -> str:
        """crhelper's id for an answer that carries none (a failed Create): its form, stack name, logical id
        and 8 characters, but the characters come from the RequestId instead of a random draw, so two
        deliveries of the same request that both fail answer the same id."""
        digest = request_rule.request_digest(str(event.get("RequestId", "")))
        return "_".join([str(event["StackId"]).split("/")[1], str(event["LogicalResourceId"]), digest])

    def _failure_physical_id(self) -> str:
        """The id a FAILED answer carries: for a Create, what it made (so the Delete that CloudFormation
        sends next removes it), else the resource's current id."""
        event = self._event
        if event.get("RequestType") != "Create":
            return str(event.get("PhysicalResourceId", ""))
        made = self.PhysicalResourceId or event.get("CrHelperData", {}).get("PhysicalResourceId")
        return str(made or self.generate_physical_id(event))

    # --- the response -----------------------------------------------------------------------------------
    def _reason(self, status: str, reason: str) -> str:
        """The Reason sent: a FAILED one ends with the request's mark, which the stack's event history then
        shows (a later delivery of the request finds there that it was answered: stack_status)."""
        if status != "FAILED":
            return truncate(reason)
        mark = stack_status.request_mark(str(self.RequestId))
        return truncate(reason, len(mark)) + mark

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        if self._stale or self._timer_answered or self._handed_over or self._superseded():
            # nothing waits for this answer (a late delivery), the timer answered, or left the request to
            # its schedule (the invocation ran on), or another delivery of the request has it now
            return
        if (status or self.Status) == "FAILED" and self._lost_its_role():
            return
        # crhelper's signature is kept; the PUT always goes through this module's put_response.
        body = {
            "Status": status or self.Status,
            # crhelper answers its own init failures with an empty id, which CloudFormation rejects
            "PhysicalResourceId": str(self.PhysicalResourceId or self._failure_physical_id()),
            "StackId": self.StackId,
            "RequestId": self.RequestId,
            "LogicalResourceId": self.LogicalResourceId,
            "Reason": self._reason(status or self.Status, str(reason if status else self.Reason)),
            # crhelper's bookkeeping and our private keys (leading "_") are not part of the Data API
            "Data": {
                k: v for k, v in self.Data.items() if k != "PhysicalResourceId" and not k.startswith("_")
            },
            "NoEcho": self.NoEcho,
        }
        if body["Status"] == "FAILED":
            logger.error("FAILED: %s", body["Reason"])
        until = time_budget.listened_until(self._answer_by(), _service_timeout(self._event))
        put_response(self._response_url, body, self._ssl_verify, until, CLOCK)
