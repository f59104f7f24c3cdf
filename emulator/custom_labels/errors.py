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


class AccessDeniedException(CustomLabelsError):
    """The caller is not allowed to perform the action."""

    error_code = "AccessDeniedException"


class InternalServerError(CustomLabelsError):
    """Amazon Rekognition experienced a service issue."""

    error_code = "InternalServerError"
    code = 500


class InvalidParameterException(CustomLabelsError):
    """An input parameter violated a constraint."""

    error_code = "InvalidParameterException"


class InvalidPaginationTokenException(CustomLabelsError):
    """The pagination token is not valid."""

    error_code = "InvalidPaginationTokenException"


class InvalidPolicyRevisionIdException(CustomLabelsError):
    """The supplied policy revision id does not match the current revision."""

    error_code = "InvalidPolicyRevisionIdException"


class LimitExceededException(CustomLabelsError):
    """A service limit was exceeded."""

    error_code = "LimitExceededException"


class MalformedPolicyDocumentException(CustomLabelsError):
    """The project policy document is not valid."""

    error_code = "MalformedPolicyDocumentException"


class ProvisionedThroughputExceededException(CustomLabelsError):
    """The request rate exceeded the provisioned throughput."""

    error_code = "ProvisionedThroughputExceededException"


class ResourceAlreadyExistsException(CustomLabelsError):
    """A resource with that identifier already exists."""

    error_code = "ResourceAlreadyExistsException"


class ResourceInUseException(CustomLabelsError):
    """The resource is in a state that does not allow the operation."""

    error_code = "ResourceInUseException"


class ResourceNotFoundException(CustomLabelsError):
    """The resource does not exist."""

    error_code = "ResourceNotFoundException"


class ServiceQuotaExceededException(CustomLabelsError):
    """A service quota would be exceeded."""

    error_code = "ServiceQuotaExceededException"


class ThrottlingException(CustomLabelsError):
    """The request was throttled."""

    error_code = "ThrottlingException"


#: Every error class by its code, for fault injection.
ERRORS_BY_CODE: dict[str, type[CustomLabelsError]] = {
    cls.error_code: cls
    for cls in (
        AccessDeniedException,
        InternalServerError,
        InvalidParameterException,
        InvalidPaginationTokenException,
        InvalidPolicyRevisionIdException,
        LimitExceededException,
        MalformedPolicyDocumentException,
        ProvisionedThroughputExceededException,
        ResourceAlreadyExistsException,
        ResourceInUseException,
        ResourceNotFoundException,
        ServiceQuotaExceededException,
        ThrottlingException,
    )
}
