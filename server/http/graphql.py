"""POST /graphql (JSON), GET /graphql?query=... (queries only), and GraphiQL (GET from a
browser).

A small endpoint of our own rather than strawberry's view, because every step before
execution is a guard: the API key or session, from the headers alone (UNAUTHENTICATED,
never silently anonymous), body size (413; anonymous bodies capped lower), JSON shape and
nesting (400), text no field can store, a bounded parse and the choice of one operation,
depth, size and node budget (QUERY_TOO_COMPLEX), a deadline for the whole request, and
one request id that ties a masked INTERNAL error to its log line. Everything before
execution takes time linear in the request's size.

Persisted queries follow Apollo's protocol: ``extensions.persistedQuery`` names the
document by its SHA-256; sent alone, the hash is looked up in the bounded document cache
(PERSISTED_QUERY_NOT_FOUND when it is not there, and the client sends the document with
it), sent with the document it registers it there. A GET may only run a query, never a
mutation (405), so what a GET returns is safe to cache by URL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import orjson
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from server.context import Context
from server.domain import accounts
from server.domain.access import Viewer
from server.errors import ServiceError
from server.http.body import (
    MAX_ANONYMOUS_BODY_BYTES,
    MAX_BODY_BYTES,
    header,
    read_limited_body,
)
from server.http.deadline import Deadlines
from server.http.documents import (
    LIMIT_VERDICTS,
    DocumentCache,
    PreparedDocument,
    limits_key,
    prepare_document,
    query_hash,
    select_operation,
)
from server.http.errors import error_body, format_error
from server.http.guard import check_query_limits
from server.http.payload import (
    GraphQLRequest,
    MalformedBody,
    decode_query_params,
    decode_request,
    unstorable_text,
)
from server.web.auth import request_viewer
from server.web.pages import graphiql_page

log = logging.getLogger(__name__)


class GraphQLResponse(JSONResponse):
    """orjson when it can (a 10,000-node answer serialises ~6x faster), the standard
    encoder for what orjson refuses (integers past 64 bits in JSON scalars)."""

    def __init__(self, content: dict[str, Any]) -> None:
        # for the metrics: whether the answer carries errors, known without reading the
        # body (whose data may well hold the bytes "errors", e.g. as a summary key)
        self.has_errors = bool(content.get("errors"))
        # what JSONResponse's constructor comes to for a 200 without headers of its own
        # (its init_headers, written out: every request makes one)
        self.status_code = 200
        self.background = None
        body = self.body = self.render(content)
        self.raw_headers = [
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return super().render(content)


_DISCONNECTED = "the client disconnected before it sent the whole request body"
_SHUTTING_DOWN = "the server is shutting down and did not finish this request; send it again"


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse(error_body("BAD_USER_INPUT", message), status_code=400)


def _opens_graphiql(request: Request) -> bool:
    """A GET from a browser (it accepts HTML), or one that sends no query: the GraphiQL page."""
    if "text/html" in request.headers.get("accept", ""):
        return True
    params = request.query_params
    return "query" not in params and "extensions" not in params


PERSISTED_QUERY_NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}


async def graphql_endpoint(request: Request) -> Response:
    if request.method == "GET" and _opens_graphiql(request):
        return await graphiql_page(request)
    started = time.perf_counter()
    # the lifespan's state as a dict: request.state wraps it in an object whose every
    # attribute read is a Python call (~0.5 us each, about ten a request)
    state: dict[str, Any] = request.scope["state"]
    request_id = os.urandom(8).hex()  # 16 hex digits, as uuid4().hex[:16] was, faster
    operation_type = "unknown"
    deadlines: Deadlines = request.app.state.deadlines
    deadline = deadlines.enter(state["settings"].request_timeout_seconds)
    try:
        response, operation_type = await _handle(request, state, request_id)
    except ServiceError as exc:
        response = JSONResponse(error_body(exc.code, exc.message), status_code=exc.http_status)
    except ClientDisconnect:
        # The client went away before it sent the whole body (wrk does when it stops): no
        # one will read an answer, and it is no fault of the server's.
        log.debug("request %s: the client disconnected while sending its body", request_id)
        response = JSONResponse(error_body("BAD_USER_INPUT", _DISCONNECTED), status_code=400)
    except asyncio.CancelledError:
        if deadline.stopped_it():
            response = JSONResponse(error_body("QUERY_TOO_COMPLEX", _deadline_message(request)))
        else:
            # Shutting down, and the request outlived LINEAGE_SHUTDOWN_TIMEOUT: its
            # transaction was rolled back, so the client may simply send it again.
            response = JSONResponse(error_body("UNAVAILABLE", _SHUTTING_DOWN), status_code=503)
    except TimeoutError:  # something this request waited on timed out: a backing service
        log.warning("request %s: a backing service timed out", request_id)
        response = JSONResponse(error_body("UNAVAILABLE", _UNAVAILABLE_MESSAGE), 503)
    except Exception:
        # never a bare 500 without a code or request id
        log.exception("request %s failed", request_id)
        response = JSONResponse(error_body("INTERNAL", _internal_message(request_id)), 500)
    finally:
        deadlines.leave(deadline)
    # anything but an executed document without errors (bad JSON, parse errors, refused
    # requests) answers with errors
    succeeded = isinstance(response, GraphQLResponse) and not response.has_errors
    outcome = "ok" if succeeded and response.status_code == 200 else "error"
    state["metrics"].count_request(operation_type, outcome, time.perf_counter() - started)
    # appended: no response has one already (as setting response.headers would add it)
    response.raw_headers.append((b"x-request-id", request_id.encode("latin-1")))
    return response


_ANONYMOUS_BODY_HINT = " for anonymous requests: sign in (an API key or a session) to send more"

_UNAVAILABLE_MESSAGE = "a backing service is unreachable; try again shortly"


def _deadline_message(request: Request) -> str:
    limit = request.state.settings.request_timeout_seconds
    return (
        f"the request ran longer than this server's limit of {limit:g} s and was stopped "
        "(nothing it changed was kept): ask for less (smaller pages, lower depth or limit), "
        "or split it"
    )


def _internal_message(request_id: str) -> str:
    return f"internal error; quote request id {request_id} when reporting it"


async def _document(
    graphql_request: GraphQLRequest, cache: DocumentCache
) -> PreparedDocument | JSONResponse:
    """The prepared document the request sends or names by hash, or the answer refusing it."""
    digest = graphql_request.persisted_hash
    if graphql_request.query is None:
        assert digest is not None  # decode_request requires one of the two
        return cache.persisted(digest) or JSONResponse(PERSISTED_QUERY_NOT_FOUND)
    if digest is not None and query_hash(graphql_request.query) != digest:
        return _bad_request(
            "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent with it"
        )
    prepared = await prepare_document(graphql_request.query, cache)
    if digest is not None:
        cache.persist(prepared, digest)
    return prepared


def _deferred_key(request: Request) -> bytes | None:
    """The hash of a Bearer key whose lookup may wait for the request's first statement:
    a POST whose declared body is within the anonymous cap, so that a wrong key is never
    read more of than an anonymous caller. None: look the credentials up first."""
    authorization = header(request, b"authorization")
    if authorization is None or not authorization.strip():
        return None
    declared = header(request, b"content-length")
    if declared is None or not declared.isdigit() or int(declared) > MAX_ANONYMOUS_BODY_BYTES:
        return None
    return accounts.bearer_key_hash(authorization)  # UNAUTHENTICATED for a malformed header


def _first_field_looks_key_up(operation: OperationDefinitionNode) -> bool:
    """Whether the operation is a query of artifact(path) alone, whose resolver looks the
    pending API key up in its own statement (resolvers/artifacts/queries.py)."""
    if operation.operation is not OperationType.QUERY:
        return False
    selections = operation.selection_set.selections
    if len(selections) != 1:
        return False
    field = selections[0]
    return isinstance(field, FieldNode) and field.name.value == "artifact" and not field.directives


async def _handle(
    request: Request, state: dict[str, Any], request_id: str
) -> tuple[JSONResponse, str]:
    get = request.method == "GET"
    # Who is asking comes from the headers alone, so it is known before the body is read:
    # an anonymous caller's body is capped far lower than a signed-in one's. A Bearer
    # key's lookup may wait (key_hash) for the request's first statement, which then does
    # it in the same round trip; its body is read as an anonymous one.
    key_hash = None if get else _deferred_key(request)
    if key_hash is None:
        viewer = await request_viewer(request)
        return await _answer(request, state, request_id, get, viewer, None)
    # a wrong key gets UNAUTHENTICATED whatever else is wrong with its request: a request
    # refused before execution (bad JSON, a syntax error, too complex...) checks it first
    try:
        answered = await _answer(request, state, request_id, get, None, key_hash)
    except Exception:
        await accounts.viewer_by_key_hash(state["db"], key_hash)
        raise
    if not isinstance(answered[0], GraphQLResponse):  # not executed: the key is unchecked
        await accounts.viewer_by_key_hash(state["db"], key_hash)
    return answered


async def _answer(
    request: Request,
    state: dict[str, Any],
    request_id: str,
    get: bool,
    viewer: Viewer | None,
    key_hash: bytes | None,
) -> tuple[JSONResponse, str]:
    """The answer for ``viewer``, or with ``key_hash`` for the holder of that API key,
    looked up with the request's first statement (or before execution): an executed
    answer (GraphQLResponse) only once the key was found valid."""
    try:
        if get:
            graphql_request = decode_query_params(request.query_params)
            raw = request.query_params.get("variables", "").encode("utf-8", "surrogatepass")
        elif viewer is None:
            raw = await read_limited_body(request, MAX_ANONYMOUS_BODY_BYTES, _ANONYMOUS_BODY_HINT)
            graphql_request = decode_request(raw)
        else:
            raw = await read_limited_body(request, MAX_BODY_BYTES)
            graphql_request = decode_request(raw)
    except MalformedBody as exc:
        return _bad_request(str(exc)), "unknown"
    if problem := unstorable_text(raw, graphql_request):
        return JSONResponse(error_body("BAD_USER_INPUT", problem)), "unknown"
    try:
        prepared = await _document(graphql_request, request.app.state.documents)
    except GraphQLError as exc:
        return JSONResponse({"errors": [format_error(exc, request_id)]}), "unknown"
    if isinstance(prepared, JSONResponse):
        return prepared, "unknown"
    operation = select_operation(prepared.document, graphql_request.operation_name)
    operation_type = str(operation.operation.value)
    if get and operation_type != "query":
        refused = JSONResponse(
            error_body(
                "BAD_USER_INPUT",
                f"a {operation_type} cannot be sent with GET (only queries can): use POST",
            ),
            status_code=405,
            headers={"allow": "POST"},
        )
        return refused, operation_type

    if key_hash is not None and not _first_field_looks_key_up(operation):
        viewer = await accounts.viewer_by_key_hash(state["db"], key_hash)
        key_hash = None
    schema = request.app.state.schema
    name = graphql_request.operation_name
    variables = graphql_request.variables or {}
    key = limits_key(prepared, name, variables)
    if key is None or key not in prepared.within_limits:
        depends_on = check_query_limits(schema._schema, prepared.document, operation, variables)
        # the same verdict for every later request of this (cached) document with the
        # same values of the variables the counts came from (a lineage's depth and limit)
        if depends_on is not None and len(prepared.within_limits) < LIMIT_VERDICTS:
            prepared.limit_variables[name] = tuple(sorted(depends_on))
            if (key := limits_key(prepared, name, variables)) is not None:
                prepared.within_limits.add(key)
    context = Context(
        db=state["db"],
        viewer=viewer,
        settings=state["settings"],
        request_id=request_id,
        store=state.get("store"),
        references=state.get("references"),
        document=prepared,
        key_hash=key_hash,
    )
    try:
        result = await schema.execute_prepared(
            prepared, graphql_request.variables, context, graphql_request.operation_name
        )
    finally:
        context.release()
    # never an answer for a key that was not found valid: a key still pending (validation
    # failed, or the field failed before its statement) is looked up now, and a wrong or
    # revoked one is UNAUTHENTICATED whatever the execution produced
    await context.authenticate()
    out: dict[str, Any] = {}
    if result.errors:
        out["errors"] = [format_error(e, request_id) for e in result.errors]
    if result.data is not None or not result.errors:
        out["data"] = result.data
    response = GraphQLResponse(out)
    if get:
        # a GET's answer depends on who asks: shared caches must key on the credentials,
        # and must not keep a signed-in viewer's answer at all
        response.headers["vary"] = "Authorization, Cookie"
        if viewer is not None:
            response.headers["cache-control"] = "private, no-store"
    return response, operation_type
