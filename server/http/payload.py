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
from dataclasses import dataclass
from typing import Any

MAX_JSON_DEPTH = 100

# A cheap pre-check, so big bodies are only walked for surrogates when they hold an escape.
_LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class MalformedBody(Exception):
    """The body is not a JSON request at all: HTTP 400."""


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def decode_request(body: bytes) -> GraphQLRequest:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedBody(
            f"request body is nested deeper than {MAX_JSON_DEPTH} levels: flatten it"
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise MalformedBody('send a JSON object with a "query" string')
    if _depth_exceeds(payload, MAX_JSON_DEPTH):
        raise MalformedBody(
            f"request body is nested deeper than {MAX_JSON_DEPTH} levels: flatten it"
        )
    variables = payload.get("variables")
    operation_name = payload.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        raise MalformedBody('"variables" must be a JSON object')
    if operation_name is not None and not isinstance(operation_name, str):
        raise MalformedBody('"operationName" must be a string')
    return GraphQLRequest(payload["query"], variables, operation_name)


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
    if surrogates and not _encodable(request.query):
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
