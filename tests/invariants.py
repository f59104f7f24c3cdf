"""What the resource guarantees, stated once and checked after every stack event.

A :class:`Monitor` watches one CloudFormation driver (``CloudFormation(on_event=...)``, or attached by the
root conftest to every driver a test makes) and the emulated accounts behind it. After every stack event it
checks:

* I1 - no stack ends ROLLBACK_FAILED, UPDATE_ROLLBACK_FAILED or DELETE_FAILED except for a cause on
  :data:`ALLOWED_FAILURE_CAUSES` (patterns of the Reason), and never because of a transient fault
  (:data:`TRANSIENT_CAUSES`); with ``transient_faults_only`` (the explorer, whose injected faults are all
  bounded bursts) a CREATE or UPDATE that fails because of one is a violation too;
* I2 - a model version carrying a resource's owner marker (``lambda/contract.py``) is stopped or deleted
  only by a request of that same resource, or by the cleanup one of its requests left for later (whose
  input names the resource); the handler never stops or deletes a version without one; and the copy a live
  stack holds (a model copy resource's physical id) is deleted only by that resource's Delete of that id,
  stopped only by its own requests, never by a cleanup;
* I3 - after DELETE_COMPLETE nothing the stack created is left: versions with the owner marker of one of
  its resources (a copy still in progress may outlive the stack only while a deferred cleanup is pending,
  checked again at the end), project policies its resources put, polling rules (the POLL_RULE_PREFIX) of
  its requests. Permissions: the handler adds none at run time (the polling rule's permission is granted
  in the template), so there is nothing of its own to look for;
* I4 - while a stack with project policies is updated, every principal that the deployed template's
  policies list (before and after the update) may copy the versions they name, at every event, unless it
  could not when the update began (the policy deleted or rewritten by hand before it); and once a policy
  resource answered a Create or Update, the principals it lists may copy the versions it names;
* I5 - the protocol checks of the driver (one answer per request, two identical answers to simultaneous
  deliveries tolerated, before ServiceTimeout, under 4096 bytes: ``CloudFormation.violations`` and
  ``audit()``), plus a FAILED Reason that is a sentence about the resource, not a raw exception.

A violation is ``(invariant, text)``. :data:`KNOWN_VIOLATIONS` lists the (test id, invariant) pairs that
fail today because of handler defects being fixed; their checks are skipped for that test only.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from emulator import custom_labels
from emulator.cloudformation import CloudFormation, Stack, StackEvent

#: The handler's owner marker tag (lambda/contract.py OWNER_TAG) and how it is computed
#: (lambda/resources/copy_properties.owner_of): tests/test_invariants.py checks both against the handler's.
OWNER_TAG = "rekognition-model-copy:owner"
#: The key of a cleanup schedule's input (lambda/cfn/request_rule.py CLEANUP_KEY): an invocation that is no
#: stack request, acting for the resource whose request left it.
CLEANUP_KEY = "RmcCleanupRule"
MODEL_COPY_TYPE = "Custom::RekognitionModelCopy"
PROJECT_POLICY_TYPE = "Custom::RekognitionProjectPolicy"


def owner_of(stack_id: str, logical_id: str) -> str:
    """The owner marker of a resource (the handler's ``copy_properties.owner_of``)."""
    return hashlib.sha256(f"{stack_id}|{logical_id}".encode()).hexdigest()[:40]


#: The causes that may end a stack *_FAILED (I1): each a pattern of the Reason. The user's own setup or
#: input, which no retry can fix; never a transient fault, never a timeout while time was left.
ALLOWED_FAILURE_CAUSES: dict[str, str] = {
    "the caller's own permissions (AccessDenied of the function's role, a missing project policy)": (
        r"AccessDenied"
    ),
    "a project, version, bucket or key the properties name that does not exist": r"ResourceNotFound",
    "input the service refuses (ValidationException, InvalidParameterException)": (
        r"ValidationException|InvalidParameterException|MalformedPolicyDocument"
    ),
    "a fixed quota of the account (LimitExceeded, ServiceQuotaExceeded), named as such": (
        r"LimitExceededException|ServiceQuotaExceededException"
    ),
    "a model the service kept STARTING or STOPPING for a Delete's whole ServiceTimeout": (
        r"Gave up waiting: .* was (STARTING|STOPPING)"
    ),
    "one AWS call that did not return (beyond botocore's timeouts) until the request's own time was over": (
        r"did not return until the function timed out, past the time this request had to answer"
    ),
}

#: Reasons that name a transient fault or a timeout: never an acceptable cause of a failed stack (I1).
TRANSIENT_CAUSES = re.compile(
    r"Throttl|InternalServerError|ServiceUnavailable|internal error after retries|kept throttling|"
    r"RequestTimeout|did not receive a response from your Custom Resource"
)

#: Reasons that are not written for the person reading the stack events (I5).
RAW_REASON = re.compile(r"^An error occurred \(|Traceback \(most recent call last\)|^\w+(Error|Exception)\(")

TERMINAL_FAILED = ("ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED")
OPERATION_FAILED = ("ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS")

#: (test id, invariant) pairs that fail today because of handler defects; each with what fails. The check
#: of that invariant is skipped in that test only.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {
    (
        "tests/e2e/test_explored.py::"
        "test_a_rollback_delivered_again_in_the_next_update_of_the_same_change_at_the_rules_quota[absent]",
        "I5",
    ): (
        "where DescribeStackEvents shows no properties, a rollback delivered again while its resource waits "
        "for the next update's own Update, after drift, at the rules quota, answers again (README, Known "
        "limits)"
    ),
    (
        "tests/handler/test_drift.py::"
        "test_a_key_change_of_a_copy_deleted_by_hand_with_no_room_for_its_mark_cannot_be_rolled_back",
        "I1",
    ): (
        "after the copy was deleted by hand, an update that made it again under the same name with a key, "
        "with no room left in its tags for the mark, then rolled back, ends UPDATE_ROLLBACK_FAILED (README, "
        "Known limits)"
    ),
}

#: Tests that break the handler on purpose (what CloudFormation sees then is their subject): the
#: invariants are not theirs to keep. Not handler defects: this set stays.
BY_DESIGN: dict[tuple[str, str], str] = {
    ("tests/handler/test_faults.py::test_an_exception_at_import_time_still_answers", "I1"): (
        "the handler's import fails on purpose; its rollback Delete fails with that error"
    ),
}


def outage() -> bool:
    """Whether an AWS operation is failing without end now (a fault injected with ``times=None``): the
    one case besides ALLOWED_FAILURE_CAUSES where a stack may end *_FAILED, with a Reason saying so."""
    pending = getattr(custom_labels.faults, "_faults", {})
    return any(f.remaining is None for faults in pending.values() for f in faults)


def allowed_cause(reason: str) -> str | None:
    """The allowed cause a Reason names (its description), or None."""
    if TRANSIENT_CAUSES.search(reason):
        return None
    for description, pattern in ALLOWED_FAILURE_CAUSES.items():
        if re.search(pattern, reason):
            return description
    return None


@dataclass
class _Stacked:
    """What the monitor remembers of one stack."""

    stack: Stack
    stable_template: dict[str, Any] = field(default_factory=dict)  # the template deployed last
    created_policies: set[tuple[str, str]] = field(default_factory=set)  # (project ARN, name) it put
    put_revisions: set[str] = field(default_factory=set)  # the policy revisions its answers named
    retained: set[str] = field(default_factory=set)  # logical ids that ever had a Retain policy
    operation_began: int = 0  # index in the driver's requests where the current phase began
    # I4's grants that must hold at every event of the current create or update: those both templates
    # list that held when it began (drift by hand before it, a policy deleted or rewritten outside
    # CloudFormation, is not the operation's to keep), and those of each policy resource that answered
    # its Create or Update in it (from then on). A rollback keeps only the first kind, then adds its own.
    allowed_at_start: set[tuple[str, str, str]] = field(default_factory=set)
    must_hold: set[tuple[str, str, str]] = field(default_factory=set)
    deleted: bool = False


@dataclass
class Monitor:
    """Checks I1..I5 over a driver and the emulated state after every stack event (see the module)."""

    cloud: CloudFormation | None = None
    transient_faults_only: bool = False
    skip: frozenset[str] = frozenset()  # invariants not checked (KNOWN_VIOLATIONS of the test)
    violations: list[tuple[str, str]] = field(default_factory=list)
    _stacks: dict[str, _Stacked] = field(default_factory=dict)  # by stack id
    _policies_before: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)
    _reasons_read: set[int] = field(default_factory=set)  # the requests whose Reason was read

    # -- wiring -------------------------------------------------------------------------------------------
    def attach(self, cloud: CloudFormation) -> Monitor:
        """Watch ``cloud``: its events come here (after any on_event it has), and the emulator's stop and
        delete of versions are attributed to the request running when they happen."""
        self.cloud = cloud
        previous = cloud._on_event

        def on_event(event: StackEvent) -> None:
            if previous:
                previous(event)
            self.on_event(event)

        cloud._on_event = on_event
        _install_removal_hook()
        _ACTIVE.append(self)
        return self

    def detach(self) -> None:
        if self in _ACTIVE:
            _ACTIVE.remove(self)

    def _removed(self, name: str, arn: str, owner: str) -> None:
        """The emulator stopped or deleted a version: attributed to the request of this driver running in
        the calling thread, if any."""
        event = self.cloud.runtime.current_event() if self.cloud else None
        self._check_removal(name, arn, event, owner)

    def _add(self, invariant: str, text: str) -> None:
        if invariant not in self.skip and (invariant, text) not in self.violations:
            self.violations.append((invariant, text))

    # -- the checks -----------------------------------------------------------------------------------------
    def on_event(self, event: StackEvent) -> None:
        assert self.cloud is not None
        stacked = self._stacked(event.stack)
        if stacked is None:
            return
        stack = stacked.stack
        for logical_id, definition in stack.template.get("Resources", {}).items():
            if "Retain" in (definition.get("DeletionPolicy"), definition.get("UpdateReplacePolicy")):
                stacked.retained.add(logical_id)
        if event.resource_type == PROJECT_POLICY_TYPE:
            self._policy_event(stacked, event)
        if event.logical_id == stack.name and event.resource_type == "AWS::CloudFormation::Stack":
            self._stack_status(stacked, event)
        self._check_reasons()
        self._check_destinations(stacked, event)

    def _stacked(self, name: str) -> _Stacked | None:
        assert self.cloud is not None
        for stack in reversed(self.cloud.stacks):
            if stack.name == name:
                return self._stacks.setdefault(stack.stack_id, _Stacked(stack))
        return None

    def _stack_status(self, stacked: _Stacked, event: StackEvent) -> None:
        status = event.status
        sent = len(self.cloud.all_requests) if self.cloud else 0
        if status in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS"):
            stacked.operation_began = sent
        if status in ("CREATE_IN_PROGRESS", "DELETE_IN_PROGRESS"):
            stacked.allowed_at_start, stacked.must_hold = set(), set()
        if status == "UPDATE_IN_PROGRESS":
            policies = self._policies()
            both = _grants(stacked.stack, stacked.stable_template) & _grants(
                stacked.stack, stacked.stack.template
            )
            stacked.allowed_at_start = {
                grant for grant in both if _allows(policies.get(grant[0], {}).values(), grant[1], grant[2])
            }
            stacked.must_hold = set(stacked.allowed_at_start)
        if status == "UPDATE_ROLLBACK_IN_PROGRESS":
            stacked.must_hold = set(stacked.allowed_at_start)  # the forward update's own puts are undone
        if status in TERMINAL_FAILED or (status in OPERATION_FAILED and self.transient_faults_only):
            # the failed answers of this phase: the rollback's (or the delete's) for a terminal status
            for where, reason in self._failed_answers(stacked):
                self._check_failure(
                    f"{event.stack} {status} ({where})", reason, terminal=status in TERMINAL_FAILED
                )
        if status in OPERATION_FAILED:
            stacked.operation_began = sent  # what follows is the rollback
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
            stacked.stable_template = json.loads(json.dumps(stacked.stack.template))
        if status == "DELETE_COMPLETE":
            stacked.deleted = True
            self._check_left(stacked, final=False)

    def _failed_answers(self, stacked: _Stacked) -> list[tuple[str, str]]:
        """(request, Reason) of this operation's FAILED answers to the handler's resource types (a
        failure of an ordinary resource, or of another function's, is not the handler's)."""
        assert self.cloud is not None
        return [
            (r.where, str((r.response or {}).get("Reason", "")))
            for r in self.cloud.all_requests[stacked.operation_began :]
            if r.stack is stacked.stack
            and r.event["ResourceType"] in (MODEL_COPY_TYPE, PROJECT_POLICY_TYPE)
            and (r.response or {}).get("Status") == "FAILED"
        ]

    def _check_failure(self, where: str, reason: str, *, terminal: bool) -> None:
        if outage():
            return  # an operation failing without end: no retry can help, a failure with its Reason is right
        if TRANSIENT_CAUSES.search(reason):
            self._add("I1", f"{where} because of a transient fault or timeout: {reason}")
        elif terminal and allowed_cause(reason) is None:
            self._add("I1", f"{where} for a cause not on the allowed list: {reason}")

    # I2 -----------------------------------------------------------------------------------------------------
    def _check_removal(self, name: str, arn: str, event: dict[str, Any] | None, owner: str) -> None:
        """A version stopped or deleted: by the request of the resource whose marker it carries, or by
        someone other than the handler (a test's out-of-band action, ``event`` None)."""
        if event is None:
            return
        action = "stopped" if name.startswith("stop") else "deleted"
        where = f"{event.get('LogicalResourceId')} {event.get('RequestType')}"
        if CLEANUP_KEY in event:
            # A cleanup a request left for later (a copy the service would not delete yet) acts for the
            # resource its input names; that resource must be one this driver sent requests for.
            where = f"{event.get('LogicalResourceId')} cleanup {event.get(CLEANUP_KEY)}"
            if not self._requested(str(event.get("StackId")), str(event.get("LogicalResourceId"))):
                self._add("I2", f"{where} {action} {arn} for a resource no request named")
                return
        if not owner:
            self._add("I2", f"{where} {action} {arn}, which carries no owner marker")
        elif owner != owner_of(str(event.get("StackId")), str(event.get("LogicalResourceId"))):
            self._add("I2", f"{where} {action} {arn}, which another resource owns")
        holder = self._holder(arn)
        if holder is None:
            return
        # The copy a live stack holds: deleted only by its resource's own Delete of that id, stopped only by
        # a request of that resource (an Update may stop it: no units declared); never by a cleanup.
        own = (
            CLEANUP_KEY not in event
            and event.get("StackId") == holder[0].stack_id
            and event.get("LogicalResourceId") == holder[1]
        )
        if action == "deleted":
            own = own and event.get("RequestType") == "Delete" and event.get("PhysicalResourceId") == arn
        if not own:
            self._add("I2", f"{where} {action} {arn}, the copy {holder[0].name} holds as {holder[1]}")

    def _holder(self, arn: str) -> tuple[Stack, str] | None:
        """The live stack and logical id of the model copy resource whose physical id is ``arn``."""
        assert self.cloud is not None
        for stack in self.cloud.stacks:
            if stack.status in ("NOT_CREATED", "DELETE_COMPLETE"):
                continue
            for logical_id, resource in list(stack.resources.items()):
                if resource.type == MODEL_COPY_TYPE and resource.physical_id == arn:
                    return stack, logical_id
        return None

    def _requested(self, stack_id: str, logical_id: str) -> bool:
        """Whether the driver sent a request for that resource."""
        assert self.cloud is not None
        return any(
            r.stack.stack_id == stack_id and r.logical_id == logical_id for r in self.cloud.all_requests
        )

    # I3 -----------------------------------------------------------------------------------------------------
    def _owned_versions(self, stacked: _Stacked) -> list[tuple[str, str, str]]:
        """(version ARN, status, logical id) of the live versions carrying a marker of the stack's
        resources (every logical id it ever sent a request for), retained ones excepted."""
        assert self.cloud is not None
        logical_ids = {r.logical_id for r in self.cloud.all_requests if r.stack is stacked.stack}
        owners = {owner_of(stacked.stack.stack_id, lid): lid for lid in logical_ids - stacked.retained}
        found: list[tuple[str, str, str]] = []
        now = custom_labels.now()
        with custom_labels.state_lock:
            for backend in _backends():
                for project in backend.projects.values():
                    for version in project.live_versions(now):
                        owner = version.tags.get(OWNER_TAG, "")
                        if owner in owners:
                            found.append((version.arn, version.status(now), owners[owner]))
        return found

    def _pending_rules(self, stacked: _Stacked) -> list[str]:
        assert self.cloud is not None
        mine = {r.event["RequestId"] for r in self.cloud.all_requests if r.stack is stacked.stack}
        self.cloud._scan_schedules()
        return [rule for rid, rules in self.cloud.rules_by_request().items() if rid in mine for rule in rules]

    def _check_left(self, stacked: _Stacked, *, final: bool) -> None:
        name = stacked.stack.name
        rules = self._pending_rules(stacked)
        for arn, status, logical_id in self._owned_versions(stacked):
            if status == "DELETING":
                continue
            if status == "COPYING_IN_PROGRESS" and rules and not final:
                continue  # a deferred cleanup is pending; checked again at the end
            self._add("I3", f"{name} DELETE_COMPLETE left {logical_id}'s version {arn} ({status})")
        for project_arn, policy_name in sorted(stacked.created_policies):
            if self._policy_revision(
                project_arn, policy_name
            ) in stacked.put_revisions and not self._held_elsewhere(stacked, project_arn, policy_name):
                self._add(
                    "I3", f"{name} DELETE_COMPLETE left the project policy {policy_name} on {project_arn}"
                )
        if final and rules:
            self._add("I3", f"{name} DELETE_COMPLETE left polling rules {sorted(rules)}")

    def _policy_revision(self, project_arn: str, name: str) -> str | None:
        """The policy's current revision id (None: no such policy)."""
        with custom_labels.state_lock:
            for backend in _backends():
                for project in backend.projects.values():
                    if project.arn == project_arn and name in project.policies:
                        return str(project.policies[name].revision_id)
        return None

    def _policies(self) -> dict[str, dict[str, str]]:
        """Every project's policies: project ARN -> policy name -> document."""
        found: dict[str, dict[str, str]] = {}
        with custom_labels.state_lock:
            for backend in _backends():
                for project in backend.projects.values():
                    found[project.arn] = {n: p.document for n, p in project.policies.items()}
        return found

    def _held_elsewhere(self, stacked: _Stacked, project_arn: str, name: str) -> bool:
        """Another stack, not deleted, holds a policy resource of that project and name."""
        for other in self._stacks.values():
            if other is stacked or other.deleted:
                continue
            for resource in other.stack.resources.values():
                if resource.type == PROJECT_POLICY_TYPE and _policy_key(resource.physical_id) == (
                    project_arn,
                    name,
                ):
                    return True
        return False

    def _policy_event(self, stacked: _Stacked, event: StackEvent) -> None:
        """Which (project, name) a policy resource's request put: absent before it, named by its answer."""
        key = (stacked.stack.stack_id, event.logical_id)
        present = {(p, n) for p, names in self._policies().items() for n in names}
        if event.status.endswith("_IN_PROGRESS"):
            self._policies_before[key] = present
        elif event.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            stacked.put_revisions.add(event.physical_id.rsplit("/revision/", 1)[-1])
            named = _policy_key(event.physical_id)
            if named and named not in self._policies_before.get(key, present) and named in present:
                stacked.created_policies.add(named)

    # I4 -----------------------------------------------------------------------------------------------------
    def _check_destinations(self, stacked: _Stacked, event: StackEvent) -> None:
        """At every event of a create or update (its rollback too), the grants of ``must_hold``: a policy
        resource's own grants join it once it answered its Create or Update (a put that took effect, which
        also mends drift by hand when the resource was updated)."""
        stack = stacked.stack
        if stack.status.startswith("DELETE"):
            return
        if event.resource_type == PROJECT_POLICY_TYPE and event.status in (
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
        ):
            # the template the request applied (the old one again during a rollback)
            definition = stack.template.get("Resources", {}).get(event.logical_id, {})
            stacked.must_hold |= _grants(stack, {"Resources": {"It": definition}})
        policies = self._policies()
        for project_arn, principal, version_arn in sorted(stacked.must_hold):
            if not _allows(policies.get(project_arn, {}).values(), principal, version_arn):
                self._add(
                    "I4",
                    f"{stack.name} {event.logical_id} {event.status}: {principal} may not copy {version_arn}",
                )

    # I5 -----------------------------------------------------------------------------------------------------
    def _check_reasons(self) -> None:
        assert self.cloud is not None
        for request in self.cloud.all_requests:
            response = request.response or {}
            if response.get("Status") != "FAILED" or id(request) in self._reasons_read:
                continue
            self._reasons_read.add(id(request))  # each request's Reason read once (it never changes)
            reason = str(response.get("Reason", ""))
            if request.event["ResourceType"] not in (MODEL_COPY_TYPE, PROJECT_POLICY_TYPE):
                continue
            if RAW_REASON.search(reason) or len(reason) < 20:
                self._add("I5", f"{request.where}: a Reason not written for the reader: {reason!r}")

    def _check_answer_counts(self) -> None:
        """One answer per request; two identical answers are tolerated when the request was delivered
        twice at the same moment (both deliveries run before either can see the other's claim)."""
        assert self.cloud is not None
        for request in self.cloud.all_requests:
            if request.event["ResourceType"] not in (MODEL_COPY_TYPE, PROJECT_POLICY_TYPE):
                continue
            bodies = self.cloud.server.responses(request.event["RequestId"])
            identical = len({json.dumps(b, sort_keys=True) for b in bodies}) == 1
            if len(bodies) > 1 and not (identical and len(bodies) <= request.deliveries):
                self._add("I5", f"{request.where}: {len(bodies)} responses to one request")

    def finish(self) -> list[tuple[str, str]]:
        """The end of a run: I3 again for every deleted stack (deferred cleanups had their time), I5 from
        the driver's protocol checks. Returns every violation found."""
        if self.cloud is not None:
            for stacked in self._stacks.values():
                if stacked.deleted:
                    self._check_left(stacked, final=True)
            ours = {
                r.where
                for r in self.cloud.all_requests
                if r.event["ResourceType"] in (MODEL_COPY_TYPE, PROJECT_POLICY_TYPE)
            }
            for text in self.cloud.audit():
                if text.split(":", 1)[0] in ours and "responses to one request" not in text:
                    self._add("I5", text)
            self._check_answer_counts()
        self.detach()
        return self.violations


_ACTIVE: list[Monitor] = []  # the monitors attached now


def _backends() -> list[Any]:
    """Every account's and Region's Custom Labels backend."""
    return [backend for _, _, backend in list(custom_labels.custom_labels_backends.iter_backends())]


def _install_removal_hook() -> None:
    """Once per process: the emulator's StopProjectVersion and DeleteProjectVersion tell the attached
    monitors which version they stopped or deleted (and its owner marker, read before)."""
    backend_class = custom_labels.CustomLabelsBackend
    if getattr(backend_class, "_invariants_hooked", False):
        return

    def wrap(name: str, original: Callable[..., str]) -> Callable[..., str]:
        def hooked(backend: Any, arn: str, caller: Any = None) -> str:
            owner = ""
            try:
                owner = backend.get_version(arn)[1].tags.get(OWNER_TAG, "")
            except Exception:  # noqa: BLE001 - the call itself reports a version that is not there
                pass
            result = original(backend, arn, caller)
            for monitor in list(_ACTIVE):
                monitor._removed(name, arn, owner)
            return result

        return hooked

    for name in ("delete_project_version", "stop_project_version"):
        setattr(backend_class, name, wrap(name, getattr(backend_class, name)))
    setattr(backend_class, "_invariants_hooked", True)  # noqa: B010 - an attribute of our own on a class


def _policy_key(physical_id: str) -> tuple[str, str] | None:
    """(project ARN, policy name) of a project policy resource's physical id."""
    match = re.match(
        r"^(arn:aws[\w-]*:rekognition:[^/]+:\d{12}:project/[^/]+/\d+)/policy/([^/]+)", physical_id
    )
    return (match.group(1), match.group(2)) if match else None


def _principals(value: Any) -> list[str]:
    """The AWS principals named, an account id as its root ARN (the same principal to IAM)."""
    if isinstance(value, str):
        return [f"arn:aws:iam::{value}:root" if re.fullmatch(r"\d{12}", value) else value]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _principals(v)]
    if isinstance(value, list):
        return [p for v in value for p in _principals(v)]
    return []


def _statements(document: Any) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return []
    statements = parsed.get("Statement", []) if isinstance(parsed, dict) else []
    return [statements] if isinstance(statements, dict) else [s for s in statements if isinstance(s, dict)]


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def _grants(stack: Stack, template: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(project ARN, principal, version ARN) the template's project policies grant CopyProjectVersion."""
    found: set[tuple[str, str, str]] = set()
    for definition in template.get("Resources", {}).values():
        if definition.get("Type") != PROJECT_POLICY_TYPE:
            continue
        try:
            properties = stack.resolve(definition.get("Properties", {}))
        except Exception:  # noqa: BLE001 - a template the driver cannot resolve grants nothing checkable
            continue
        for statement in _statements(properties.get("PolicyDocument")):
            if statement.get("Effect") != "Allow" or "Condition" in statement:
                continue
            if not any(
                fnmatch.fnmatch("rekognition:CopyProjectVersion", a)
                for a in _as_list(statement.get("Action"))
            ):
                continue
            for principal in _principals(statement.get("Principal")):
                for version_arn in _as_list(statement.get("Resource")):
                    found.add((str(properties.get("ProjectArn")), principal, version_arn))
    return found


def _allows(documents: Iterable[str], principal: str, version_arn: str) -> bool:
    for document in documents:
        for statement in _statements(document):
            if statement.get("Effect") != "Allow":
                continue
            if principal not in _principals(statement.get("Principal")):
                continue
            if not any(
                fnmatch.fnmatch("rekognition:CopyProjectVersion", a)
                for a in _as_list(statement.get("Action"))
            ):
                continue
            if any(fnmatch.fnmatch(version_arn, r) for r in _as_list(statement.get("Resource"))):
                return True
    return False
