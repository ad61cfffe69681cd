"""The JSON body of a GraphQL request: decoded, and refused early for what no resolver
could use.

- Nesting: Python's JSON decoder (and every recursive walk after it) raises
  RecursionError on deeply nested arrays; a body nested deeper than ``MAX_JSON_DEPTH``
  is refused here, in one iterative pass.
- NUL characters: Postgres text and jsonb cannot hold them, so a string holding one can
  only fail deeper down (as an INTERNAL error from the driver, before this check).
- Unpaired surrogates ("\\ud800"): JSON can escape them, no UTF-8 text can hold them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from server.json_numbers import has_long_number

MAX_JSON_DEPTH = 100

# A cheap pre-check, so big bodies are only walked for surrogates when they hold an escape.
_LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class MalformedBody(Exception):
    """The body is not a JSON request at all: HTTP 400."""


_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class GraphQLRequest:
    # None only for a persisted query sent by its hash alone
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    # extensions.persistedQuery.sha256Hash (Apollo's automatic persisted queries), lower case
    persisted_hash: str | None = None


def _json(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedBody(
            f"{what} is nested deeper than {MAX_JSON_DEPTH} levels: flatten it"
        ) from None


def decode_request(body: bytes) -> GraphQLRequest:
    payload: Any = None
    if not has_long_number(body):  # else the standard decoder keeps big integers exact
        # orjson is several times faster; what it refuses (NaN, lone surrogate escapes,
        # other encodings than UTF-8, and in newer ones nesting past 1,024) the standard
        # decoder decides and words, so answers are the same
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
    if payload is None:
        payload = _json(body, "request body")
    # nesting deeper than the limit needs more brackets than the limit: most bodies
    # cannot, and skip the walk. Before the shape check: older orjson (3.9) decodes
    # any depth, and a deep list is refused for its depth, as the standard decoder does.
    if body.count(b"[") + body.count(b"{") >= MAX_JSON_DEPTH:
        _check_depth(payload)
    if not isinstance(payload, dict):
        raise MalformedBody('send a JSON object with a "query" string')
    return _request(payload, check_depth=False)


def decode_query_params(params: Mapping[str, str]) -> GraphQLRequest:
    """A GET request's parameters: query and operationName as text, variables and
    extensions as JSON text (the GraphQL-over-HTTP convention)."""
    payload: dict[str, Any] = {}
    for name in ("query", "operationName"):
        if name in params:
            payload[name] = params[name]
    for name in ("variables", "extensions"):
        if params.get(name):
            payload[name] = _json(params[name], f"the {name} parameter")
    return _request(payload)


def _check_depth(payload: Any) -> None:
    if _depth_exceeds(payload, MAX_JSON_DEPTH):
        raise MalformedBody(
            f"request body is nested deeper than {MAX_JSON_DEPTH} levels: flatten it"
        )


def _request(payload: dict[str, Any], check_depth: bool = True) -> GraphQLRequest:
    if check_depth:
        _check_depth(payload)
    query = payload.get("query")
    persisted = _persisted_hash(payload.get("extensions"))
    if not isinstance(query, str) and not (query is None and persisted is not None):
        raise MalformedBody('send a JSON object with a "query" string')
    variables = payload.get("variables")
    operation_name = payload.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        raise MalformedBody('"variables" must be a JSON object')
    if operation_name is not None and not isinstance(operation_name, str):
        raise MalformedBody('"operationName" must be a string')
    return GraphQLRequest(query, variables, operation_name, persisted)


def _persisted_hash(extensions: Any) -> str | None:
    """extensions.persistedQuery's hash, or None when the request names none."""
    if extensions is None:
        return None
    if not isinstance(extensions, dict):
        raise MalformedBody('"extensions" must be a JSON object')
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise MalformedBody('"extensions.persistedQuery" must be {"version": 1, "sha256Hash": ...}')
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
        raise MalformedBody(
            '"extensions.persistedQuery.sha256Hash" must be the hex SHA-256 of the query'
        )
    return digest.lower()


def unstorable_text(body: bytes, request: GraphQLRequest) -> str | None:
    """Why the variables hold text no field can take (NUL, unpaired surrogates), or None."""
    if request.variables is None:
        return None
    surrogates = _LONE_SURROGATE_ESCAPE.search(body) is not None
    pending: list[Any] = [request.variables]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return (
                    "the variables hold a NUL character (\\u0000), which no field can "
                    "store: remove it"
                )
            if surrogates and not _encodable(value):
                return (
                    "the request holds text that is not valid Unicode (an unpaired "
                    "surrogate escape such as \\ud800): send valid UTF-8 text"
                )
    if surrogates and request.query is not None and not _encodable(request.query):
        return "the query is not valid Unicode (an unpaired surrogate escape): send valid UTF-8"
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _depth_exceeds(value: Any, limit: int) -> bool:
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            pending.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            pending.extend((v, depth + 1) for v in item)
    return False
