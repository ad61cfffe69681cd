"""GraphQL documents: parsed with bounds, cached only while small, one operation chosen.

Parsing runs for anonymous callers too, so anyone can make the server do it: the text is
capped (``MAX_QUERY_CHARS``), and graphql-core stops after ``MAX_TOKENS`` tokens. A
parsed document takes about 100 times its text in memory, so the cache keeps only
documents of at most ``CACHE_DOCUMENT_CHARS`` and at most ``CACHE_TOTAL_CHARS`` of text
in all (least recently used first out): clients send the same few small documents over
and over, and nothing else needs keeping. A cached document also keeps its validation
result, so a repeated query skips both steps.

The same cache is the store of persisted queries (Apollo's automatic persisted queries):
a client that sent a document together with its SHA-256 may later send the hash alone.
Only documents are kept, never results, and only while they stay in this bounded cache:
a hash the cache no longer holds is PERSISTED_QUERY_NOT_FOUND, and the client sends the
document again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    # the SHA-256 a client registered the document under, if one did
    persisted_hash: str | None = field(default=None)
    # the guard's passing verdicts: (operation name, the values of the variables its
    # counts came from, e.g. a lineage's depth and limit), bounded by LIMIT_VERDICTS
    within_limits: set[Hashable] = field(default_factory=set)
    # operation name -> the variables its counts come from (the guard's first check)
    limit_variables: dict[str | None, tuple[str, ...]] = field(default_factory=dict)
    # what the fast executor (resolvers/execution.py) derived from the document, for its
    # later executions: how each selection completes, never any data
    plans: dict[Any, Any] = field(default_factory=dict)
    # what resolvers read from the document's selections (resolvers/selection.py, the
    # read-ahead of artifact(path)), by field nodes: never any data
    selections: dict[Hashable, Any] = field(default_factory=dict)


# passing verdicts kept per document: one per combination of depth/limit/first values
LIMIT_VERDICTS = 64


def limits_key(
    prepared: PreparedDocument, operation: str | None, variables: Mapping[str, Any]
) -> Hashable | None:
    """The key of a request's guard verdict in ``prepared.within_limits``: the operation,
    and the values (with their types: 1 is not True) of the variables its counts come
    from; None when a value cannot be a key."""
    names = prepared.limit_variables.get(operation, ())
    key = (operation, tuple((n, type(variables.get(n)), variables.get(n)) for n in names))
    try:
        hash(key)
    except TypeError:
        return None
    return key


class DocumentCache:
    """An LRU of parsed documents bounded by the characters of their text."""

    def __init__(
        self, total_chars: int = CACHE_TOTAL_CHARS, document_chars: int = CACHE_DOCUMENT_CHARS
    ) -> None:
        self.total_chars = total_chars
        self.document_chars = document_chars
        self.chars = 0
        self._documents: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._persisted: dict[str, PreparedDocument] = {}

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, query: str) -> PreparedDocument | None:
        prepared = self._documents.get(query)
        if prepared is not None:
            self._documents.move_to_end(query)
        return prepared

    def persisted(self, digest: str) -> PreparedDocument | None:
        """The document a client registered under ``digest`` (lower-case hex SHA-256)."""
        prepared = self._persisted.get(digest)
        if prepared is not None:
            self._documents.move_to_end(prepared.query)
        return prepared

    def persist(self, prepared: PreparedDocument, digest: str) -> None:
        """Let later requests name this (cached) document by ``digest``, which the caller
        checked is its SHA-256."""
        if self._documents.get(prepared.query) is prepared and prepared.persisted_hash is None:
            prepared.persisted_hash = digest
            self._persisted[digest] = prepared

    def put(self, prepared: PreparedDocument) -> None:
        size = len(prepared.query)
        if size > self.document_chars or prepared.query in self._documents:
            return
        self._documents[prepared.query] = prepared
        self.chars += size
        while self.chars > self.total_chars:
            _, evicted = self._documents.popitem(last=False)
            self.chars -= len(evicted.query)
            if evicted.persisted_hash is not None:
                del self._persisted[evicted.persisted_hash]


def query_hash(query: str) -> str:
    """The hex SHA-256 of a document's text, as persisted-query clients compute it."""
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


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
