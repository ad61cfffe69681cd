"""Depth, node-budget and field limits, checked on the parsed document before anything runs.

graphql-core's own depth limiter raises errors without ``extensions.code`` and counts
introspection, which refuses a client's standard introspection query; this counts the
way the README's limits say: introspection fields (``__schema``, ``__type``, ``__typename``) add no depth,
and the node budget is the product of ``first`` (default 50) along each nesting of
connections (and ``limit`` for lineage graphs), summed over the query. Every field
selection counts towards a cap on the document's size, aliases and fragment expansions
included, and every connection costs at least one node, ``first: 0`` or not.

It runs for anonymous callers too, so its time must be linear in the document's size: a
fragment's cost is computed once, however often it is spread (execution merges repeated
spreads, so re-walking each one, as before, let 22 fragments that each spread the next
one twice take seconds). A selection set's cost scales with the number of objects it is
selected on, so a fragment spread below a connection costs its own cost times that.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    value_from_ast_untyped,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from server.domain.graph import MAX_LIMIT as MAX_LINEAGE_LIMIT
from server.domain.pagination import MAX_FIRST
from server.errors import QueryTooComplex

MAX_DEPTH = 15
MAX_NODES = 500_000
MAX_FIELDS = 2_000
MAX_SAME_KEY = 20
DEFAULT_FIRST = 50
DEFAULT_LINEAGE_LIMIT = 1000


@dataclasses.dataclass(slots=True)
class _Cost:
    """A selection set's cost for one object it is selected on."""

    fields: int = 0  # field selections, aliases and fragment expansions included
    depth: int = 0  # levels of (non-introspection) fields below
    nodes: int = 0  # node budget
    # how often each response key occurs at its top level, fragments included
    keys: Counter[str] = dataclasses.field(default_factory=Counter)

    def add(self, other: _Cost, times: int = 1) -> None:
        # capped just past the limits: a fragment tree can reach 2^n, and big integers
        # would make every later step slower
        self.fields = min(self.fields + other.fields, MAX_FIELDS + 1)
        self.nodes = min(self.nodes + other.nodes * times, MAX_NODES + 1)
        self.depth = max(self.depth, other.depth)


_FREE = _Cost()


@functools.cache
def _introspection_sizes(schema: GraphQLSchema) -> dict[str, int]:
    """How long each introspection list can be in this schema, for the node budget."""
    types = list(schema.type_map.values())

    def longest(attribute: str) -> int:
        return max((len(getattr(t, attribute, None) or ()) for t in types), default=0)

    args = [len(f.args) for t in types for f in (getattr(t, "fields", None) or {}).values()
            if hasattr(f, "args")]  # fmt: skip
    args += [len(d.args) for d in schema.directives]
    return {
        "types": len(types),
        "fields": longest("fields"),
        "inputFields": longest("fields"),
        "interfaces": longest("interfaces"),
        "possibleTypes": len(types),
        "enumValues": longest("values"),
        "args": max(args, default=0),
        "directives": len(schema.directives),
    }


class _Pricer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = dict(variables)
        self.priced: dict[str, _Cost] = {}
        self.pricing: set[str] = set()
        self.introspection_sizes = _introspection_sizes(schema)
        # the variables counts came from (the verdict holds for their values only); None
        # once a count came from something else that is not a literal
        self.read_variables: set[str] | None = set()

    def _int_arg(self, field: FieldNode, name: str, default: int) -> int:
        for arg in field.arguments or ():
            if arg.name.value == name:
                if isinstance(arg.value, VariableNode):
                    if self.read_variables is not None:
                        self.read_variables.add(arg.value.name.value)
                elif not isinstance(arg.value, IntValueNode):
                    self.read_variables = None
                value = value_from_ast_untyped(arg.value, self.variables)
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    return value
                return default
        return default

    def selection_set(self, selections: SelectionSetNode, parent: GraphQLNamedType | None) -> _Cost:
        cost = _Cost()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                cost.add(self.field(selection, parent))
                key = (selection.alias or selection.name).value
                cost.keys[key] += 1
                self._check_repeats(cost.keys, (key,))
            else:
                if isinstance(selection, InlineFragmentNode):
                    target = parent
                    if selection.type_condition is not None:
                        target = self.schema.get_type(selection.type_condition.name.value)
                    part = self.selection_set(selection.selection_set, target)
                elif isinstance(selection, FragmentSpreadNode):
                    part = self.fragment(selection.name.value)
                else:  # pragma: no cover - graphql-core has no other selection
                    continue
                cost.add(part)
                cost.keys.update(part.keys)
                self._check_repeats(cost.keys, part.keys)
            if cost.fields > MAX_FIELDS:  # stop early: the rest cannot make it smaller
                raise _too_many_fields()
        return cost

    @staticmethod
    def _check_repeats(keys: Counter[str], changed: Iterable[str]) -> None:
        # graphql-core's validation compares every pair of fields that share a response
        # key (OverlappingFieldsCanBeMerged): 1,000 repeats of one alias took seconds
        for key in changed:
            if keys[key] > MAX_SAME_KEY:
                raise QueryTooComplex(
                    f"query selects {key[:50]!r} more than {MAX_SAME_KEY} times in one place "
                    "(fragments included): select it once"
                )

    def fragment(self, name: str) -> _Cost:
        priced = self.priced.get(name)
        if priced is not None:
            return priced
        fragment = self.fragments.get(name)
        if fragment is None or name in self.pricing:
            return _FREE  # unknown or cyclic: validation reports it
        self.pricing.add(name)
        target = self.schema.get_type(fragment.type_condition.name.value)
        priced = self.priced[name] = self.selection_set(fragment.selection_set, target)
        self.pricing.discard(name)
        return priced

    def field(self, field: FieldNode, parent: GraphQLNamedType | None) -> _Cost:
        name = field.name.value
        # introspection adds no depth (a client's standard introspection query nests
        # about 15 levels); its lists count in the node budget like connections
        introspection = name.startswith("__") or (
            parent is not None and parent.name.startswith("__")
        )
        field_type: Any = None
        if name == "__schema":
            field_type = SchemaMetaFieldDef.type
        elif name == "__type":
            field_type = TypeMetaFieldDef.type
        else:
            field_def = (getattr(parent, "fields", None) or {}).get(name)
            field_type = field_def.type if field_def is not None else None
        child = get_named_type(field_type) if field_type is not None else None
        times = self._times(field, parent, child, field_type)
        cost = _Cost(fields=1, nodes=times if times > 1 or self._counted(child) else 0)
        if field.selection_set is not None:
            below = self.selection_set(field.selection_set, child)
            cost.add(below, times)
        if not introspection:
            cost.depth += 1
        return cost

    @staticmethod
    def _counted(child: GraphQLNamedType | None) -> bool:
        return child is not None and (
            child.name.endswith("Connection") or child.name == "LineageGraph"
        )

    def _times(
        self, field: FieldNode, parent: GraphQLNamedType | None, child: Any, field_type: Any
    ) -> int:
        """How many objects the field's own selection set is selected on, per parent."""
        if child is None:
            return 1
        # Counts are capped at what the field accepts, so an out-of-range `first`/`limit`
        # gets the field's own BAD_USER_INPUT, not this error. `first: 0` still costs one.
        if child.name.endswith("Connection"):
            return max(1, min(self._int_arg(field, "first", DEFAULT_FIRST), MAX_FIRST))
        if child.name == "LineageGraph":
            return max(
                1, min(self._int_arg(field, "limit", DEFAULT_LINEAGE_LIMIT), MAX_LINEAGE_LIMIT)
            )
        introspection_list = (
            parent is not None
            and parent.name.startswith("__")
            and isinstance(get_nullable_type(field_type), GraphQLList)
        )
        if introspection_list:
            return max(1, self.introspection_sizes.get(field.name.value, 1))
        return 1


def _too_many_fields() -> QueryTooComplex:
    return QueryTooComplex(
        f"query selects more than {MAX_FIELDS:,} fields (aliases and fragment spreads "
        "counted each time): split it into several queries"
    )


def check_query_limits(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> frozenset[str] | None:
    """Raise QueryTooComplex for an operation past any limit (in time linear in the
    document's size). Else the names of the variables a count came from: the verdict
    holds for any request of the operation with the same values of those (none: for any
    request), so a cached document need not be checked again; None when it cannot say."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    pricer = _Pricer(schema, fragments, variables or {})
    try:
        cost = pricer.selection_set(
            operation.selection_set, schema.get_root_type(operation.operation)
        )
    except RecursionError:
        raise QueryTooComplex("query is nested too deeply: split it into several queries") from None
    if cost.depth > MAX_DEPTH:
        raise QueryTooComplex(
            f"query is nested more than {MAX_DEPTH} levels deep: split it into several queries"
        )
    if cost.fields > MAX_FIELDS:
        raise _too_many_fields()
    if cost.nodes > MAX_NODES:
        raise QueryTooComplex(
            f"query could return more than {MAX_NODES:,} nodes: ask for smaller pages "
            "(first/limit) or nest fewer connections"
        )
    return None if pricer.read_variables is None else frozenset(pricer.read_variables)
