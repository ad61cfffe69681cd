"""GraphQL documents: parsed with bounds, cached only while small, one operation chosen.

Parsing runs for anonymous callers too, so anyone can make the server do it: the text is
capped (``MAX_QUERY_CHARS``), and graphql-core stops after ``MAX_TOKENS`` tokens. A
parsed document takes about 100 times its text in memory, so the cache keeps only
documents of at most ``CACHE_DOCUMENT_CHARS`` and at most ``CACHE_TOTAL_CHARS`` of text
in all (least recently used first out): clients send the same few small documents over
and over, and nothing else needs keeping. A cached document also keeps its validation
result, so a repeated query skips both steps.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    GraphQLError,
    Node,
    OperationDefinitionNode,
    StringValueNode,
    parse,
)

from server.errors import BadUserInput, QueryTooComplex

MAX_QUERY_CHARS = 100_000
MAX_TOKENS = 20_000
CACHE_DOCUMENT_CHARS = 8 * 1024
CACHE_TOTAL_CHARS = 512 * 1024
# Bigger documents are parsed on a worker thread: the event loop keeps serving others.
INLINE_PARSE_CHARS = 4 * 1024

_TOO_MANY_TOKENS = "Document contains more than"


@dataclass(slots=True)
class PreparedDocument:
    query: str
    document: DocumentNode
    # graphql-core's validation errors, once a request has validated the document
    validation_errors: list[GraphQLError] | None = field(default=None)


class DocumentCache:
    """An LRU of parsed documents bounded by the characters of their text."""

    def __init__(
        self, total_chars: int = CACHE_TOTAL_CHARS, document_chars: int = CACHE_DOCUMENT_CHARS
    ) -> None:
        self.total_chars = total_chars
        self.document_chars = document_chars
        self.chars = 0
        self._documents: OrderedDict[str, PreparedDocument] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, query: str) -> PreparedDocument | None:
        prepared = self._documents.get(query)
        if prepared is not None:
            self._documents.move_to_end(query)
        return prepared

    def put(self, prepared: PreparedDocument) -> None:
        size = len(prepared.query)
        if size > self.document_chars or prepared.query in self._documents:
            return
        self._documents[prepared.query] = prepared
        self.chars += size
        while self.chars > self.total_chars:
            _, evicted = self._documents.popitem(last=False)
            self.chars -= len(evicted.query)


async def prepare_document(query: str, cache: DocumentCache) -> PreparedDocument:
    """The parsed document for ``query``; GraphQLError (a syntax error) or a coded
    ServiceError for what cannot be parsed."""
    cached = cache.get(query)
    if cached is not None:
        return cached
    if len(query) > MAX_QUERY_CHARS:
        raise QueryTooComplex(
            f"query text is longer than {MAX_QUERY_CHARS:,} characters: send inputs as "
            "variables, or split it into several queries"
        )
    if len(query) > INLINE_PARSE_CHARS:
        document = await asyncio.to_thread(_parse, query)
    else:
        document = _parse(query)
    prepared = PreparedDocument(query, document)
    cache.put(prepared)
    return prepared


def _parse(query: str) -> DocumentNode:
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as exc:
        if exc.message.startswith(f"Syntax Error: {_TOO_MANY_TOKENS}"):
            raise QueryTooComplex(
                f"query has more than {MAX_TOKENS:,} tokens: send inputs as variables, or "
                "split it into several queries"
            ) from None
        raise
    except RecursionError:
        raise BadUserInput("query is nested too deeply to parse: flatten it") from None
    _check_literal_strings(document)
    return document


def _check_literal_strings(document: DocumentNode) -> None:
    """No NUL in a string literal: no text or JSON column can store it, and a lookup by
    it would reach Postgres only to fail there."""
    pending: list[Node] = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, StringValueNode):
            if "\x00" in node.value:
                raise BadUserInput(
                    "the query holds a NUL character (\\u0000) in a string: remove it"
                )
            continue
        for key in node.keys:
            value = getattr(node, key, None)
            if isinstance(value, Node):
                pending.append(value)
            elif isinstance(value, (list, tuple)):
                pending.extend(v for v in value if isinstance(v, Node))


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation to run, as the GraphQL spec's GetOperation chooses it: the named one,
    or the only one; anything else is the client's mistake."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        for operation in operations:
            if operation.name is not None and operation.name.value == operation_name:
                return operation
        raise BadUserInput(
            f"the document has no operation named {operation_name[:100]!r}: check operationName"
        )
    if len(operations) == 1:
        return operations[0]
    if not operations:
        raise BadUserInput("the document has no operation (query or mutation) to run")
    raise BadUserInput(
        f"the document has {len(operations)} operations: send operationName to choose one"
    )
