"""Turning GraphQL errors into what clients see: always an ``extensions.code``.

Expected errors keep their code and message; errors without a path come from parsing,
validation or variable coercion (the client's fault: BAD_USER_INPUT); a database outage
(``Unavailable``, raised by server/db/database.py for what asyncpg raises when the
connection fails) or a store outage (``StoreUnavailable``) is UNAVAILABLE; everything else
is masked as INTERNAL and logged with its traceback and the request id, so no stack trace
or SQL ever reaches a client. An OSError is not an outage by its type: only the code that
talks to Postgres or the store can tell a lost connection from a bug.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from graphql import GraphQLError

from server.errors import ServiceError, Unavailable
from server.storage.base import StoreUnavailable

log = logging.getLogger(__name__)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


MAX_MESSAGE_CHARS = 2000


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    # strawberry may wrap; walk to the innermost cause we know
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = list(error.path)
    if isinstance(original, ServiceError):
        code, formatted["message"] = original.code, original.message
    elif original is None and error.extensions and "code" in error.extensions:
        code = str(error.extensions["code"])
    elif original is None or error.path is None:
        code = "BAD_USER_INPUT"
    elif isinstance(original, asyncpg.QueryCanceledError):
        # statement_timeout: the request asked for more than one statement may take;
        # retrying the same request would only do it again
        code = "QUERY_TOO_COMPLEX"
        formatted["message"] = (
            "a database statement of this request ran past the server's time limit: ask "
            "for less (smaller pages, lower depth or limit), or split the request"
        )
    elif isinstance(original, StoreUnavailable):
        code = "UNAVAILABLE"
        formatted["message"] = Unavailable(
            "a backing service is unreachable; try again shortly"
        ).message
        log.warning("request %s: unavailable: %r", request_id, original)
    else:
        code = "INTERNAL"
        formatted["message"] = f"internal error; quote request id {request_id} when reporting it"
        log.error("request %s failed", request_id, exc_info=original)
    if len(formatted["message"]) > MAX_MESSAGE_CHARS:  # messages may quote the input
        formatted["message"] = formatted["message"][:MAX_MESSAGE_CHARS] + "…"
    formatted["extensions"] = {"code": code}
    return formatted
