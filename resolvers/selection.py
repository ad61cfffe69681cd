"""What a field's selection asks for, read from graphql-core's AST (fragments included).

Strawberry's ``selected_fields`` converts the whole subtree on every call, for each of
the 50 connections of a page (a tenth of a one-hop query); these read the AST directly.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
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


def _memo(info: Info) -> tuple[dict[Hashable, Any] | None, tuple[int, ...]]:
    """The answers kept for this request's (cached) document, and the key of this field's
    nodes in it: what a selection asks for depends only on the document's AST, so it is
    read once per document, not per request (it was ~3% of a one-hop query's time). The
    nodes' ids are stable while the document, which keeps them and the memo, lives."""
    memo = getattr(info.context.document, "selections", None)
    return memo, tuple(map(id, info._raw_info.field_nodes))


def selects_total_count(info: Info) -> bool:
    """Whether this connection field's selection asks for totalCount."""
    memo, nodes = _memo(info)
    key = ("totalCount", nodes)
    found = None if memo is None else memo.get(key)
    if found is None:
        raw = info._raw_info
        found = any(f.name.value == "totalCount" for f in fields_of(raw, below(raw.field_nodes)))
        if memo is not None:
            memo[key] = found
    return found


# fields holding JSON documents (no size bound): fetched for a graph's nodes only if asked
DOCUMENTS = frozenset({"config", "summary", "metadata"})


def selects_documents(info: Info, *path: str) -> bool:
    """Whether the objects at ``path`` below this field select a JSON document field."""
    memo, nodes = _memo(info)
    key = ("documents", nodes, path)
    found = None if memo is None else memo.get(key)
    if found is None:
        raw = info._raw_info
        fields = list(raw.field_nodes)
        for name in path:
            fields = [f for f in fields_of(raw, below(fields)) if f.name.value == name]
        found = any(f.name.value in DOCUMENTS for f in fields_of(raw, below(fields)))
        if memo is not None:
            memo[key] = found
    return found
