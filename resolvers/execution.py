"""A faster completion of objects whose selected fields are all plain attributes.

graphql-core completes every field of every object through the full machinery (resolve
info, the strawberry resolver wrapper, awaitable checks, leaf completion): about 10 us a
field, which is most of the time of a 10,000-node lineage answer. When every field
selected on an object is a leaf read straight off an attribute (no resolver, no
arguments, no directives), the result is the same as ``{key: serialize(getattr(obj,
attr))}``, so this builds it directly. Anything else (a resolver, a null where the type
says non-null, a value that does not serialize) takes graphql-core's normal path, which
also produces the proper error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
)
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_DEFINITION = "strawberry-definition"
# (response key, getter, serialize or None for as-is, nullable)
Plan = list[tuple[str, Callable[[Any], Any], Callable[[Any], Any] | None, bool]]


def _field_plan(parent: GraphQLObjectType, key: str, details: Sequence[Any]) -> Any:
    node = details[0].node
    if len(details) != 1 or node.arguments or node.directives or node.selection_set:
        return None
    name = node.name.value
    if name == "__typename":
        type_name = parent.name
        return (key, lambda _: type_name, None, False)
    field_def = parent.fields.get(name)
    if field_def is None:
        return None
    definition = (field_def.extensions or {}).get(_DEFINITION)
    if (
        definition is None
        or definition.base_resolver is not None
        or definition.extensions
        or definition.permission_classes
    ):
        return None
    leaf_type = field_def.type
    nullable = not isinstance(leaf_type, GraphQLNonNull)
    if not nullable:
        leaf_type = leaf_type.of_type
    if isinstance(leaf_type, GraphQLEnumType):
        # attributes hold Python Enum members whose values are the GraphQL names
        names = {value.value: name for name, value in leaf_type.values.items()}
        return (key, attrgetter(definition.python_name), lambda v: names[v.value], nullable)
    if not isinstance(leaf_type, GraphQLScalarType):
        return None
    return (key, attrgetter(definition.python_name), leaf_type.serialize, nullable)


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[int, int], Plan | None] = {}

    def _plan(self, parent: GraphQLObjectType, grouped: Any) -> Plan | None:
        # grouped field sets are memoised per (type, selection) by collect_subfields, so
        # their identity is stable for the whole execution
        cache_key = (id(parent), id(grouped))
        if cache_key not in self._plans:
            plan: Plan | None = []
            for key, details in grouped.items():
                step = _field_plan(parent, key, details)
                if step is None:
                    plan = None
                    break
                plan.append(step)  # type: ignore[union-attr]
            self._plans[cache_key] = plan
            self._keep_alive = getattr(self, "_keep_alive", []) + [grouped]
        return self._plans[cache_key]

    def execute_collected_subfields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        new_defer_usages: Sequence[Any],
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plan = None if new_defer_usages else self._plan(parent_type, grouped_field_set)
        if plan is not None:
            completed = _complete_flat(plan, source_value)
            if completed is not None:
                return completed
        return super().execute_collected_subfields(
            parent_type, source_value, path, grouped_field_set, new_defer_usages, position_context
        )


def _complete_flat(plan: Plan, source: Any) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    try:
        for key, get, serialize, nullable in plan:
            value = get(source)
            if value is None:
                if not nullable:
                    return None
                out[key] = None
            else:
                out[key] = value if serialize is None else serialize(value)
    except Exception:  # noqa: BLE001 - the normal path reports it properly
        return None
    return out


def speed_up_unions(schema: Any) -> None:
    """Resolve union members by the Python class first (one dict lookup), falling back to
    strawberry's resolver, which tries each member type in turn."""
    for union in schema._schema.type_map.values():
        if not isinstance(union, GraphQLUnionType) or union.resolve_type is None:
            continue
        by_class = {}
        for member in union.types:
            definition = (member.extensions or {}).get(_DEFINITION)
            if definition is not None and getattr(definition, "origin", None) is not None:
                by_class[definition.origin] = member.name
        union.resolve_type = _resolver(by_class, union.resolve_type)


def _resolver(by_class: dict[type, str], fallback: Callable[..., Any]) -> Callable[..., Any]:
    def resolve_type(value: Any, info: Any, abstract_type: Any) -> Any:
        name = by_class.get(type(value))
        return name if name is not None else fallback(value, info, abstract_type)

    return resolve_type
