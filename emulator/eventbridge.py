"""EventBridge's rules quota, which moto does not enforce: rules per event bus.

EventBridge allows 300 rules per event bus by default (100 in some Regions), an adjustable quota shared
with every other rule of the account in that Region
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html). At the quota, PutRule for a new
rule answers LimitExceededException, "The request failed because it attempted to create resource beyond
the allowed service quota" in botocore's model; the service's message is "The requested resource exceeds
the maximum number allowed." Changing a rule that exists needs no room.

Off by default (moto's behaviour). Tests turn it on with :func:`set_rules_quota` (or the
:func:`rules_quota` context manager) and fill the bus with other rules with :func:`fill_rules`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.events import models

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


def fill_rules(client: Any, count: int, prefix: str = "other-") -> list[str]:
    """Create ``count`` rules of someone else on the default bus (an EventBridge client); their names."""
    names = [f"{prefix}{i}" for i in range(count)]
    for name in names:
        client.put_rule(Name=name, ScheduleExpression="rate(1 day)", State="DISABLED")
    return names
