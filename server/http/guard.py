"""Depth and node-budget limits, checked on the parsed document before anything runs.

graphql-core's own depth limiter raises errors without ``extensions.code`` and counts
introspection, which refuses a client's standard introspection query; this counts the
SPEC's way: introspection fields (``__schema``, ``__type``, ``__typename``) are skipped,
and the node budget is the product of ``first`` (default 50) along each nesting of
connections (and ``limit`` for lineage graphs), summed over the query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)

from server.domain.graph import MAX_LIMIT as MAX_LINEAGE_LIMIT
from server.domain.pagination import MAX_FIRST
from server.errors import QueryTooComplex

MAX_DEPTH = 15
MAX_NODES = 500_000
DEFAULT_FIRST = 50
DEFAULT_LINEAGE_LIMIT = 1000


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.nodes = 0

    def _int_arg(self, field: FieldNode, name: str, default: int) -> int:
        for arg in field.arguments or ():
            if arg.name.value == name:
                value = value_from_ast_untyped(arg.value, self.variables)
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    return value
                return default
        return default

    def walk(
        self,
        selections: SelectionSetNode,
        parent: GraphQLNamedType | None,
        depth: int,
        multiplier: int,
        spreads: frozenset[str],
    ) -> None:
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name.startswith("__"):
                    continue
                if depth + 1 > MAX_DEPTH:
                    raise QueryTooComplex(
                        f"query is nested more than {MAX_DEPTH} levels deep: split it into "
                        "several queries"
                    )
                fields = getattr(parent, "fields", None) or {}
                field_def = fields.get(name)
                child = get_named_type(field_def.type) if field_def else None
                factor = multiplier
                # Counts are capped at what the field accepts, so an out-of-range
                # `first`/`limit` gets the field's own BAD_USER_INPUT, not this error.
                if child is not None and child.name.endswith("Connection"):
                    first = self._int_arg(selection, "first", DEFAULT_FIRST)
                    factor = multiplier * min(first, MAX_FIRST)
                    self._add(factor)
                elif child is not None and child.name == "LineageGraph":
                    limit = self._int_arg(selection, "limit", DEFAULT_LINEAGE_LIMIT)
                    factor = multiplier * min(limit, MAX_LINEAGE_LIMIT)
                    self._add(factor)
                if selection.selection_set is not None:
                    self.walk(selection.selection_set, child, depth + 1, factor, spreads)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value)
                self.walk(selection.selection_set, target, depth, multiplier, spreads)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreads:
                    continue  # unknown or cyclic: validation reports it
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.walk(fragment.selection_set, target, depth, multiplier, spreads | {name})

    def _add(self, count: int) -> None:
        self.nodes += count
        if self.nodes > MAX_NODES:
            raise QueryTooComplex(
                f"query could return more than {MAX_NODES:,} nodes: ask for smaller pages "
                "(first/limit) or nest fewer connections"
            )


def check_query_limits(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> None:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(schema, fragments, variables or {})
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (
            definition.name is None or definition.name.value != operation_name
        ):
            continue
        root = schema.get_root_type(definition.operation)
        walker.walk(definition.selection_set, root, 0, 1, frozenset())
