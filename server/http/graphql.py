"""POST /graphql (JSON) and GET /graphql (GraphiQL).

A small endpoint of our own rather than strawberry's view, because every step before
execution is a guard the SPEC asks for: body size (413), JSON shape (400), the API key
(UNAUTHENTICATED, never silently anonymous), depth and node budget (QUERY_TOO_COMPLEX),
and one request id that ties a masked INTERNAL error to its log line.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import time
import uuid
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.http.ides import get_graphql_ide_html

from server.context import Context
from server.domain.accounts import authenticate
from server.errors import ServiceError
from server.http.body import read_limited_body
from server.http.errors import error_body, format_error
from server.http.guard import check_query_limits

log = logging.getLogger("lineage.http")


# JSON may escape unpaired surrogates ("\ud800") that no UTF-8 text can hold; refused
# here once, rather than failing deep in the database driver. The regex is a cheap
# pre-check so big bodies are only re-encoded when they contain such an escape.
_LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_MESSAGE = (
    "the request holds text that is not valid Unicode (an unpaired surrogate escape such "
    "as \\ud800): send valid UTF-8 text"
)


def _encodable(payload: Any) -> bool:
    try:
        json.dumps(payload, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=512)
def _parse(query: str) -> DocumentNode:
    """Parsed once per distinct document (the guard walks it on every request)."""
    return parse(query)


class GraphQLResponse(JSONResponse):
    """orjson when it can (a 10,000-node answer serialises ~6x faster), the standard
    encoder for what orjson refuses (integers past 64 bits in JSON scalars)."""

    def __init__(self, content: dict[str, Any]) -> None:
        # for the metrics: whether the answer carries errors, known without reading the
        # body (whose data may well hold the bytes "errors", e.g. as a summary key)
        self.has_errors = bool(content.get("errors"))
        super().__init__(content)

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return super().render(content)


_SHUTTING_DOWN = "the server is shutting down and did not finish this request; send it again"


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse(error_body("BAD_USER_INPUT", message), status_code=400)


def _operation_type(document: Any, operation_name: str | None) -> str:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            return str(definition.operation.value)
    return "unknown"


async def graphql_endpoint(request: Request) -> Response:
    if request.method == "GET":
        return HTMLResponse(get_graphql_ide_html())
    started = time.perf_counter()
    metrics = request.state.metrics
    request_id = uuid.uuid4().hex[:16]
    operation_type = "unknown"
    try:
        response, operation_type = await _handle(request, request_id)
    except ServiceError as exc:
        response = JSONResponse(error_body(exc.code, exc.message), status_code=exc.http_status)
    except asyncio.CancelledError:
        # Shutting down, and the request outlived LINEAGE_SHUTDOWN_TIMEOUT: its
        # transaction was rolled back, so the client may simply send it again.
        response = JSONResponse(error_body("UNAVAILABLE", _SHUTTING_DOWN), status_code=503)
    # anything but an executed document without errors (bad JSON, parse errors, refused
    # requests) answers with errors
    succeeded = isinstance(response, GraphQLResponse) and not response.has_errors
    outcome = "ok" if succeeded and response.status_code == 200 else "error"
    metrics.requests.labels(operation_type, outcome).inc()
    metrics.latency.labels(operation_type).observe(time.perf_counter() - started)
    response.headers["x-request-id"] = request_id
    return response


async def _handle(request: Request, request_id: str) -> tuple[JSONResponse, str]:
    body = await read_limited_body(request)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return _bad_request(f"request body is not valid JSON: {exc}"), "unknown"
    if _LONE_SURROGATE_ESCAPE.search(body) and not _encodable(payload):
        return JSONResponse(error_body("BAD_USER_INPUT", _SURROGATE_MESSAGE)), "unknown"
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return _bad_request('send a JSON object with a "query" string'), "unknown"
    variables = payload.get("variables")
    operation_name = payload.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        return _bad_request('"variables" must be a JSON object'), "unknown"
    if operation_name is not None and not isinstance(operation_name, str):
        return _bad_request('"operationName" must be a string'), "unknown"

    try:
        document = _parse(payload["query"])
    except GraphQLError as exc:
        return JSONResponse({"errors": [format_error(exc, request_id)]}), "unknown"
    operation_type = _operation_type(document, operation_name)

    schema = request.app.state.schema
    check_query_limits(schema._schema, document, operation_name, variables)
    db = request.state.db
    viewer = await authenticate(db, request.headers.get("authorization"))
    context = Context(
        db=db,
        viewer=viewer,
        settings=request.state.settings,
        request_id=request_id,
        store=getattr(request.state, "store", None),
        references=getattr(request.state, "references", None),
    )
    result = await schema.execute(
        payload["query"],
        variable_values=variables,
        context_value=context,
        operation_name=operation_name,
    )
    out: dict[str, Any] = {}
    if result.errors:
        out["errors"] = [format_error(e, request_id) for e in result.errors]
    if result.data is not None or not result.errors:
        out["data"] = result.data
    return GraphQLResponse(out), operation_type
