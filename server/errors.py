"""Errors the service expects, each with its ``extensions.code`` (docs/semantics.md, "Errors").

The domain layer raises these; the GraphQL layer turns them into errors with
``extensions.code`` and masks anything else as INTERNAL.
"""

from __future__ import annotations


class ServiceError(Exception):
    code = "INTERNAL"
    http_status = 200

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(ServiceError):
    code = "UNAUTHENTICATED"


class Forbidden(ServiceError):
    code = "FORBIDDEN"


class NotFound(ServiceError):
    code = "NOT_FOUND"


class BadUserInput(ServiceError):
    code = "BAD_USER_INPUT"


class Conflict(ServiceError):
    code = "CONFLICT"


class QueryTooComplex(ServiceError):
    code = "QUERY_TOO_COMPLEX"


class PayloadTooLarge(ServiceError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class Unavailable(ServiceError):
    code = "UNAVAILABLE"
    http_status = 503
