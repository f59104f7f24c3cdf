"""Lambda, emulated for the lifecycle driver: functions, containers and invocations in virtual time.

* Each invocation runs the real handler in a thread of its own, but only one thread runs at a time (a
  baton passes between them), so the process-wide state a handler touches (os.environ, boto3's default
  session) can be switched per invocation safely and runs are deterministic.
* A thread gives the baton back when it sleeps (the handler's ``polling.CLOCK.sleep``, botocore's retry
  backoff): the scheduler then runs other invocations, and advances the shared simulated clock to the
  earliest wake-up only when every invocation is asleep. Concurrent invocations thus overlap in
  simulated time as they would on AWS, and a 10-minute wait costs no real time.
* Containers: an invocation takes an idle container of its function (warm start) or loads the handler
  afresh in a new one (cold start: a separate module instance, as a separate Lambda sandbox would be).
* Asynchronous invocation (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html): an event
  waits in Lambda's queue (``queue_delay``) before a function instance takes it; a cold start runs the
  init phase (``cold_start`` seconds, not counted against the function's timeout) before the handler.
  Both count against CloudFormation's timeout, which runs from when it sent the request.
* Limits: an invocation still running at the function's timeout is stopped (nothing after that point
  runs). An invocation that errors or times out is retried twice, the first retry after 1 minute, the
  second after 2 more (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html),
  unless the function's EventInvokeConfig sets ``MaximumRetryAttempts`` (0-2); an event older than
  ``MaximumEventAgeInSeconds`` (60-21600, default 6 hours) is discarded instead of retried.
* Concurrency (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html and
  .../configuration-concurrency.html): an account has a pool of concurrent executions per Region
  (``account_concurrency``: 1,000 by default; new accounts start with less, see
  .../gettingstarted-limits.html); a function's reserved concurrency (``ReservedConcurrentExecutions``)
  is taken out of that pool and is also the most it can run at once; the other functions share what is
  left. An execution counts from when an instance takes the event (a cold start's init included) until the
  handler returns or is stopped; room is looked for when an event would start, so an invocation that
  returns at once frees its execution for the next event of the same moment. An event that finds no room
  is throttled: for asynchronous invocation
  Lambda returns it to the queue and tries again, "from 1 second after the first attempt to a maximum of 5
  minutes", exponentially, until the event is older than its maximum age, when it is discarded
  (.../invocation-async-error-handling.html). Throttles do not use up ``MaximumRetryAttempts`` (those
  count function errors, timeouts among them), and are retried even when it is 0. Lambda's own system
  errors (500-series), which the page says are retried the same way as throttles, are not emulated. The
  page does not say the base or any jitter: the interval here doubles from 1 s (1, 2, 4 ... 256, then
  300 s), with no jitter, so runs stay deterministic. EventBridge's scheduled invocations are asynchronous
  too and are throttled the same way.
"""

from __future__ import annotations

import heapq
import importlib
import importlib.machinery
import itertools
import json
import os
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.endpoint
import botocore.session
from moto.awslambda import urls as moto_lambda_urls
from moto.awslambda.responses import LambdaResponse

from emulator import botocore_models

ASYNC_RETRY_DELAYS = (60.0, 120.0)
DEFAULT_MAX_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE = 6 * 3600.0
# Small, realistic defaults (Lambda documents neither): the time an asynchronous event waits in the
# queue before an instance takes it, and the init phase of a cold start (Python, boto3, crhelper).
DEFAULT_QUEUE_DELAY = 1.0
DEFAULT_COLD_START = 1.0
# Lambda's quotas page: 1,000 concurrent executions per account and Region by default; at least 100 stay
# unreserved (.../configuration-concurrency.html: "You can reserve up to the Unreserved account
# concurrency value minus 100").
DEFAULT_ACCOUNT_CONCURRENCY = 1000
MIN_UNRESERVED_CONCURRENCY = 100
THROTTLE_RETRY_FIRST = 1.0
THROTTLE_RETRY_MAX = 300.0


def throttle_delay(throttles: int) -> float:
    """Seconds before Lambda tries a throttled asynchronous event again, after its ``throttles``-th
    throttle: 1 s, doubling, at most 5 minutes."""
    return float(min(THROTTLE_RETRY_FIRST * 2 ** max(throttles - 1, 0), THROTTLE_RETRY_MAX))


def account_settings(limit: int, unreserved: int, functions: int) -> dict[str, Any]:
    """A GetAccountSettings answer (Lambda's default code-size limits)."""
    return {
        "AccountLimit": {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": unreserved,
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": functions},
    }


class _Stopped(BaseException):
    """Raised inside an invocation's thread to end it (Lambda stopped it); not an Exception on purpose,
    so handler code that catches Exception cannot swallow it."""


@dataclass
class Function:
    """A Lambda function of a deployed stack: name, role, environment and the asset it runs."""

    name: str
    arn: str
    account_id: str
    region: str
    role_arn: str
    asset_dir: Path
    environment: dict[str, str]
    timeout: int = 3
    memory: int = 128
    invocations: int = 0
    cold_starts: int = 0
    billed_ms: int = 0
    idle: list[Container] = field(default_factory=list)
    # AWS::Lambda::EventInvokeConfig of the function (the driver sets them when the template has one)
    max_retry_attempts: int = DEFAULT_MAX_RETRY_ATTEMPTS
    max_event_age: float = DEFAULT_MAX_EVENT_AGE
    # ReservedConcurrentExecutions (None: the function shares the account's unreserved pool)
    reserved_concurrency: int | None = None
    running: int = 0  # executions in progress (an instance took the event and has not finished)
    throttles: int = 0  # asynchronous events Lambda found no room for (each attempt counted)
    peak_running: int = 0  # the most executions it had at once
    # DeadLetterConfig.TargetArn: where Lambda sends the asynchronous events it discards (SQS or SNS)
    dead_letter_arn: str = ""
    # Deleted with its stack: an event still queued for it (a retry, a throttled event) never runs, as no
    # function of that ARN is there to take it; an invocation already running goes on until it returns
    # or times out (Lambda documents neither case; a deleted function cannot be invoked).
    deleted: bool = False


@dataclass
class Container:
    """A sandbox of one function: its own handler module instance and boto3 session (credentials)."""

    module: Any
    boto_session: Any


@dataclass
class Invocation:
    """One invocation, for the record and the benchmark.

    ``queued``: when Lambda accepted the event (for a retry: when the first attempt was queued, the
    event's age counts from there); ``received``: when an instance took it from the queue (a cold start's
    init follows); ``started``: when the handler was called, i.e. when the request reached the function.
    """

    function: str
    request_id: str
    logical_id: str
    request_type: str
    poll: bool
    started: float
    duration: float = 0.0
    outcome: str = "running"  # ok, error, timeout
    attempt: int = 1
    queued: float = 0.0
    received: float = 0.0
    cold_start: bool = False


class LambdaContext:
    """The context object Lambda passes: remaining time counts down on the simulated clock."""

    def __init__(self, function: Function, clock: Any) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"2026/11/28/[$LATEST]{uuid.uuid4().hex}"
        self.deadline = clock.now() + function.timeout
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.deadline - self._clock.now()) * 1000), 0)


_COMPILED: dict[tuple[str, bytes], Any] = {}
_source_to_code = importlib.machinery.SourceFileLoader.source_to_code


def _compiled_once(self: Any, data: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
    """A module's code object, compiled once per process for the same path and source. Each cold start
    imports the asset afresh; where no bytecode may be written (PYTHONDONTWRITEBYTECODE, an asset copied
    to a temporary directory) each import compiled every module again. A code object is immutable: each
    import still executes it into a fresh module, with its own objects."""
    if args or kwargs or not isinstance(data, bytes):
        return _source_to_code(self, data, path, *args, **kwargs)
    key = (str(path), data)
    if key not in _COMPILED:
        _COMPILED[key] = _source_to_code(self, data, path)
    return _COMPILED[key]


def load_handler(asset_dir: Path) -> Any:
    """Import ``index`` from an asset directory the way Lambda does, as a fresh module instance.

    The asset's own modules (``index``, ``cfn.polling`` ... and bundled packages) are removed from
    sys.modules first, so each container gets its own objects; libraries outside the asset are shared.
    Their code is compiled once per process (:func:`_compiled_once`).
    """
    asset_dir = asset_dir.resolve()
    names = {p.stem for p in asset_dir.glob("*.py")} | {p.name for p in asset_dir.iterdir() if p.is_dir()}
    for name in list(sys.modules):
        if name.split(".")[0] in names:
            del sys.modules[name]
    sys.path.insert(0, str(asset_dir))
    importlib.machinery.SourceFileLoader.source_to_code = _compiled_once  # type: ignore[method-assign]
    try:
        return importlib.import_module("index")
    finally:
        importlib.machinery.SourceFileLoader.source_to_code = _source_to_code  # type: ignore[method-assign]
        sys.path.remove(str(asset_dir))


def _new_session() -> boto3.session.Session:
    """A sandbox's own boto3 session (its own credentials, clients and state) that reads botocore's
    service models through one shared loader (:mod:`emulator.botocore_models`): a real cold start parses
    them again, which costs a simulation of a hundred sandboxes seconds and tells nothing (the benchmark
    measures cold starts)."""
    core = botocore.session.get_session()
    loader = botocore_models.shared_loader(core.get_config_variable("data_path"))
    core.register_component("data_loader", loader)
    return boto3.session.Session(botocore_session=core)


class _Worker:
    """An invocation's thread and what the scheduler needs to switch to it."""

    def __init__(
        self, runtime: LambdaRuntime, function: Function, event: dict[str, Any], attempt: int, queued: float
    ) -> None:
        self.runtime = runtime
        self.function = function
        self.event = event
        self.attempt = attempt
        self.queued = queued
        self.payload = json.dumps(event)  # what Lambda redelivers on a retry (the handler may mutate event)
        self.throttles = 0  # times Lambda found no concurrency for this event
        self.counted = False  # holds one of the function's concurrent executions
        self.container: Container | None = None
        self.context: LambdaContext | None = None
        self.record: Invocation | None = None
        self.stop = False
        self.done = False
        self.turn = threading.Event()  # set when this worker holds the baton
        self.default_run: Callable[[], None] = lambda: runtime._run_invocation(self)
        self.run: Callable[[], None] = self.default_run
        self.thread = threading.Thread(target=self._main, daemon=True, name=f"lambda-{function.name}")

    def _main(self) -> None:
        runtime = self.runtime
        try:
            runtime._wait_for_baton(self)
            self.run()
        except _Stopped:
            pass
        finally:
            self.done = True
            runtime._release(self)
            runtime._release_baton()


class LambdaRuntime:
    """Runs invocations as cooperative threads on the simulated clock (see the module docstring)."""

    def __init__(
        self,
        clock: Any,
        environment_for: Callable[[Function], dict[str, str]],
        *,
        queue_delay: float = DEFAULT_QUEUE_DELAY,
        cold_start: float = DEFAULT_COLD_START,
        account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
    ) -> None:
        self.clock = clock
        # concurrent executions per account and Region (every account: ``account_concurrency``, unless
        # ``set_account_concurrency`` says otherwise for one)
        self.account_concurrency = account_concurrency
        self._account_limits: dict[tuple[str, str], int] = {}
        # the deployed functions, by ARN (the driver shares its own dict): their reservations
        self.functions: dict[str, Function] = {}
        self.throttled: list[tuple[float, str, str]] = []  # (when, function, RequestId) of each throttle
        self.peak_running: dict[tuple[str, str], int] = {}  # the most executions at once, per account
        self.queue_delay = queue_delay  # seconds an asynchronous event waits before an instance takes it
        self.cold_start = cold_start  # seconds of init phase when no warm instance is idle
        self.invocations: list[Invocation] = []
        self.discarded: list[tuple[str, dict[str, Any]]] = []  # (reason, event) Lambda gave up on
        # called with (function, reason, event) for each discarded event: the dead-letter queue
        self.on_discard: Callable[[Function, str, dict[str, Any]], None] | None = None
        self._environment_for = environment_for
        self._main_turn = threading.Event()
        self._ready: deque[_Worker] = deque()
        self._sleeping: list[tuple[float, int, _Worker]] = []
        # events in Lambda's queue (first deliveries and retries), due when an instance takes them
        self._queue: list[tuple[float, int, _Worker]] = []
        self._timers: list[_VirtualTimer] = []
        self._seq = itertools.count()
        self._local = threading.local()
        self._saved_botocore_time = botocore.endpoint.time
        botocore.endpoint.time = _BotocoreTime(self)  # retry backoff sleeps in simulated time
        _ACCOUNT_SETTINGS["runtime"] = self  # what lambda:GetAccountSettings reports

    def close(self) -> None:
        """Stop every invocation still asleep and undo the botocore patch."""
        for _, _, worker in list(self._sleeping):
            worker.stop = True
            self._ready.append(worker)
        self._sleeping.clear()
        self.run_ready()
        botocore.endpoint.time = self._saved_botocore_time
        if _ACCOUNT_SETTINGS.get("runtime") is self:
            del _ACCOUNT_SETTINGS["runtime"]

    # -- concurrency -----------------------------------------------------------------------------------
    def set_account_concurrency(self, account_id: str, region: str, limit: int) -> None:
        """The account's concurrent executions quota in a Region (Service Quotas: "Concurrent executions")."""
        self._account_limits[(account_id, region)] = limit

    def account_limit(self, account_id: str, region: str) -> int:
        return self._account_limits.get((account_id, region), self.account_concurrency)

    def reservation_error(self, function: Function, reserved: int | None) -> str | None:
        """Why Lambda refuses ``reserved`` for ``function`` (None: it accepts it). At least 100 executions
        of the account stay unreserved, so an account of 100 or fewer reserves nothing."""
        if reserved is None:
            return None
        if reserved < 0:
            return f"ReservedConcurrentExecutions must be at least 0, not {reserved}"
        others = sum(
            f.reserved_concurrency or 0
            for f in self._same_pool(function)
            if f is not function and f.arn != function.arn
        )
        unreserved = self.account_limit(function.account_id, function.region) - others - reserved
        if unreserved < MIN_UNRESERVED_CONCURRENCY:
            return (
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED_CONCURRENCY}]."
            )
        return None

    def _has_room(self, function: Function) -> bool:
        """Whether Lambda has a concurrent execution for one more event of ``function`` now."""
        if function.reserved_concurrency is not None:
            return function.running < function.reserved_concurrency
        same = self._same_pool(function)
        reserved = sum(f.reserved_concurrency or 0 for f in same)
        unreserved_running = sum(f.running for f in same if f.reserved_concurrency is None)
        return unreserved_running < self.account_limit(function.account_id, function.region) - reserved

    def account_settings(self, account_id: str, region: str) -> dict[str, Any]:
        """What lambda:GetAccountSettings answers about concurrency (and a count of the functions)."""
        pool = [f for f in self.functions.values() if (f.account_id, f.region) == (account_id, region)]
        limit = self.account_limit(account_id, region)
        reserved = sum(f.reserved_concurrency or 0 for f in pool)
        return account_settings(limit, limit - reserved, len(pool))

    def _same_pool(self, function: Function) -> list[Function]:
        """The functions of ``function``'s account and Region, ``function`` among them."""
        key = (function.account_id, function.region)
        same = [f for f in self.functions.values() if (f.account_id, f.region) == key]
        return same if function in same else [*same, function]

    def _take(self, worker: _Worker) -> bool:
        """An event comes due: it takes an execution, or is throttled (back to the queue, or discarded
        when it would be older than its maximum age by the next try). True when it runs."""
        function = worker.function
        if worker.run is not worker.default_run or worker.counted:
            return True  # crhelper's timer thread runs in its owner's execution
        if function.deleted:
            self._discard(function, "the function was deleted", worker)
            return False
        if self._has_room(function):
            worker.counted = True
            function.running += 1
            function.peak_running = max(function.peak_running, function.running)
            key = (function.account_id, function.region)
            running = sum(f.running for f in self._same_pool(function))
            self.peak_running[key] = max(self.peak_running.get(key, 0), running)
            return True
        worker.throttles += 1
        function.throttles += 1
        now = self.clock.now()
        self.throttled.append((now, function.name, str(worker.event.get("RequestId", ""))))
        due = now + throttle_delay(worker.throttles)
        if due - worker.queued > function.max_event_age:
            self._discard(function, f"throttled, event older than {function.max_event_age:g} s", worker)
            return False
        heapq.heappush(self._queue, (due, next(self._seq), worker))
        return False

    def _release(self, worker: _Worker) -> None:
        if worker.counted:
            worker.counted = False
            worker.function.running -= 1

    # -- public -----------------------------------------------------------------------------------------
    def invoke_async(
        self,
        function: Function,
        event: dict[str, Any],
        attempt: int = 1,
        *,
        delay: float | None = None,
        queued: float | None = None,
    ) -> None:
        """Queue an asynchronous invocation: an instance takes it ``delay`` seconds from now (default:
        the queue delay), and it runs at the ``run_ready`` after that."""
        now = self.clock.now()
        worker = _Worker(
            self, function, json.loads(json.dumps(event)), attempt, now if queued is None else queued
        )
        due = now + (self.queue_delay if delay is None else max(delay, 0.0))
        heapq.heappush(self._queue, (due, next(self._seq), worker))

    def next_wake(self) -> float | None:
        """When the earliest sleeping invocation, timeout or queued event is due."""
        times = [wake for wake, _, _ in self._sleeping]
        times += [w.context.deadline for _, _, w in self._sleeping if w.context is not None]
        times += [due for due, _, _ in self._queue]
        times += [t.due for t in self._timers if not t.cancelled]
        return min(times) if times else None

    def wake_due(self) -> None:
        """Make runnable the invocations whose wake-up (or timeout, or retry) time has come."""
        now = self.clock.now()
        for entry in list(self._sleeping):
            wake, _, worker = entry
            if worker.context is not None and worker.context.deadline <= now:
                worker.stop = True  # Lambda stops it at its timeout
            if wake <= now or worker.stop:
                self._sleeping.remove(entry)
                self._ready.append(worker)
        heapq.heapify(self._sleeping)
        self._fire_timers()
        while self._queue and self._queue[0][0] <= now:
            self._ready.append(heapq.heappop(self._queue)[2])  # room is looked for when it would start

    def run_ready(self) -> None:
        """Run runnable invocations, one at a time, until each has finished or gone to sleep."""
        while self._ready:
            worker = self._ready.popleft()
            if not worker.thread.is_alive() and not worker.done and not self._take(worker):
                continue  # throttled: back in the queue (or discarded)
            self._main_turn.clear()
            worker.turn.set()  # hand the baton to this worker only (no thundering herd)
            if not worker.thread.is_alive() and not worker.done:
                worker.thread.start()
            self._main_turn.wait()

    def service_clock(self) -> Any:
        """A clock for emulated services (``custom_labels.set_clock``): a slow answer they simulate
        sleeps through the scheduler, so the calling invocation can time out meanwhile."""
        return _ClockForHandler(self)

    def current_event(self) -> dict[str, Any] | None:
        """The event of the invocation running in the calling thread (None outside an invocation): what
        an emulated service can attribute a call to."""
        worker: _Worker | None = getattr(self._local, "worker", None)
        return None if worker is None or worker.done else worker.event

    def sleep(self, seconds: float) -> None:
        """Called from a handler: sleep in simulated time, letting other invocations run."""
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is None:
            self.clock.advance(max(seconds, 0))
            return
        heapq.heappush(self._sleeping, (self.clock.now() + max(seconds, 0), next(self._seq), worker))
        self._release_baton()
        self._wait_for_baton(worker)

    # -- the baton --------------------------------------------------------------------------------------
    def _wait_for_baton(self, worker: _Worker) -> None:
        worker.turn.wait()
        worker.turn.clear()
        self._local.worker = worker
        if worker.stop:
            raise _Stopped()
        self._enter(worker)

    def _release_baton(self) -> None:
        self._main_turn.set()

    def _enter(self, worker: _Worker) -> None:
        """Make the process look like this invocation's sandbox: environment and boto3 session."""
        os.environ.update(self._environment_for(worker.function))
        if worker.container is not None:
            boto3.DEFAULT_SESSION = worker.container.boto_session

    def _virtualise(self, modules: Any) -> None:
        """Point a freshly loaded handler's clock and crhelper's pre-timeout timer at simulated time."""
        polling = modules.get("cfn.polling")
        if polling is not None and hasattr(polling, "CLOCK"):
            polling.CLOCK = _ClockForHandler(self)
        resource_helper = modules.get("crhelper.resource_helper")
        if resource_helper is not None:
            resource_helper.threading = _ThreadingWithVirtualTimer(self)

    def _start_timer(self, interval: float, callback: Callable[[], None]) -> _VirtualTimer:
        worker: _Worker | None = getattr(self._local, "worker", None)
        timer = _VirtualTimer(self.clock.now() + interval, callback, worker)
        self._timers.append(timer)
        return timer

    def _fire_timers(self) -> None:
        now = self.clock.now()
        for timer in [t for t in self._timers if t.due <= now]:
            self._timers.remove(timer)
            owner = timer.owner
            if timer.cancelled or owner is None or owner.done or owner.stop:
                continue
            # the timer thread runs in the owner's sandbox, while the owner is still running
            helper = _Worker(self, owner.function, owner.event, owner.attempt, owner.queued)
            helper.container, helper.context = owner.container, owner.context
            helper.run = timer.callback
            self._ready.append(helper)

    # -- one invocation ---------------------------------------------------------------------------------
    def _run_invocation(self, worker: _Worker) -> None:
        function, event = worker.function, worker.event
        received = self.clock.now()
        cold = not function.idle
        if not cold:
            worker.container = function.idle.pop()
            boto3.DEFAULT_SESSION = worker.container.boto_session
        else:
            function.cold_starts += 1
            if self.cold_start > 0:
                self.sleep(self.cold_start)  # the init phase, before the function's timeout starts
            boto3.DEFAULT_SESSION = _new_session()
            worker.container = Container(load_handler(function.asset_dir), boto3.DEFAULT_SESSION)
            self._virtualise(sys.modules)
        module = worker.container.module
        worker.context = LambdaContext(function, self.clock)
        worker.record = Invocation(
            function.name,
            str(event.get("RequestId", "")),
            str(event.get("LogicalResourceId", "")),
            str(event.get("RequestType", "")),
            "CrHelperPoll" in event,
            self.clock.now(),
            attempt=worker.attempt,
            queued=worker.queued,
            received=received,
            cold_start=cold,
        )
        self.invocations.append(worker.record)
        function.invocations += 1
        outcome = "ok"
        try:
            module.handler(event, worker.context)
        except _Stopped:
            outcome = "timeout"
            raise
        except Exception:  # noqa: BLE001 - a function error, as Lambda records it
            outcome = "error"
        finally:
            duration = min(self.clock.now(), worker.context.deadline) - worker.record.started
            worker.record.duration = duration
            worker.record.outcome = outcome
            function.billed_ms += max(1, int(duration * 1000))
            if outcome == "ok":
                function.idle.append(worker.container)
            else:
                self._retry(worker, outcome)

    def _discard(self, function: Function, reason: str, worker: _Worker) -> None:
        """Lambda gives up on an event: recorded, and sent to the function's dead-letter queue if it has
        one (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)."""
        event = json.loads(worker.payload)
        self.discarded.append((reason, event))
        if function.dead_letter_arn and self.on_discard is not None:
            self.on_discard(function, reason, event)

    def _retry(self, worker: _Worker, outcome: str) -> None:
        """Lambda's retry of a failed asynchronous invocation (see the module docstring)."""
        function, context = worker.function, worker.context
        assert context is not None
        if worker.attempt > min(function.max_retry_attempts, len(ASYNC_RETRY_DELAYS)):
            self._discard(function, f"{outcome}; no retry left after attempt {worker.attempt}", worker)
            return
        ended = context.deadline if outcome == "timeout" else self.clock.now()
        due = ended + ASYNC_RETRY_DELAYS[worker.attempt - 1]
        if due - worker.queued > function.max_event_age:
            self._discard(function, f"{outcome}, event older than {function.max_event_age:g} s", worker)
            return
        self.invoke_async(
            function,
            json.loads(worker.payload),
            worker.attempt + 1,
            delay=due - self.clock.now(),
            queued=worker.queued,
        )


class _ClockForHandler:
    """What the handler's ``cfn.polling.CLOCK`` sees: simulated time, sleeping through the scheduler."""

    def __init__(self, runtime: LambdaRuntime) -> None:
        self._runtime = runtime

    def now(self) -> float:
        return float(self._runtime.clock.now())

    def sleep(self, seconds: float) -> None:
        self._runtime.sleep(seconds)


@dataclass
class _VirtualTimer:
    """crhelper's pre-timeout ``threading.Timer``, due at a simulated time."""

    due: float
    callback: Callable[[], None]
    owner: Any
    cancelled: bool = False

    def start(self) -> None:
        return None

    def cancel(self) -> None:
        self.cancelled = True


class _ThreadingWithVirtualTimer:
    """Stands in for the ``threading`` module inside crhelper.resource_helper."""

    def __init__(self, runtime: LambdaRuntime) -> None:
        self._runtime = runtime

    def Timer(self, interval: float, callback: Callable[[], None]) -> _VirtualTimer:  # noqa: N802
        return self._runtime._start_timer(interval, callback)

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)


class _BotocoreTime:
    """Stands in for the ``time`` module inside botocore.endpoint: retry backoff in simulated time."""

    def __init__(self, runtime: LambdaRuntime) -> None:
        self._runtime = runtime

    def sleep(self, seconds: float) -> None:
        self._runtime.sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)


# lambda:GetAccountSettings, which moto 5.2 does not implement: answered from the driver's runtime (the
# account's concurrency quota and what is left unreserved; outside a driver, Lambda's defaults).
# https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html
_ACCOUNT_SETTINGS: dict[str, LambdaRuntime] = {}


def _get_account_settings(self: Any) -> tuple[int, dict[str, str], str]:
    runtime = _ACCOUNT_SETTINGS.get("runtime")
    if runtime is None:
        default = DEFAULT_ACCOUNT_CONCURRENCY
        return 200, {}, json.dumps(account_settings(default, default, 0))
    return 200, {}, json.dumps(runtime.account_settings(str(self.current_account), str(self.region)))


LambdaResponse.get_account_settings = _get_account_settings  # type: ignore[attr-defined]
moto_lambda_urls.url_paths.setdefault(
    r"{0}/(?P<api_version>[^/]+)/account-settings/?$", LambdaResponse.dispatch
)
