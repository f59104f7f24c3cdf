"""Sending the answer to CloudFormation: one PUT of the response body to the request's presigned
ResponseURL, with bounded retries and the HTTP status checked. The URL (a secret) is never logged."""

from __future__ import annotations

import json
import logging
from http.client import HTTPSConnection
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger(__name__)

REASON_MAX = 1024
SEND_ATTEMPTS = 5
PUT_TIMEOUT = 10.0


class SleepingClock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


def truncate(reason: str, room: int = 0) -> str:
    """The Reason cut at its end (the beginning says what failed), within what CloudFormation shows, with
    ``room`` characters left for what follows it."""
    most = REASON_MAX - room
    return reason if len(reason) <= most else reason[: most - 15] + " ...(truncated)"


def put_response(
    response_url: str,
    body: dict[str, Any],
    ssl_verify: Any,
    until: float,
    clock: SleepingClock,
) -> None:
    """PUT the response to the presigned URL: bounded retries (none started after ``until``, when
    CloudFormation no longer listens; pauses on ``clock``), HTTP status checked, URL never logged."""
    payload = json.dumps(body)
    parts = urlsplit(response_url)
    path = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    headers = {"content-type": "", "content-length": str(len(payload))}
    last_error = "no attempt made"
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            connection = HTTPSConnection(parts.netloc, timeout=PUT_TIMEOUT)
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
        pause = min(2**attempt, 10)
        if attempt == SEND_ATTEMPTS or clock.now() + pause + PUT_TIMEOUT > until:
            break
        clock.sleep(pause)
    logger.error("Giving up sending the response to CloudFormation: %s", last_error)
