"""Execution of the document the HTTP layer prepared (server/http/documents.py).

The endpoint parses each document once, with its limits, chooses the operation and
checks its cost before anything else runs; this extension hands that same document to
strawberry instead of letting it parse the text again, and keeps the validation result
with the (cached) document. Validating a large new document is CPU work that can take
a noticeable fraction of a second, so it runs on a worker thread: the event loop keeps
answering other requests (``/healthz`` among them) meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSchema, specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from server.http.documents import INLINE_PARSE_CHARS, PreparedDocument


async def validation_errors(
    schema: GraphQLSchema, prepared: PreparedDocument, rules: Collection[Any] = specified_rules
) -> list[GraphQLError]:
    """graphql-core's validation errors of the document, found once per cached document."""
    if prepared.validation_errors is None:
        arguments = (schema, prepared.document, tuple(rules))
        if len(prepared.query) > INLINE_PARSE_CHARS:
            errors = await asyncio.to_thread(validate_document, *arguments)
        else:
            errors = validate_document(*arguments)
        prepared.validation_errors = errors
    return prepared.validation_errors


class PreparedDocuments(SchemaExtension):
    def _prepared(self) -> PreparedDocument | None:
        prepared = getattr(self.execution_context.context, "document", None)
        return prepared if isinstance(prepared, PreparedDocument) else None

    def on_parse(self) -> Iterator[None]:
        prepared = self._prepared()
        if prepared is not None:
            self.execution_context.graphql_document = prepared.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        prepared = self._prepared()
        if prepared is not None and context.graphql_document is prepared.document:
            errors = await validation_errors(
                context.schema._schema, prepared, context.validation_rules
            )
            context.pre_execution_errors = list(errors)
        yield
