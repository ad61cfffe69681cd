"""Completing an object or a list directly, by plans made once per selection.

A plan is a tuple of steps, one per selected field: (response key, getter, serialize,
nullable, the Python type passed through without serializing). ``complete_flat`` runs
one on an object; ``list_completer`` makes what runs one on every item of a list (one
plan per Python class for union members). None from either means "something here needs
graphql-core's path", which then also produces the proper error. The executor that makes
and uses the plans is resolvers/execution.py; the rows' compiled form is row_plans.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from itertools import groupby
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
)

from resolvers.batching import Deferred
from resolvers.execution_guard import STRAWBERRY_DEFINITION
from resolvers.fields import PLAIN_GETTER, ROW_GETTER, RowViews


class Never:
    """A type no value has: ``type(value) is Never`` is always false."""


# Values of these Python types are already what the scalar serializes them to.
_AS_IS = {GraphQLString.name: str, GraphQLID.name: str, GraphQLBoolean.name: bool}

# (response key, getter, serialize, nullable, type passed through without serialize)
Step = tuple[str, Callable[[Any], Any], Callable[[Any], Any], bool, type]
Plan = tuple[Step, ...]
Split = tuple[Plan, dict[str, Any] | None, tuple[str, ...]]
# completes one row of a RowViews list (None: the normal path must report something)
RowPlan = Callable[[Any], dict[str, Any] | None]


class EnumNames(dict[Any, str]):
    """Python enum member -> GraphQL name, filled on first sight of each member (the
    GraphQL enum knows members' values, not the members)."""

    def __init__(self, enum_type: GraphQLEnumType) -> None:
        super().__init__()
        self.by_value: dict[Any, str] = {
            value.value: name for name, value in enum_type.values.items()
        }
        self.enum_class = getattr(enum_type, "wrapped_cls", None)

    def __missing__(self, member: Any) -> str:
        if isinstance(member, Enum):
            if type(member) is not self.enum_class:  # another enum's member: an error
                raise KeyError(member)
            member_value = member.value
        else:
            member_value = member  # a stored name, as row fields hold
        name = self.by_value[member_value]
        self[member] = name
        return name


def field_plan(
    parent: GraphQLObjectType,
    key: str,
    details: Sequence[Any],
    nested: Callable[[Any, Sequence[Any]], Callable[[Any], Any] | None],
    batched: Callable[..., Step | None] | None = None,
    rows: bool = False,
) -> Step | None:
    """How to complete one field of ``parent`` directly, or None. ``nested(type, details)``
    gives the completer of an object or list field with a selection of its own;
    ``batched(parent, key, details, field_def, definition)`` the step of a resolver field
    called for many objects at once. With ``rows``, the step reads the view's row rather
    than the view (the field's ``ROW_GETTER``; None for a field without one)."""
    node = details[0].node
    if len(details) != 1 or node.directives:
        return None
    name = node.name.value
    if name == "__typename":
        if node.arguments:
            return None
        type_name = parent.name
        return (key, lambda _: type_name, str, False, str)
    field_def = parent.fields.get(name)
    if field_def is None:
        return None
    definition = (field_def.extensions or {}).get(STRAWBERRY_DEFINITION)
    getter = (getattr(definition, "metadata", None) or {}).get(PLAIN_GETTER)
    if definition is None or definition.extensions or definition.permission_classes:
        return None
    if rows:
        getter = (definition.metadata or {}).get(ROW_GETTER)
        if getter is None or node.selection_set:
            return None
        batched = None
    if definition.base_resolver is not None and getter is None:
        return None if batched is None else batched(parent, key, details, field_def, definition)
    if node.arguments:
        return None
    field_type = field_def.type
    nullable = not isinstance(field_type, GraphQLNonNull)
    if not nullable:
        field_type = field_type.of_type
    get = getter or attrgetter(definition.python_name)
    if node.selection_set:
        complete = nested(field_type, details)
        return None if complete is None else (key, get, complete, nullable, Never)
    if isinstance(field_type, GraphQLEnumType):
        return (key, get, EnumNames(field_type).__getitem__, nullable, Never)
    if not isinstance(field_type, GraphQLScalarType):
        return None
    return (key, get, field_type.serialize, nullable, _AS_IS.get(field_type.name, Never))


def complete_flat(plan: Plan, source: Any) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    try:
        for key, get, serialize, nullable, as_is in plan:
            value = get(source)
            if value is None:
                if not nullable:
                    return None
                out[key] = None
            elif type(value) is as_is:
                out[key] = value
                if as_is is Deferred:
                    value.out = out  # type: ignore[attr-defined]
            else:
                value = serialize(value)
                if value is None:  # graphql-core reports a scalar that serializes to None
                    return None
                out[key] = value
    except Exception:  # noqa: BLE001 - the normal path reports it properly
        return None
    return out


class ListPlan:
    """How a list of objects completes (``many``: the list, None when an item needs the
    normal path) and how one of its items does (``one``: a value that is not None, as
    the list's item; a plain field holding one object completes it so, without making
    a list of it)."""

    __slots__ = ("many", "one")

    def __init__(
        self,
        many: Callable[[list[Any] | RowViews], list[Any] | None],
        one: Callable[[Any], dict[str, Any] | None],
    ) -> None:
        self.many = many
        self.one = one


def list_completer(
    plans: dict[type, Plan] | Plan,
    nullable_items: bool,
    row_plans: dict[type, RowPlan] | None = None,
) -> ListPlan:
    """Complete a whole list with one plan (an object type that accepts any value) or one
    plan per Python class (union members, or objects that check their type); None when
    any item needs the normal path. ``row_plans``, by view class: the plans that complete
    a ``RowViews`` list from the rows (a class without one makes the views)."""

    def complete_rows(items: RowViews) -> list[Any] | None:
        if row_plans is None:
            return complete(list(items))
        rows = items.rows
        if len(items.classes) != len(rows):
            raise ValueError("a RowViews list with as many classes as rows")
        # by runs of one class (a lineage answer's hops, its edges): each run's plan
        # mapped over its rows in C, ~0.1 us an item less than a loop here
        out: list[Any] = []
        at = 0
        for cls, same in groupby(items.classes):
            plan = row_plans.get(cls)
            if plan is None:
                return complete(list(items))
            end = at + len(list(same))
            done = list(map(plan, rows if at == 0 and end == len(rows) else rows[at:end]))
            if None in done:
                return None
            if at == 0:
                out = done
            else:
                out += done
            at = end
        return out

    def complete(items: list[Any] | RowViews) -> list[Any] | None:
        if isinstance(items, RowViews):
            return complete_rows(items)
        out: list[Any] = []
        append = out.append
        for item in items:
            if item is None:
                if not nullable_items:
                    return None
                append(None)
                continue
            plan = plans if type(plans) is tuple else plans.get(type(item))  # type: ignore[union-attr]
            if plan is None:
                return None
            completed = complete_flat(plan, item)
            if completed is None:
                return None
            append(completed)
        return out

    def complete_one(item: Any) -> dict[str, Any] | None:
        plan = plans if type(plans) is tuple else plans.get(type(item))  # type: ignore[union-attr]
        return None if plan is None else complete_flat(plan, item)

    return ListPlan(complete, complete_one)


def in_order(keys: Sequence[str], plain: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """Both parts of an object's answer, keys in the order the query selected them."""
    return {
        key: plain[key] if key in plain else others[key]
        for key in keys
        if key in plain or key in others
    }
