"""What a field's selection asks for, read from graphql-core's AST (fragments included).

Strawberry's ``selected_fields`` converts the whole subtree on every call, for each of
the 50 connections of a page (a tenth of a one-hop query); these read the AST directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from resolvers.info import Info


def fields_of(raw: Any, selections: Iterable[Any]) -> Iterator[FieldNode]:
    """The fields of a selection, looking through fragments (directives not applied)."""
    pending = list(selections)
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, FragmentSpreadNode):
            fragment = raw.fragments.get(selection.name.value)
            if fragment is not None:
                pending.extend(fragment.selection_set.selections)
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(selection.selection_set.selections)


def below(fields: Iterable[FieldNode]) -> list[Any]:
    return [s for field in fields if field.selection_set for s in field.selection_set.selections]


def selects_total_count(info: Info) -> bool:
    """Whether this connection field's selection asks for totalCount."""
    raw = info._raw_info
    return any(f.name.value == "totalCount" for f in fields_of(raw, below(raw.field_nodes)))


# fields holding JSON documents (no size bound): fetched for a graph's nodes only if asked
DOCUMENTS = frozenset({"config", "summary", "metadata"})


def selects_documents(info: Info, *path: str) -> bool:
    """Whether the objects at ``path`` below this field select a JSON document field."""
    raw = info._raw_info
    fields = list(raw.field_nodes)
    for name in path:
        fields = [f for f in fields_of(raw, below(fields)) if f.name.value == name]
    return any(f.name.value in DOCUMENTS for f in fields_of(raw, below(fields)))
