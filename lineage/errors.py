"""Typed errors: every GraphQL error code the service sends has a class of its own.

Users catch ``lineage.NotFound`` and friends, never a raw GraphQL error dict. Each
carries the server's message (which says what to fix) and the request id the server
logged, to quote when reporting a problem.
"""

from __future__ import annotations


class LineageError(Exception):
    """Base of every error the client raises."""

    code = "INTERNAL"

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id and self.request_id not in self.message:
            return f"{self.message} (request id {self.request_id})"
        return self.message


class Unauthenticated(LineageError):
    """No valid API key: run `lineage login` or set LINEAGE_API_KEY."""

    code = "UNAUTHENTICATED"


class Forbidden(LineageError):
    code = "FORBIDDEN"


class NotFound(LineageError):
    """It does not exist, or the viewer may not read it (the service does not tell)."""

    code = "NOT_FOUND"


class BadInput(LineageError):
    code = "BAD_USER_INPUT"


class QueryTooComplex(BadInput):
    code = "QUERY_TOO_COMPLEX"


class PayloadTooLarge(BadInput):
    code = "PAYLOAD_TOO_LARGE"


class Conflict(LineageError):
    code = "CONFLICT"


class Unavailable(LineageError):
    """The service (or its database or store) cannot be reached; try again later."""

    code = "UNAVAILABLE"


class ServerError(LineageError):
    """An unexpected error in the service; the request id matches its log line."""

    code = "INTERNAL"


class TransferError(LineageError):
    """A file upload or download failed after its retries."""

    code = "TRANSFER"


_BY_CODE: dict[str, type[LineageError]] = {
    cls.code: cls
    for cls in (
        Unauthenticated,
        Forbidden,
        NotFound,
        BadInput,
        QueryTooComplex,
        PayloadTooLarge,
        Conflict,
        Unavailable,
        ServerError,
    )
}


def error_for(code: str | None, message: str, request_id: str | None = None) -> LineageError:
    """The exception for a GraphQL error's ``extensions.code`` (unknown codes: ServerError)."""
    return _BY_CODE.get(code or "", ServerError)(message, request_id=request_id)
