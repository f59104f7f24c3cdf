"""The cloud the driver plays: accounts (a boto3 session per account and role), Lambda (functions, their
environment and EventInvokeConfig, on :mod:`.lambda_runtime`), EventBridge's scheduler (the polling rules
crhelper creates) and the event loop that lets simulated time pass until every request is answered."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.events import models as events_models

from emulator.iam import ensure_role

from . import describe
from .lambda_runtime import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    DEFAULT_COLD_START,
    DEFAULT_MAX_EVENT_AGE,
    DEFAULT_MAX_RETRY_ATTEMPTS,
    DEFAULT_QUEUE_DELAY,
    Function,
    Invocation,
    LambdaRuntime,
)
from .protocol import Request, answer_violations, response_violations
from .resources import Resource
from .server import ResponseServer
from .stack import Stack, StackEvent
from .template import DriverError, Rejected

RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


class _Session(boto3.Session):
    """A driver session: its plain clients (a service name alone) are made once and shared, as a
    long-lived process would (botocore's clients are thread-safe); one with other arguments is new."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clients: dict[str, Any] = {}

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return super().client(service_name, *args, **kwargs)
        if service_name not in self._clients:
            self._clients[service_name] = super().client(service_name)
        return self._clients[service_name]


@dataclass
class _Schedule:
    account_id: str
    region: str
    rule: str
    period: float
    next_fire: float


class CloudFormation:
    """Plays CloudFormation (and Lambda, and EventBridge's scheduler) on a simulated clock.

    Use inside ``moto.mock_aws()``. ``on_event`` receives every StackEvent as it happens; ``on_wait``
    is called with the requests in flight whenever the simulated clock jumps forward.

    Knobs: ``queue_delay`` and ``cold_start`` (seconds; see lambda_runtime) are Lambda's latencies, which
    count against CloudFormation's timeout; ``duplicate_schedule_deliveries`` is the probability that
    EventBridge delivers a scheduled invocation twice (it delivers at least once:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html), ``duplicate_deliveries``
    the probability that Lambda delivers a request CloudFormation sent twice, at the same moment
    (asynchronous invocation is at least once: .../lambda/latest/dg/invocation-async.html), drawn from a
    random generator seeded with ``seed`` so runs are repeatable. ``account_concurrency`` is every account's
    Lambda concurrency quota (``runtime.set_account_concurrency`` sets one account's); see lambda_runtime.
    """

    def __init__(
        self,
        clock: Any,
        *,
        on_event: Callable[[StackEvent], None] | None = None,
        on_wait: Callable[[list[Request]], None] | None = None,
        queue_delay: float = DEFAULT_QUEUE_DELAY,
        cold_start: float = DEFAULT_COLD_START,
        duplicate_schedule_deliveries: float = 0.0,
        duplicate_deliveries: float = 0.0,
        seed: int = 0,
        account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
    ) -> None:
        self.clock = clock
        self.server = ResponseServer(clock.now)
        self.duplicate_schedule_deliveries = duplicate_schedule_deliveries
        self.duplicate_deliveries = duplicate_deliveries
        self.random = random.Random(seed)
        self.duplicated: list[dict[str, Any]] = []  # scheduled events EventBridge delivered twice
        self.functions: dict[str, Function] = {}
        self.exports: dict[str, Any] = {}
        # Export names are unique per account and Region, and an import sees its own account's and Region's
        # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html);
        # ``exports`` keeps the last value exported under each name, for tests.
        self.regional_exports: dict[tuple[str, str, str], Any] = {}
        self.events: list[StackEvent] = []
        self.violations: list[str] = []
        self.responses: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._on_event = on_event
        self._on_wait = on_wait
        self._sessions: dict[tuple[str, str, str], boto3.Session] = {}
        self._schedules: dict[tuple[str, str, str], _Schedule] = {}
        self.all_requests: list[Request] = []
        self._counted: dict[str, int] = {}  # responses counted in a violation already, by RequestId
        self.peak_rules = 0  # the most polling schedules (EventBridge rules) that existed at once
        self.stacks: list[Stack] = []  # every stack made with ``stack()``, in order
        self.runtime = LambdaRuntime(
            clock,
            self._environment_for,
            queue_delay=queue_delay,
            cold_start=cold_start,
            account_concurrency=account_concurrency,
        )
        self.runtime.functions = self.functions  # reservations come out of each account's pool
        self.runtime.on_discard = self._dead_letter
        describe.register(self)  # DescribeStacks answers for this driver's stacks

    def close(self) -> None:
        describe.unregister(self)
        with self._host_restored():
            self.runtime.close()
        self.server.close()

    @contextlib.contextmanager
    def _host_restored(self) -> Iterator[None]:
        """Invocations switch os.environ and boto3's default session to their sandbox's: restore ours."""
        saved_env, saved_session = dict(os.environ), boto3.DEFAULT_SESSION
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            boto3.DEFAULT_SESSION = saved_session

    def __enter__(self) -> CloudFormation:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def record(self, event: StackEvent) -> None:
        self.events.append(event)
        if self._on_event:
            self._on_event(event)

    def session(self, account_id: str, region: str, role_arn: str | None = None) -> boto3.Session:
        """A boto3 session whose credentials moto maps to the account (and role) given."""
        role_arn = role_arn or f"arn:aws:iam::{account_id}:role/cloudformation-driver"
        key = (account_id, region, role_arn)
        if key not in self._sessions:
            if role_arn.endswith(":role/cloudformation-driver"):  # the driver acts as an admin role
                ensure_role(account_id, "cloudformation-driver")
            credentials = boto3.client("sts", region_name=region).assume_role(
                RoleArn=role_arn, RoleSessionName=role_arn.split("/")[-1][:64] or "driver"
            )["Credentials"]
            self._sessions[key] = _Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=region,
            )
        return self._sessions[key]

    def stack(self, name: str, *, account_id: str, region: str, asset_root: Path | str) -> Stack:
        """A new, not yet created stack; call ``create(template)`` on it."""
        made = Stack(self, name, account_id, region, Path(asset_root))
        self.stacks.append(made)
        return made

    # -- Lambda ---------------------------------------------------------------------------------------------
    def _environment_for(self, function: Function) -> dict[str, str]:
        """What Lambda puts in a function's environment: its variables, Region and role credentials."""
        credentials = self.session(function.account_id, function.region, function.role_arn).get_credentials()
        return {
            **function.environment,
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            "AWS_SESSION_TOKEN": credentials.token or "",
            "SSL_CERT_FILE": str(self.server.cert_file),
        }

    def _dead_letter(self, function: Function, reason: str, event: dict[str, Any]) -> None:
        """A discarded event to the function's dead-letter queue (an SQS queue of its account), as Lambda
        sends it: the event as the body, the error in the message's attributes."""
        arn = function.dead_letter_arn
        if arn.split(":")[2:3] != ["sqs"]:
            self.violations.append(f"{function.name}: dead-letter target {arn}: the driver serves SQS only")
            return
        region, account, name = arn.split(":")[3:6]
        with self._host_restored():
            sqs = self.session(account, region).client("sqs")
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            sqs.send_message(
                QueueUrl=url,
                MessageBody=json.dumps(event),
                MessageAttributes={"ErrorMessage": {"DataType": "String", "StringValue": reason}},
            )

    def configure(self, resource: Resource) -> None:
        """Apply an ordinary resource that changes how Lambda runs a function: EventInvokeConfig."""
        if resource.type != "AWS::Lambda::EventInvokeConfig":
            return
        function = self._function_named(str(resource.properties.get("FunctionName", "")))
        retries = int(resource.properties.get("MaximumRetryAttempts", DEFAULT_MAX_RETRY_ATTEMPTS))
        age = float(resource.properties.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE))
        if not 0 <= retries <= 2 or not 60 <= age <= 21600:
            raise Rejected(
                f"{resource.logical_id}: MaximumRetryAttempts must be 0-2 and MaximumEventAgeInSeconds "
                f"60-21600, not {retries} and {age:g}"
            )
        function.max_retry_attempts, function.max_event_age = retries, age

    def unconfigure(self, resource: Resource) -> None:
        """A deleted EventInvokeConfig: Lambda's defaults apply again."""
        if resource.type == "AWS::Lambda::EventInvokeConfig":
            name = str(resource.properties.get("FunctionName", ""))
            with contextlib.suppress(DriverError):
                function = self._function_named(name)
                function.max_retry_attempts = DEFAULT_MAX_RETRY_ATTEMPTS
                function.max_event_age = DEFAULT_MAX_EVENT_AGE

    def _function_named(self, name_or_arn: str) -> Function:
        for function in self.functions.values():
            if name_or_arn in (function.name, function.arn):
                return function
        raise DriverError(f"EventInvokeConfig of {name_or_arn!r}, a function this driver did not deploy")

    @property
    def invocations(self) -> list[Invocation]:
        """Every handler invocation so far, in the order they started."""
        return self.runtime.invocations

    def _run_ready(self) -> None:
        with self._host_restored():
            self.runtime.run_ready()

    # -- EventBridge schedules -------------------------------------------------------------------------------
    def _events(self, account_id: str, region: str) -> Any:
        """The driver's EventBridge client for an account (its session's, made once)."""
        return self.session(account_id, region).client("events")

    @staticmethod
    def _rules(account_id: str, region: str) -> list[tuple[str, str, str]]:
        """(name, ScheduleExpression, State) of each rule on the account's default event bus: what
        ListRules returns, read from moto's EventBridge backend (the scan runs at every step of the loop, and
        a ListRules request per account and step was most of a lifecycle test's time)."""
        bus = events_models.events_backends[account_id][region].event_buses.get("default")
        rules = list(bus.rules.values()) if bus is not None else []
        return [(r.name, r.scheduled_expression or "", r.state or "") for r in rules]

    def _scan_schedules(self) -> None:
        seen: set[tuple[str, str, str]] = set()
        for account_id, region in {(f.account_id, f.region) for f in self.functions.values()}:
            for name, expression, state in self._rules(account_id, region):
                key = (account_id, region, name)
                match = RATE.match(expression)
                if not match or state != "ENABLED":
                    continue
                seen.add(key)
                if key not in self._schedules:
                    period = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
                    self._schedules[key] = _Schedule(
                        account_id, region, name, period, self.clock.now() + period
                    )
        for key in set(self._schedules) - seen:
            del self._schedules[key]
        self.peak_rules = max(self.peak_rules, len(self._schedules))

    def _fire(self, schedule: _Schedule) -> None:
        schedule.next_fire += schedule.period
        client = self._events(schedule.account_id, schedule.region)
        try:
            targets = client.list_targets_by_rule(Rule=schedule.rule).get("Targets", [])
        except client.exceptions.ResourceNotFoundException:
            return
        for target in targets:
            function = self.functions.get(target["Arn"])
            if function is None:
                self.violations.append(f"rule {schedule.rule} targets an unknown function {target['Arn']}")
                continue
            event = json.loads(target.get("Input") or "{}")
            self.runtime.invoke_async(function, event)
            if self.random.random() < self.duplicate_schedule_deliveries:
                self.duplicated.append(event)  # the same event again, a little later
                self.runtime.invoke_async(
                    function, event, delay=self.runtime.queue_delay + self.random.uniform(0, 5)
                )

    def rules_by_request(self) -> dict[str, list[str]]:
        """The polling rules that exist now, by the RequestId in their target Input."""
        found: dict[str, list[str]] = {}
        for account_id, region, name in list(self._schedules):
            client = self._events(account_id, region)
            for target in client.list_targets_by_rule(Rule=name).get("Targets", []):
                request_id = json.loads(target.get("Input") or "{}").get("RequestId", "")
                found.setdefault(request_id, []).append(name)
        return found

    # -- the loop -------------------------------------------------------------------------------------------
    def run(self, requests: list[Request]) -> None:
        """Send the requests together, then let simulated time pass until every one is answered."""
        self.send(requests)
        self.wait(requests)

    def send(self, requests: list[Request]) -> None:
        """Invoke the requests' functions asynchronously (each ``deliveries`` times) without waiting.

        CloudFormation's timeout runs from now: the time the event waits in Lambda's queue, a cold start
        and the response PUT all count against it."""
        self.all_requests.extend(requests)
        for request in requests:
            _on_stack(request, "request_sent")  # (CloudFormation records the resource's event first)
            request.sent = self.clock.now()
            request.deadline = request.sent + request.service_timeout
            deliveries = request.deliveries
            if self.duplicate_deliveries and self.random.random() < self.duplicate_deliveries:
                deliveries += 1  # Lambda's asynchronous invocation delivers at least once
                request.deliveries = deliveries
            for _ in range(deliveries):
                self.runtime.invoke_async(request.function, request.event)
        self._run_ready()

    def wait(self, requests: list[Request]) -> None:
        """Let simulated time pass until every request is answered.

        Time jumps to the next thing due: an invocation waking up, a polling schedule firing, a Lambda
        retry or timeout, or a request's ServiceTimeout (after which CloudFormation gives up on it).
        """
        while True:
            for request in requests:
                self._collect(request)
            waiting = [r for r in requests if r.response is None]
            if not waiting:
                break
            self._scan_schedules()
            candidates = [r.deadline for r in waiting]
            candidates += [s.next_fire for s in self._schedules.values()]
            wake = self.runtime.next_wake()
            if wake is not None:
                candidates.append(wake)
            self.clock.advance(max(min(candidates) - self.clock.now(), 0))
            if self._on_wait:
                self._on_wait(waiting)
            self.runtime.wake_due()
            for schedule in sorted(self._schedules.values(), key=lambda s: s.next_fire):
                if schedule.next_fire <= self.clock.now():
                    self._fire(schedule)
            self._run_ready()
            for request in waiting:
                self._collect(request)
                if request.response is None and request.deadline <= self.clock.now():
                    self.violations.append(request.time_out())
                    _on_stack(request, "request_answered")
        self._scan_schedules()
        rules = self.rules_by_request()
        for request in requests:
            self._check_done(request, rules.get(request.event["RequestId"], []))

    def settle(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass with nothing new sent (late invocations, schedules)."""
        until = self.clock.now() + seconds
        while True:
            self._scan_schedules()
            candidates = [s.next_fire for s in self._schedules.values()]
            wake = self.runtime.next_wake()
            if wake is not None:
                candidates.append(wake)
            due = min([c for c in candidates if c <= until], default=None)
            if due is None:
                break
            self.clock.advance(max(due - self.clock.now(), 0))
            self.runtime.wake_due()
            for schedule in list(self._schedules.values()):
                if schedule.next_fire <= self.clock.now():
                    self._fire(schedule)
            self._run_ready()
        self.clock.advance(max(until - self.clock.now(), 0))

    def sent_requests(self, logical_id: str | None = None, request_type: str | None = None) -> list[Request]:
        """The requests sent so far (by stack operations or by tests), in order, optionally only those of
        one logical id and/or RequestType."""
        return [
            r
            for r in self.all_requests
            if logical_id in (None, r.logical_id) and request_type in (None, r.event["RequestType"])
        ]

    def audit(self) -> list[str]:
        """Protocol checks over every request so far (late duplicates included); returns violations."""
        for request in self.all_requests:
            count = len(self.server.responses(request.event["RequestId"]))
            if count > 1 and self._counted.get(request.event["RequestId"], 0) < count:
                self._counted[request.event["RequestId"]] = count  # reported once per count
                self.violations.append(f"{request.where}: {count} responses to one request")
        return self.violations

    def _collect(self, request: Request) -> None:
        """Take the first response, if it arrived before CloudFormation's timeout."""
        bodies = self.server.responses(request.event["RequestId"])
        if bodies and request.response is None:
            arrived = self.server.arrival_times(request.event["RequestId"])[0]
            if arrived > request.deadline:
                self.violations.append(request.time_out())  # too late: CloudFormation had given up already
                return
            request.response, request.answered = bodies[0], arrived
            _on_stack(request, "request_answered")  # (recorded as CloudFormation takes the answer)
            self.responses.append((request.event, bodies[0]))
            size = self.server.raw_sizes[request.event["RequestId"]][0]
            self.violations.extend(response_violations(request, bodies[0], size))

    def _check_done(self, request: Request, left: list[str]) -> None:
        bodies = self.server.responses(request.event["RequestId"])
        if len(bodies) > 1:
            self._counted[request.event["RequestId"]] = len(bodies)
        self.violations.extend(answer_violations(request, bodies, left))


def _on_stack(request: Request, record: str) -> None:
    """Let the request's stack record its event (``request_sent``, ``request_answered``), where it keeps
    events (a driver stack does)."""
    recorder = getattr(request.stack, record, None)
    if recorder is not None:
        recorder(request)
