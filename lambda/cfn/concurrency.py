"""How long a request's first invocation may wait for its work in-process (the fast path), given the
Lambda concurrency the function can count on.

A first invocation that waits holds one of the account's concurrent executions for as long as it waits.
CloudFormation sends a stack's requests together and invokes the function asynchronously, so a stack of
many copies in an account with little concurrency (new accounts start with less than the default 1,000:
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) would have most of its requests
throttled while a few hold every execution; Lambda retries a throttled event with a back-off of up to 5
minutes (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), and that
time counts against each request's ServiceTimeout. So the fast path waits its full length only when the
function's pool is large; otherwise it hands over to the one-minute schedule (a poll holds an execution
for a moment only) after SHORT_SECONDS.

The pool is the function's reserved concurrency when the deployment says so (``RESERVED_CONCURRENCY_ENV``,
set from ``ReservedConcurrentExecutions``), else the account's unreserved concurrency as
``lambda:GetAccountSettings`` reports it (read once per execution environment every CACHE_SECONDS). When
neither is known (the role may not call GetAccountSettings), the pool is taken to be small.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import contract

logger = logging.getLogger(__name__)

#: The environment variable that carries the function's ReservedConcurrentExecutions, when it has one.
RESERVED_CONCURRENCY_ENV = contract.RESERVED_CONCURRENCY_ENV
#: The smallest pool in which the fast path waits its full length: a stack of 100 copies (the most this
#: library is measured with) waiting in-process then holds at most half of it.
FULL_POOL = 200
#: The fast path in a smaller pool: one look, 10 s in (a quick operation answers then); a copy hands over
#: to the schedule at once, so a stack's first invocations pass through few executions quickly.
SHORT_SECONDS = 10.0
CACHE_SECONDS = 900.0

_cache: dict[str, float] = {}


def pool(lambda_client: Callable[[], Any], now: float) -> int | None:
    """The concurrent executions the function can count on; None when they cannot be known."""
    reserved = os.environ.get(RESERVED_CONCURRENCY_ENV, "").strip()
    if reserved.isdigit():
        return int(reserved)
    if "pool" in _cache and now < _cache["until"]:
        return None if _cache["pool"] < 0 else int(_cache["pool"])
    try:
        limits = lambda_client().get_account_settings()["AccountLimit"]
        found = int(limits["UnreservedConcurrentExecutions"])
    except Exception as error:  # noqa: BLE001 - unknown: the fast path stays short
        logger.warning("Lambda's account settings could not be read (%s): the fast path stays short", error)
        # not asked again before the period is over (an unreachable endpoint costs its connect timeouts)
        _cache.update(pool=-1.0, until=now + CACHE_SECONDS)
        return None
    _cache.update(pool=float(found), until=now + CACHE_SECONDS)
    return found


def fast_path_seconds(longest: float, lambda_client: Callable[[], Any], now: float) -> float:
    """The longest the fast path may wait: ``longest`` in a large pool, else SHORT_SECONDS."""
    found = pool(lambda_client, now)
    if found is not None and found >= FULL_POOL:
        return longest
    logger.info(
        "Lambda concurrency %s: waiting in-process for at most %g s, then on the schedule",
        "unknown" if found is None else f"{found} executions",
        min(SHORT_SECONDS, longest),
    )
    return min(SHORT_SECONDS, longest)
