"""Errors of the Custom Labels API, as moto ``JsonRESTError`` subclasses.

The ``__type`` of each error is the exact shape name from the botocore model, so boto3 raises
``ClientError`` with ``error.response["Error"]["Code"]`` equal to the class's ``error_code``.
"""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError


class CustomLabelsError(JsonRESTError):
    """Base class: an error with a fixed code and HTTP status."""

    error_code = "InternalServerError"
    code = 400  # HTTP status

    def __init__(self, message: str) -> None:
        """Create the error with ``message`` as the AWS error message."""
        super().__init__(self.error_code, message)


#: Every error class by its code, for fault injection (filled by :func:`_error`).
ERRORS_BY_CODE: dict[str, type[CustomLabelsError]] = {}


def _error(code: str, doc: str, status: int = 400) -> type[CustomLabelsError]:
    """The error class of ``code`` (its name too), registered in :data:`ERRORS_BY_CODE`."""
    attributes = {"__doc__": doc, "__module__": __name__, "error_code": code, "code": status}
    error: type[CustomLabelsError] = type(code, (CustomLabelsError,), attributes)
    ERRORS_BY_CODE[code] = error
    return error


AccessDeniedException = _error("AccessDeniedException", "The caller is not allowed to perform the action.")
InternalServerError = _error("InternalServerError", "Amazon Rekognition experienced a service issue.", 500)
InvalidParameterException = _error("InvalidParameterException", "An input parameter violated a constraint.")
InvalidPaginationTokenException = _error(
    "InvalidPaginationTokenException", "The pagination token is not valid."
)
InvalidPolicyRevisionIdException = _error(
    "InvalidPolicyRevisionIdException", "The supplied policy revision id does not match the current revision."
)
LimitExceededException = _error("LimitExceededException", "A service limit was exceeded.")
MalformedPolicyDocumentException = _error(
    "MalformedPolicyDocumentException", "The project policy document is not valid."
)
ProvisionedThroughputExceededException = _error(
    "ProvisionedThroughputExceededException", "The request rate exceeded the provisioned throughput."
)
ResourceAlreadyExistsException = _error(
    "ResourceAlreadyExistsException", "A resource with that identifier already exists."
)
ResourceInUseException = _error(
    "ResourceInUseException", "The resource is in a state that does not allow the operation."
)
ResourceNotFoundException = _error("ResourceNotFoundException", "The resource does not exist.")
ServiceQuotaExceededException = _error("ServiceQuotaExceededException", "A service quota would be exceeded.")
ThrottlingException = _error("ThrottlingException", "The request was throttled.")
