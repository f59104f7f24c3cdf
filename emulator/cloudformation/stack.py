"""A stack and CloudFormation's operations on it: create, update and delete, with their rollbacks, wave by
wave in dependency order; custom resources get requests (sent together per wave), ordinary ones are
deployed by :mod:`.resources`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from . import resources as plain
from .lambda_runtime import Function, Invocation, LambdaRuntime
from .protocol import Request
from .resources import Resource
from .server import ResponseServer
from .template import (
    CUSTOM_PREFIX,
    DriverError,
    Rejected,
    closure,
    condition,
    dependencies,
    resolve,
    stringify,
    waves,
)


def service_timeout(logical_id: str, properties: dict[str, Any]) -> float:
    """A custom resource's ServiceTimeout: "an integer from 1 to 3600", default 3600
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html).
    CloudFormation refuses other values before it invokes anything; its wording is not documented, this is
    the form of its property validation messages."""
    value = properties.get("ServiceTimeout")
    if value is None or value == "":
        return 3600.0
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 3600:
        raise Rejected(
            f"Properties validation failed for resource {logical_id} with message: ServiceTimeout must be an "
            f"integer from 1 to 3600, not {value!r}"
        )
    return float(text)


@dataclass
class StackEvent:
    """One line of a stack's event history, as CloudFormation shows it."""

    time: float
    stack: str
    logical_id: str
    resource_type: str
    status: str
    reason: str = ""
    physical_id: str = ""
    stack_id: str = ""
    #: the custom resource request whose answer this event records ("" for other events)
    request_id: str = ""
    #: a custom resource's properties, as its request carries them (None for other events)
    properties: dict[str, Any] | None = None


class Cloud(Protocol):
    """What a stack needs of the cloud it runs in (:class:`.cloud.CloudFormation` is one): the clock, the
    functions, exports and response server, sessions, the event record, Lambda's configuration and the
    loop that sends requests and waits for their answers."""

    clock: Any
    server: ResponseServer
    functions: dict[str, Function]
    exports: dict[str, Any]
    regional_exports: dict[tuple[str, str, str], Any]
    runtime: LambdaRuntime

    def record(self, event: StackEvent) -> None: ...

    @property
    def invocations(self) -> list[Invocation]: ...

    def session(self, account_id: str, region: str, role_arn: str | None = None) -> boto3.Session: ...

    def configure(self, resource: Resource) -> None: ...

    def unconfigure(self, resource: Resource) -> None: ...

    def run(self, requests: list[Request]) -> None: ...


class Stack:
    """A deployed stack: its template, its resources and its event history."""

    def __init__(self, cloud: Cloud, name: str, account_id: str, region: str, asset_root: Path) -> None:
        self.cloud = cloud
        self.name = name
        self.account_id = account_id
        self.region = region
        self.asset_root = asset_root
        self.stack_id = f"arn:aws:cloudformation:{region}:{account_id}:stack/{name}/{uuid.uuid4()}"
        self.template: dict[str, Any] = {}
        self.resources: dict[str, Resource] = {}
        self.status = "NOT_CREATED"
        self.outputs: dict[str, Any] = {}
        #: the ordinary resources the update in progress changed: (as before, its replacement or None)
        self.plain_changes: list[tuple[Resource, Resource | None]] = []
        #: what a rollback that failed (UPDATE_ROLLBACK_FAILED) left to do, for ContinueUpdateRollback
        self._rollback_left: _RollbackLeft | None = None

    # -- helpers ------------------------------------------------------------------------------------------
    def event(
        self,
        logical_id: str,
        resource_type: str,
        status: str,
        reason: str = "",
        physical_id: str = "",
        request_id: str = "",
        properties: dict[str, Any] | None = None,
    ) -> None:
        self.cloud.record(
            StackEvent(
                self.cloud.clock.now(),
                self.name,
                logical_id,
                resource_type,
                status,
                reason,
                physical_id,
                self.stack_id,
                request_id,
                properties,
            )
        )

    def _stack_event(self, status: str, reason: str = "") -> None:
        self.status = status
        self.event(self.name, "AWS::CloudFormation::Stack", status, reason)

    def session(self) -> boto3.Session:
        return self.cloud.session(self.account_id, self.region)

    @property
    def functions(self) -> dict[str, Any]:
        """The Lambda functions of the cloud, by ARN (where a deployed function goes)."""
        return self.cloud.functions

    @property
    def exports(self) -> dict[str, Any]:
        """The stack exports of this stack's account and Region, by name (what Fn::ImportValue reads:
        export names are unique per account and Region)."""
        here = (self.account_id, self.region)
        return {name: v for (a, r, name), v in self.cloud.regional_exports.items() if (a, r) == here}

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsic functions against the deployed resources (:func:`.template.resolve`)."""
        return resolve(self, value)

    def reservation_error(self, function: Any, reserved: int | None) -> str | None:
        """Why Lambda refuses a function's ReservedConcurrentExecutions (None: accepted)."""
        return self.cloud.runtime.reservation_error(function, reserved)

    # -- custom resources ---------------------------------------------------------------------------------
    def custom_request(
        self,
        logical_id: str,
        request_type: str,
        definition: dict[str, Any],
        properties: dict[str, Any],
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> Request:
        """A request for a custom resource with the properties given, as they are (``definition``: its
        template definition, of which only the Type is read). ``request`` builds one from the template;
        this one serves rollbacks, Deletes of what the stack no longer holds, and tests that send what no
        template would."""
        token = properties.get("ServiceToken")
        if token not in self.cloud.functions:
            raise DriverError(f"{logical_id}: ServiceToken {token!r} is not a function this driver deployed")
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": self.cloud.server.url_for(self.name, request_id),
            "StackId": self.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": definition["Type"],
            "ResourceProperties": properties,
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = old_properties
        timeout = service_timeout(logical_id, properties)
        return Request(
            self,
            logical_id,
            event,
            self.cloud.functions[token],
            self.cloud.clock.now() + timeout,
            service_timeout=timeout,
            invocations=self.cloud.invocations,
        )

    def request(
        self, logical_id: str, request_type: str, *, physical_id: str | None = None, deliveries: int = 1
    ) -> Request:
        """A request for one custom resource of the current template (for tests that drive requests one
        by one: ``cloud.send([...])``, ``cloud.wait([...])``)."""
        definition = self.template["Resources"][logical_id]
        properties = stringify(self.resolve(definition.get("Properties", {})))
        old = self.resources.get(logical_id)
        request = self.custom_request(
            logical_id,
            request_type,
            definition,
            properties,
            physical_id if physical_id is not None else (old.physical_id if old else None),
            old.properties if request_type == "Update" and old else None,
        )
        request.deliveries = deliveries
        return request

    def deploy_plain_resources(self, template: dict[str, Any]) -> None:
        """Create only the ordinary resources of a template (for tests that send requests themselves)."""
        self.template = template
        for wave in waves(template):
            for logical_id in wave:
                definition = template["Resources"][logical_id]
                if not definition["Type"].startswith(CUSTOM_PREFIX):
                    self.resources[logical_id] = plain.deploy(self, logical_id, definition)
                    self.cloud.configure(self.resources[logical_id])

    def _custom(self, requests: list[Request]) -> list[Request]:
        """Send requests together (CloudFormation works on a wave in parallel) and wait for every answer
        (or ServiceTimeout); the cloud records each resource's events as it sends and takes answers."""
        self.cloud.run(requests)
        return requests

    def request_sent(self, request: Request) -> None:
        """Record the event CloudFormation records before it sends a custom resource's request."""
        self.event(
            request.logical_id,
            request.event["ResourceType"],
            f"{request.event['RequestType'].upper()}_IN_PROGRESS",
            physical_id=request.event.get("PhysicalResourceId", ""),
            properties=request.event.get("ResourceProperties"),
        )

    def request_answered(self, request: Request) -> None:
        """Record the event CloudFormation records once it takes a request's answer (or gives up on it)."""
        response = request.response or {}
        ok = response.get("Status") == "SUCCESS"
        self.event(
            request.logical_id,
            request.event["ResourceType"],
            f"{request.event['RequestType'].upper()}_{'COMPLETE' if ok else 'FAILED'}",
            "" if ok else str(response.get("Reason", "")),
            str(response.get("PhysicalResourceId", "")),
            str(request.event.get("RequestId", "")),
            request.event.get("ResourceProperties"),
        )

    def _custom_resource(
        self,
        logical_id: str,
        definition: dict[str, Any],
        response: dict[str, Any],
        properties: dict[str, Any],
    ) -> Resource:
        data = response.get("Data") or {}
        return Resource(
            logical_id,
            definition["Type"],
            str(response["PhysicalResourceId"]),
            properties,
            attributes={str(k): v for k, v in data.items()},
            deletion_policy=definition.get("DeletionPolicy", "Delete"),
            update_replace_policy=definition.get("UpdateReplacePolicy", "Delete"),
        )

    # -- operations ---------------------------------------------------------------------------------------
    # CloudFormation's stack operations and their rollbacks. Documented behaviour (stack status codes:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html; custom
    # resource replacement: .../aws-resource-cloudformation-customresource.html) is followed; where the
    # documentation is silent the stricter plausible behaviour is chosen and says so.
    def create(self, template: dict[str, Any]) -> str:
        """CREATE the stack; on failure roll back: every resource made so far is deleted (a failed custom
        resource with the id its FAILED answer carried). ROLLBACK_FAILED when a Delete fails."""
        self.template = template
        self._stack_event("CREATE_IN_PROGRESS")
        failure = self._deploy_waves(template, {}, [])
        if failure:
            self._stack_event("ROLLBACK_IN_PROGRESS", failure)
            failures = self._delete_resources(set(self.resources))
            self._stack_event("ROLLBACK_FAILED" if failures else "ROLLBACK_COMPLETE", "; ".join(failures))
        else:
            self._collect_outputs()
            self._stack_event("CREATE_COMPLETE")
        return self.status

    def _deploy_waves(
        self, template: dict[str, Any], old: dict[str, Resource], updates: list[Request]
    ) -> str:
        """Create new resources and update changed ones, wave by wave, stopping after the first wave with
        a failure. Every Update request sent is appended to ``updates``. A SUCCESS answer sets the
        physical id the stack holds; a FAILED answer to an Update leaves it unchanged. Returns the first
        failure's reason, or ''."""
        resources = template.get("Resources", {})
        for wave in waves(template):
            creates: list[Request] = []
            wave_updates: list[Request] = []
            for logical_id in wave:
                definition = resources[logical_id]
                if "Condition" in definition and not condition(self, definition["Condition"]):
                    continue  # a resource whose condition is false is not created
                if not definition["Type"].startswith(CUSTOM_PREFIX) and definition["Type"] != (
                    "AWS::CloudFormation::CustomResource"
                ):
                    failure = self._deploy_plain(logical_id, definition, old)
                    if failure:
                        return failure
                    continue
                properties = stringify(self.resolve(definition.get("Properties", {})))
                kind = "Create" if logical_id not in old else "Update"
                if kind == "Update" and properties == old[logical_id].properties:
                    continue
                try:
                    request = self.custom_request(
                        logical_id,
                        kind,
                        definition,
                        properties,
                        None if kind == "Create" else old[logical_id].physical_id,
                        None if kind == "Create" else old[logical_id].properties,
                    )
                except Rejected as rejected:
                    self.event(logical_id, definition["Type"], f"{kind.upper()}_FAILED", str(rejected))
                    return f"{logical_id}: {rejected}"
                (creates if kind == "Create" else wave_updates).append(request)
            updates.extend(wave_updates)
            self._custom(creates + wave_updates)
            for request in creates + wave_updates:
                response = request.response or {}
                if response.get("Status") == "SUCCESS":
                    self.resources[request.logical_id] = self._custom_resource(
                        request.logical_id,
                        resources[request.logical_id],
                        response,
                        request.event["ResourceProperties"],
                    )
                elif request.event["RequestType"] == "Create":
                    # CloudFormation records the failed resource with the id it answered; rollback deletes it
                    self.resources[request.logical_id] = Resource(
                        request.logical_id,
                        request.event["ResourceType"],
                        str(response.get("PhysicalResourceId")),
                        request.event["ResourceProperties"],
                    )
            failed = [r for r in creates + wave_updates if (r.response or {}).get("Status") != "SUCCESS"]
            if failed:
                first = failed[0]
                return f"{first.logical_id}: {(first.response or {}).get('Reason', 'no response')}"
        return ""

    def _deploy_plain(self, logical_id: str, definition: dict[str, Any], old: dict[str, Resource]) -> str:
        """Create an ordinary resource, or update it when its resolved properties changed: in place, or by
        a new resource when a changed property requires replacement (the old one is deleted in the
        cleanup, or kept and the new one deleted on rollback). Returns a failure reason or ''."""
        kind = definition["Type"]
        if logical_id not in old:
            self.event(logical_id, kind, "CREATE_IN_PROGRESS")
            try:
                self.resources[logical_id] = plain.deploy(self, logical_id, definition)
                self.cloud.configure(self.resources[logical_id])
            except (Rejected, ClientError) as error:
                self.resources.pop(logical_id, None)
                self.event(logical_id, kind, "CREATE_FAILED", str(error))
                return f"{logical_id}: {error}"
            self.event(
                logical_id, kind, "CREATE_COMPLETE", physical_id=self.resources[logical_id].physical_id
            )
            return ""
        current = self.resources[logical_id]
        props = self.resolve(definition.get("Properties", {}))
        if props == current.properties:
            return ""
        self.event(logical_id, kind, "UPDATE_IN_PROGRESS", physical_id=current.physical_id)
        try:
            if plain.needs_replacement(kind, current.properties, props):
                self.event(
                    logical_id,
                    kind,
                    "UPDATE_IN_PROGRESS",
                    "Requested update requires the creation of a new physical resource; hence creating one.",
                )
                replacement = plain.deploy(self, logical_id, definition)
                self.resources[logical_id] = replacement
                self.cloud.configure(replacement)
                self.plain_changes.append((current, replacement))
            else:
                before = Resource(**{**current.__dict__, "properties": current.properties})
                plain.update(self, current, props)
                self.cloud.configure(current)
                self.plain_changes.append((before, None))
        except (Rejected, ClientError) as error:
            self.resources[logical_id] = current
            self.event(logical_id, kind, "UPDATE_FAILED", str(error), current.physical_id)
            return f"{logical_id}: {error}"
        self.event(logical_id, kind, "UPDATE_COMPLETE", physical_id=self.resources[logical_id].physical_id)
        return ""

    def _plain_cleanup(self, *, rolled_back: bool) -> list[str]:
        """After an update: delete the ordinary resources it replaced (success), or put back what it changed
        (rollback: in-place changes undone, replacements deleted and the old resources held again).
        Returns failure reasons."""
        failures: list[str] = []
        for before, replacement in reversed(self.plain_changes):
            if replacement is None:  # changed in place: undone on rollback, nothing to delete
                if rolled_back:
                    held = self.resources[before.logical_id]
                    plain.update(self, held, before.properties)
                    self.cloud.configure(held)
                continue
            doomed = replacement if rolled_back else before
            if rolled_back:
                self.resources[before.logical_id] = before
                self.cloud.configure(before)
            failure = plain.delete(self, doomed)
            self.event(
                doomed.logical_id,
                doomed.type,
                "DELETE_FAILED" if failure else "DELETE_COMPLETE",
                failure,
                doomed.physical_id,
            )
            if failure:
                failures.append(f"{doomed.logical_id}: {failure}")
        self.plain_changes = []
        return failures

    def update(self, template: dict[str, Any]) -> str:
        """UPDATE the stack to a new template; on failure roll back to the old one.

        Success: UPDATE_COMPLETE_CLEANUP_IN_PROGRESS deletes what was replaced (unless UpdateReplacePolicy
        is Retain) and what the new template removed, then UPDATE_COMPLETE (a failed cleanup Delete is
        recorded as DELETE_FAILED; the stack stays UPDATE_COMPLETE, as CloudFormation does).

        Failure: UPDATE_ROLLBACK_IN_PROGRESS sends every custom resource this update sent an Update to
        (answered or not) an Update back: ResourceProperties = its previous properties,
        OldResourceProperties = the rejected ones, PhysicalResourceId = the id the stack holds now (the new
        id of an accepted replacement; the old one when the Update failed). A rollback answering another id
        is a replacement: the id the stack held is deleted in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS,
        with the resources this update created. UPDATE_ROLLBACK_COMPLETE only if every rollback Update and
        every cleanup Delete answers SUCCESS, else UPDATE_ROLLBACK_FAILED with the reasons. (Stricter than
        CloudFormation for the cleanup Deletes, whose failure it may only record as DELETE_FAILED.)
        """
        old_template, old_resources = self.template, dict(self.resources)
        self.template = template
        self.plain_changes = []
        self._stack_event("UPDATE_IN_PROGRESS")
        updates: list[Request] = []
        failure = self._deploy_waves(template, old_resources, updates)
        if not failure:
            self._stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            replaced = [
                old_resources[r.logical_id]
                for r in updates
                if self.resources[r.logical_id].physical_id != old_resources[r.logical_id].physical_id
                and self.resources[r.logical_id].update_replace_policy != "Retain"
            ]
            self._delete_held(replaced)
            self._plain_cleanup(rolled_back=False)  # a failed cleanup Delete is recorded; the stack completes
            removed = set(old_resources) - set(template.get("Resources", {}))
            self._delete_resources(removed, pool=old_resources, template=old_template)
            self._collect_outputs()
            self._stack_event("UPDATE_COMPLETE")
            return self.status
        self._stack_event("UPDATE_ROLLBACK_IN_PROGRESS", failure)
        self.template = old_template
        changes = self.plain_changes
        replaced_plain = [change for change in changes if change[1] is not None]
        for before, _ in replaced_plain:  # the rollback's Updates resolve against the old resources
            self.resources[before.logical_id] = before
        self.plain_changes = [change for change in changes if change[1] is None]
        self._plain_cleanup(rolled_back=True)  # in-place changes undone before the custom rollbacks
        self.plain_changes = replaced_plain
        left = _RollbackLeft(old_template, old_resources, template, updates)
        return self._roll_back(left)

    def continue_update_rollback(self, resources_to_skip: tuple[str, ...] = ()) -> str:
        """ContinueUpdateRollback of a stack in UPDATE_ROLLBACK_FAILED: UPDATE_ROLLBACK_IN_PROGRESS again,
        the rollback Updates that did not answer SUCCESS sent again, as the first rollback sent them (the
        API reference does not say what ``OldResourceProperties`` the retried Update carries; the first
        rollback's is the guess), then the cleanup. ``resources_to_skip`` are taken as rolled back without a
        request (the stack keeps what it holds for them)
        (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ContinueUpdateRollback.html)."""
        left = self._rollback_left
        if self.status != "UPDATE_ROLLBACK_FAILED" or left is None:
            raise DriverError(f"ContinueUpdateRollback needs UPDATE_ROLLBACK_FAILED, not {self.status}")
        left.rolled |= set(resources_to_skip)
        self._stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
        self.template = left.old_template
        return self._roll_back(left)

    def _roll_back(self, left: _RollbackLeft) -> str:
        """The rollback Updates left to send, then UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS."""
        self._rollback_left = left
        pending = [r for r in left.updates if r.logical_id not in left.rolled]
        old_template, old_resources = left.old_template, left.old_resources
        failures, superseded = self._roll_back_updates(old_template, old_resources, pending, left.rolled)
        left.superseded += superseded
        if failures:
            self._stack_event("UPDATE_ROLLBACK_FAILED", "; ".join(failures))
            return self.status
        self._stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        failures = self._delete_held(left.superseded)
        # (a continued rollback deletes again only what its cleanup failed to delete)
        failed = {f.split(": ", 1)[0] for f in failures}
        left.superseded = [r for r in left.superseded if r.logical_id in failed]
        failures += self._plain_cleanup(rolled_back=True)
        created = set(self.resources) - set(left.old_resources)
        failures += self._delete_resources(created, template=left.template)
        self._stack_event(
            "UPDATE_ROLLBACK_FAILED" if failures else "UPDATE_ROLLBACK_COMPLETE", "; ".join(failures)
        )
        if not failures:
            self._rollback_left = None
        return self.status

    def _roll_back_updates(
        self,
        old_template: dict[str, Any],
        old_resources: dict[str, Resource],
        updates: list[Request],
        rolled: set[str],
    ) -> tuple[list[str], list[Resource]]:
        """The rollback Updates (see ``update``), wave by wave in the old template's order, stopping after
        a wave with a failure. Returns the failure reasons and the held resources a rollback superseded;
        ``rolled`` gets the logical ids whose rollback answered SUCCESS."""
        sent = {request.logical_id: request for request in updates}
        failures: list[str] = []
        superseded: list[Resource] = []
        for wave in waves(old_template):
            rollbacks = [
                self.custom_request(
                    logical_id,
                    "Update",
                    old_template["Resources"][logical_id],
                    old_resources[logical_id].properties,
                    self.resources[logical_id].physical_id,
                    sent[logical_id].event["ResourceProperties"],
                )
                for logical_id in wave
                if logical_id in sent
            ]
            for request in self._custom(rollbacks):
                response = request.response or {}
                if response.get("Status") != "SUCCESS":
                    failures.append(f"{request.logical_id}: {response.get('Reason')}")
                    continue
                held = self.resources[request.logical_id]
                current = self._custom_resource(
                    request.logical_id,
                    old_template["Resources"][request.logical_id],
                    response,
                    request.event["ResourceProperties"],
                )
                if current.physical_id != held.physical_id and current.update_replace_policy != "Retain":
                    superseded.append(held)
                self.resources[request.logical_id] = current
                rolled.add(request.logical_id)
            if failures:
                break
        return failures, superseded

    def delete(self) -> str:
        """DELETE the stack: custom resources get a Delete unless their DeletionPolicy is Retain; what a
        resource that fails to delete depends on is kept. DELETE_FAILED when a Delete fails."""
        self._stack_event("DELETE_IN_PROGRESS")
        failures = self._delete_resources(set(self.resources))
        self._stack_event("DELETE_FAILED" if failures else "DELETE_COMPLETE", "; ".join(failures))
        return self.status

    def _delete_held(self, resources: list[Resource]) -> list[str]:
        """Delete requests, sent together, for custom resources the stack no longer holds (replaced or
        superseded ids). Returns failure reasons."""
        requests = [
            self.custom_request(r.logical_id, "Delete", {"Type": r.type}, r.properties, r.physical_id)
            for r in resources
            if r.type.startswith(CUSTOM_PREFIX)
        ]
        self._custom(requests)
        return [
            f"{r.logical_id}: {(r.response or {}).get('Reason')}"
            for r in requests
            if (r.response or {}).get("Status") != "SUCCESS"
        ]

    def _delete_resources(
        self,
        logical_ids: set[str],
        pool: dict[str, Resource] | None = None,
        template: dict[str, Any] | None = None,
    ) -> list[str]:
        """Delete resources in reverse dependency order (of ``template``, default the stack's)."""
        pool = self.resources if pool is None else pool
        definitions = (template or self.template).get("Resources", {})
        template = {
            "Resources": {k: definitions.get(k, {"Type": pool[k].type}) for k in logical_ids if k in pool}
        }
        failures: list[str] = []
        graph = dependencies(template)
        kept: set[str] = (
            set()
        )  # what a resource that failed to delete depends on is kept, as CloudFormation does
        for wave in reversed(waves(template)):
            requests: list[Request] = []
            for logical_id in wave:
                resource = pool[logical_id]
                if logical_id in kept:
                    continue
                if resource.deletion_policy == "Retain":
                    self.event(logical_id, resource.type, "DELETE_SKIPPED", physical_id=resource.physical_id)
                elif resource.type.startswith(CUSTOM_PREFIX):
                    requests.append(
                        self.custom_request(
                            logical_id,
                            "Delete",
                            {"Type": resource.type},
                            resource.properties,
                            resource.physical_id,
                        )
                    )
                else:
                    failure = plain.delete(self, resource)
                    if failure:
                        failures.append(f"{logical_id}: {failure}")
                    else:
                        self.cloud.unconfigure(resource)
                    self.event(
                        logical_id,
                        resource.type,
                        "DELETE_FAILED" if failure else "DELETE_COMPLETE",
                        failure,
                        resource.physical_id,
                    )
            for request in self._custom(requests):
                if (request.response or {}).get("Status") != "SUCCESS":
                    failures.append(f"{request.logical_id}: {(request.response or {}).get('Reason')}")
            for logical_id in wave:
                if any(f.startswith(f"{logical_id}:") for f in failures):
                    kept |= closure(graph, logical_id)
            for logical_id in wave:
                if logical_id not in kept and not any(f.startswith(f"{logical_id}:") for f in failures):
                    pool.pop(logical_id, None)
                    self.resources.pop(logical_id, None)
        return failures

    def _collect_outputs(self) -> None:
        self.outputs = {}
        for name, output in self.template.get("Outputs", {}).items():
            value = self.resolve(output["Value"])
            self.outputs[name] = value
            export = output.get("Export", {}).get("Name")
            if export:
                self.cloud.exports[self.resolve(export)] = value
                self.cloud.regional_exports[(self.account_id, self.region, self.resolve(export))] = value


@dataclass
class _RollbackLeft:
    """The state of an update's rollback, kept while it may be continued."""

    old_template: dict[str, Any]
    old_resources: dict[str, Resource]
    template: dict[str, Any]
    #: the Updates the update sent (each gets a rollback Update)
    updates: list[Request]
    #: the logical ids whose rollback Update answered SUCCESS (or that were skipped)
    rolled: set[str] = field(default_factory=set)
    #: the held resources a rollback superseded, deleted in the cleanup
    superseded: list[Resource] = field(default_factory=list)
