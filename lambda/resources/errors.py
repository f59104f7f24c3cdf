"""Failures reported to CloudFormation, with Reasons written for the person reading the stack events."""

from __future__ import annotations

from botocore.exceptions import ClientError, ParamValidationError


class ResourceError(Exception):
    """A failure to report to CloudFormation; the message is the Reason. ``transient``: the service's
    answer was throttling or a server error, which a later try may not get (the request is tried again
    while its time lasts, see ``polling.PollingResource.patiently``). ``denied``: the service's answer was
    an AccessDenied. ``stale``: the request is a late delivery of one answered already, which nothing waits
    for: it answers nothing (``polling.PollingResource.patiently``)."""

    def __init__(
        self,
        reason: str,
        *,
        transient: bool = False,
        retry_within: float = 0.0,
        denied: bool = False,
        stale: bool = False,
    ) -> None:
        super().__init__(reason)
        self.transient = transient
        self.retry_within = retry_within  # seconds from the request's first try it is tried again in
        self.denied = denied
        self.stale = stale


# An AccessDenied may be IAM's or a new project policy's eventual consistency (a first deploy creates the
# role, and the source account's policy, moments before the copy): tried again for this long before it is
# the answer. IAM documents its changes as eventually consistent without a figure
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency);
# a genuine denial is still reported well before ServiceTimeout.
ACCESS_DENIED_PATIENCE = 180.0


_QUOTA = (
    "A Rekognition limit or quota of this account and Region was reached; see the Rekognition quotas in "
    "the Service Quotas console, and ask for an increase there."
)
# StartProjectVersion's limit is on what runs: the inference units (and running models) of the account in
# this Region, not on stored versions.
_INFERENCE_QUOTA = (
    "The account's quota of Custom Labels inference units (running models) in this Region is in use; stop "
    "models you do not need, declare fewer MinInferenceUnits/MaxInferenceUnits, or ask for a higher quota "
    "in the Service Quotas console (Amazon Rekognition)."
)
# Answers that say nothing about the resource: look again later (while waiting, they are not a failure).
TRANSIENT = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "InternalServerError",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
}
_QUOTA_CODES = ("LimitExceededException", "ServiceQuotaExceededException")
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
    if operation == "StartProjectVersion" and code in _QUOTA_CODES:
        hint = _INFERENCE_QUOTA
    reason = f"{operation} failed: {code}: {message}. {hint}".strip()
    denied = code == "AccessDeniedException"
    patience = ACCESS_DENIED_PATIENCE if denied else 0.0
    return ResourceError(reason, transient=is_transient(error), retry_within=patience, denied=denied)
