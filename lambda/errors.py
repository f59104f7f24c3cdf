"""Failures reported to CloudFormation, with Reasons written for the person reading the stack events."""

from __future__ import annotations

from botocore.exceptions import ClientError, ParamValidationError


class ResourceError(Exception):
    """A failure to report to CloudFormation; the message is the Reason."""


_QUOTA = "A Rekognition limit or quota was reached; remove unused model versions or ask for more."
# Answers that say nothing about the resource: look again later (while waiting, they are not a failure).
TRANSIENT = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "InternalServerError",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
}
_THROTTLED = "Rekognition kept throttling after retries; deploy again later."
_HINTS = {
    "AccessDeniedException": (
        "Check that the function's role may call this operation and, for a copy from another account, that "
        "the source project has a project policy allowing this role (or account) to copy this exact version."
    ),
    "ResourceNotFoundException": (
        "Check that the projects and the version named in the resource's properties exist, in this Region."
    ),
    "LimitExceededException": _QUOTA,
    "ServiceQuotaExceededException": _QUOTA,
    "ThrottlingException": _THROTTLED,
    "ProvisionedThroughputExceededException": _THROTTLED,
    "InternalServerError": "Rekognition had an internal error after retries; deploy again later.",
}


def is_transient(error: ClientError) -> bool:
    """A throttling or server-side (5xx) answer, which the next look may not get."""
    code = error.response.get("Error", {}).get("Code", "")
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return code in TRANSIENT or status >= 500


def failure(operation: str, error: Exception) -> ResourceError:
    """A ResourceError naming the operation, the service's error code and message, and what to do."""
    if isinstance(error, ParamValidationError):
        return ResourceError(f"{operation} rejected the resource's properties: {error}")
    assert isinstance(error, ClientError)
    code = error.response.get("Error", {}).get("Code", "Unknown")
    message = error.response.get("Error", {}).get("Message", "").rstrip(".")
    hint = _HINTS.get(code, "")
    return ResourceError(f"{operation} failed: {code}: {message}. {hint}".strip())
