"""EventBridge in moto, made to do what AWS does where the project relies on it: authorization of every
call, and the rules quota. moto does neither.

Authorization. moto's EventBridge authorizes nothing: a call of a role whose policy is gone succeeds.
:func:`authorize_call` evaluates every EventBridge request, with :mod:`emulator.iam`, as the Custom Labels
emulator does its own (:mod:`emulator.custom_labels.authz`: the same caller, identity policies, history of
policy changes and clock): action ``events:<Operation>`` on the resource the Service Authorization
Reference names for the operation
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html):

* rule operations (PutRule, DescribeRule, DeleteRule, EnableRule, DisableRule, PutTargets, RemoveTargets,
  ListTargetsByRule) on the rule, ``arn:${Partition}:events:${Region}:${Account}:rule/${RuleName}`` on
  the default bus, ``.../rule/${EventBusName}/${RuleName}`` on another (the account is the bus owner's);
* TagResource, UntagResource, ListTagsForResource on the ResourceARN (a rule or an event bus);
* event bus operations (CreateEventBus, DescribeEventBus, UpdateEventBus, DeleteEventBus) and PutEvents
  (each bus its entries name) on ``arn:${Partition}:events:${Region}:${Account}:event-bus/${EventBusName}``;
* every other operation on ``*``: right for those the reference lists without a resource type (ListRules,
  ListRuleNamesByTarget, ListEventBuses, PutPermission, TestEventPattern ...); for the few others
  (archives, connections, replays, API destinations, endpoints: nothing the project calls) a statement
  scoped to their ARNs does not apply.

The context has the global keys of :func:`emulator.custom_labels.authz.global_context`, the rule's or bus's
tags (``aws:ResourceTag/...``), the request's tags (``aws:RequestTag/...``, ``aws:TagKeys``), the rule's
``events:creatorAccount`` and PutTargets' ``events:TargetArn``; the event bus's resource-based policy
(PutPermission) is the resource policy. Callers with plain credentials (the account root, as tests' setup
code acts) are allowed everything in their account. A denial is EventBridge's ``AccessDeniedException``
(botocore's model), worded as AWS words it. Importing this module installs the check on moto's
``EventsHandler`` (the CloudFormation driver imports it: the handler's calls need it).

Rules quota. EventBridge allows 300 rules per event bus by default (100 in some Regions), an adjustable
quota shared with every other rule of the account in that Region
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html). At the quota, PutRule for a new
rule answers LimitExceededException, "The request failed because it attempted to create resource beyond
the allowed service quota" in botocore's model; the service's message is "The requested resource exceeds
the maximum number allowed." Changing a rule that exists needs no room.

Off by default (moto's behaviour). Tests turn it on with :func:`set_rules_quota` (or the
:func:`rules_quota` context manager) and fill the bus with other rules with :func:`fill_rules`.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import botocore.session
from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.events import models
from moto.events.responses import EventsHandler
from moto.utilities.utils import get_partition

from emulator.custom_labels import caller_identity
from emulator.custom_labels.authz import global_context, identity_documents, principal_of
from emulator.custom_labels.runtime import state_lock
from emulator.iam import ContextValue, Request, authorize

DEFAULT_RULES_PER_BUS = 300
QUOTA_MESSAGE = "The requested resource exceeds the maximum number allowed."

_quota: dict[str, int | None] = {"rules_per_bus": None}
_original_put_rule = models.EventsBackend.put_rule
_signature = inspect.signature(_original_put_rule)


def _put_rule(self: Any, *args: Any, **kwargs: Any) -> Any:
    limit = _quota["rules_per_bus"]
    if limit is not None:
        bound = _signature.bind(self, *args, **kwargs).arguments
        bus = self._get_event_bus(self._normalize_event_bus_arn(bound.get("event_bus_arn")))
        if bound["name"] not in bus.rules and len(bus.rules) >= limit:
            raise JsonRESTError("LimitExceededException", QUOTA_MESSAGE)
    return _original_put_rule(self, *args, **kwargs)


models.EventsBackend.put_rule = _put_rule  # type: ignore[method-assign]


def set_rules_quota(limit: int | None = DEFAULT_RULES_PER_BUS) -> None:
    """Enforce ``limit`` rules per event bus in every account and Region (None: no quota)."""
    _quota["rules_per_bus"] = limit


@contextmanager
def rules_quota(limit: int = DEFAULT_RULES_PER_BUS) -> Iterator[None]:
    """The quota enforced inside the block, none after it."""
    set_rules_quota(limit)
    try:
        yield
    finally:
        set_rules_quota(None)


def fill_rules(account_id: str, region: str, count: int, prefix: str = "other-") -> list[str]:
    """Create ``count`` rules of someone else on the account's default bus; their names. They are put in
    moto's backend directly, as PutRule would (the quota holds), without a request each: a test fills a bus
    of 300 rules."""
    names = [f"{prefix}{i}" for i in range(count)]
    backend = models.events_backends[account_id][region]
    for name in names:
        backend.put_rule(name, scheduled_expression="rate(1 day)", state="DISABLED")
    return names


# ---------------------------------------------------------------------------------------------------------
# Authorization
# ---------------------------------------------------------------------------------------------------------
#: Operations on one rule: the request parameter that names it (on the request's EventBusName).
RULE_OPERATIONS = {
    "PutRule": "Name",
    "DescribeRule": "Name",
    "DeleteRule": "Name",
    "EnableRule": "Name",
    "DisableRule": "Name",
    "PutTargets": "Rule",
    "RemoveTargets": "Rule",
    "ListTargetsByRule": "Rule",
}
#: Operations on the resource their ResourceARN names.
ARN_OPERATIONS = frozenset({"TagResource", "UntagResource", "ListTagsForResource"})
#: Operations on one event bus: the request parameter that names it (the default bus when absent).
BUS_OPERATIONS = {
    "CreateEventBus": "Name",
    "DescribeEventBus": "Name",
    "UpdateEventBus": "Name",
    "DeleteEventBus": "Name",
}


def _bus(value: str | None, account: str, region: str) -> tuple[str, str, str]:
    """(owner account, Region, name) of an EventBusName: a name (the caller's bus) or an event bus ARN."""
    if value and value.startswith("arn:"):
        parts = value.split(":", 5)
        return parts[4], parts[3], parts[5].split("/", 1)[-1]
    return account, region, value or "default"


def _backend(account: str, region: str) -> Any:
    try:
        return models.events_backends[account][region]
    except KeyError:  # a Region moto does not know: nothing exists there
        return None


class _Call:
    """One EventBridge request: who makes it, and its parameters as the request carries them."""

    def __init__(self, response: BaseResponse, operation: str) -> None:
        self.operation = operation
        self.action = f"events:{operation}"
        self.caller = caller_identity(response)
        self.region = response.region
        self.partition = get_partition(response.region)
        body = response.body.decode() if isinstance(response.body, bytes) else response.body
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = {}  # moto answers the malformed request itself
        self.params: dict[str, Any] = parsed if isinstance(parsed, dict) else {}

    def _tags(self, arn: str, account: str, region: str) -> dict[str, str]:
        backend = _backend(account, region)
        return dict(backend.tagger.get_tag_dict_for_resource(arn)) if backend is not None else {}

    def _bus_policy(self, account: str, region: str, name: str) -> list[str] | None:
        backend = _backend(account, region)
        bus = backend.event_buses.get(name) if backend is not None else None
        policy = bus.policy if bus is not None else None
        return [policy] if policy else None

    def _request_tags(self) -> dict[str, ContextValue]:
        context: dict[str, ContextValue] = {}
        tags = self.params.get("Tags")
        if isinstance(tags, list) and tags:
            pairs = {str(t.get("Key")): str(t.get("Value")) for t in tags if isinstance(t, dict)}
            context["aws:TagKeys"] = sorted(pairs)
            context.update({f"aws:RequestTag/{k}": v for k, v in pairs.items()})
        keys = self.params.get("TagKeys")
        if isinstance(keys, list):
            context["aws:TagKeys"] = [str(k) for k in keys]
        return context

    def _resource_tags(self, arn: str, account: str, region: str) -> dict[str, ContextValue]:
        context: dict[str, ContextValue] = {
            f"aws:ResourceTag/{k}": v for k, v in self._tags(arn, account, region).items()
        }
        context.update(self._request_tags())
        return context

    def checks(self) -> Iterator[tuple[str, str, list[str] | None, dict[str, ContextValue]]]:
        """(resource ARN, its account, its resource policy, context keys) of each check of the call."""
        caller_account = self.caller.account_id
        if self.operation in RULE_OPERATIONS:
            account, region, bus = _bus(self.params.get("EventBusName"), caller_account, self.region)
            name = str(self.params.get(RULE_OPERATIONS[self.operation]) or "")
            path = name if bus == "default" else f"{bus}/{name}"
            arn = f"arn:{self.partition}:events:{region}:{account}:rule/{path}"
            backend = _backend(account, region)
            found = backend.event_buses.get(bus) if backend is not None else None
            rule = found.rules.get(name) if found is not None else None
            context = self._resource_tags(arn, account, region)
            context["events:creatorAccount"] = rule.created_by if rule is not None else caller_account
            if self.operation == "PutTargets":
                targets = self.params.get("Targets") or []
                context["events:TargetArn"] = [str(t.get("Arn")) for t in targets if isinstance(t, dict)]
            yield arn, account, self._bus_policy(account, region, bus), context
        elif self.operation in ARN_OPERATIONS:
            arn = str(self.params.get("ResourceARN") or "")
            parts = arn.split(":", 5)
            account, region = (parts[4], parts[3]) if len(parts) == 6 else (caller_account, self.region)
            yield arn, account, None, self._resource_tags(arn, account, region)
        elif self.operation in BUS_OPERATIONS or self.operation == "PutEvents":
            if self.operation == "PutEvents":
                entries = self.params.get("Entries") or []
                names = {e.get("EventBusName") for e in entries if isinstance(e, dict)} or {None}
            else:
                names = {self.params.get(BUS_OPERATIONS[self.operation])}
            for value in sorted(names, key=str):
                account, region, name = _bus(value, caller_account, self.region)
                arn = f"arn:{self.partition}:events:{region}:{account}:event-bus/{name}"
                yield (
                    arn,
                    account,
                    self._bus_policy(account, region, name),
                    self._resource_tags(arn, account, region),
                )
        else:
            yield "*", caller_account, None, self._request_tags()


def authorize_call(response: BaseResponse, operation: str) -> None:
    """Raise AccessDeniedException unless the caller of this EventBridge request may make it."""
    call = _Call(response, operation)
    with state_lock:  # the identity history is shared with the Custom Labels emulator
        principal = principal_of(call.caller)
        identity = identity_documents(call.caller)
        base = global_context(call.caller, principal, call.region)
        for resource, account, documents, context in call.checks():
            request = Request(principal, call.action, resource, {**base, **context})
            outcome = authorize(request, identity, documents, account)
            if not outcome.allowed:
                raise JsonRESTError("AccessDeniedException", outcome.message(request))


def _authorized(operation: str, method: Callable[[EventsHandler], Any]) -> Callable[[EventsHandler], Any]:
    @functools.wraps(method)
    def checked(self: EventsHandler) -> Any:
        authorize_call(self, operation)
        return method(self)

    checked._authorized_operation = operation  # type: ignore[attr-defined]
    return checked


def install() -> None:
    """Authorize every EventBridge operation moto's EventsHandler serves (idempotent)."""
    model = botocore.session.get_session().get_service_model("events")
    for operation in model.operation_names:
        name = camelcase_to_underscores(operation)
        method = EventsHandler.__dict__.get(name)
        if method is None or getattr(method, "_authorized_operation", None) == operation:
            continue
        setattr(EventsHandler, name, _authorized(operation, method))


install()
