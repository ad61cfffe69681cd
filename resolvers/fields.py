"""Fields that read straight off the object: ``row_field`` and ``computed_field``.

Each carries its getter in the field's metadata under ``PLAIN_GETTER``, so the fast
executor (resolvers/execution.py) can call it directly instead of going through
graphql-core's resolver machinery; on graphql-core's own path (``LINEAGE_FAST_EXECUTION=0``)
the same getter runs as an ordinary resolver, so both paths answer alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from operator import attrgetter, itemgetter
from typing import Any

import strawberry

# the key of a field's metadata holding ``get`` (object -> value)
PLAIN_GETTER = "plain-getter"
# the key of a resolver field's metadata holding its batch form: an async function of
# (the objects, info=..., **arguments) giving each object's value, in order. The fast
# executor calls it once for all the objects of a list that select the field; graphql-core's
# path (and the fast one's fallback) calls the field's own resolver per object, so both
# must answer alike (tests/resolvers/test_execution.py compares them).
BATCH_RESOLVER = "batch-resolver"
# the key of a view field's metadata holding ``get`` of the view's row (row -> value): the
# fast executor completes a ``RowViews`` list from the rows, without making the views
ROW_GETTER = "row-getter"
# ... and how it reads the row, as Python source after the row: ".name" or "[0]" (the fast
# executor compiles a list's row completion into one function with these inlined)
ROW_ACCESS = "row-access"
_ACCESS = re.compile(r"\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\]")


def computed_field(
    get: Callable[[Any], Any],
    description: str | None = None,
    *,
    of_row: Callable[[Any], Any] | None = None,
    row_access: str | None = None,
) -> Any:
    """A field that is ``get(self)``: cheap, synchronous and argument-free, so a list of
    objects selecting it still completes in one go. ``of_row``, for a view of a row: the
    same value from the row itself (``get(view) == of_row(view.row)``)."""

    def resolve(self: Any) -> Any:
        return get(self)

    metadata: dict[str, Any] = {PLAIN_GETTER: get}
    if of_row is not None:
        metadata[ROW_GETTER] = of_row
        if row_access is not None:
            if not _ACCESS.fullmatch(row_access):
                raise ValueError(f"not an attribute or index: {row_access!r}")
            metadata[ROW_ACCESS] = row_access
    return strawberry.field(resolver=resolve, description=description, metadata=metadata)


def row_field(attribute: str, description: str | None = None) -> Any:
    """A field that is ``self.row.<attribute>``: the GraphQL object is a view of its domain
    row, so making one copies nothing, and a field costs only when it is selected. Enum
    fields hold the stored name (graphql-core serializes values and members alike)."""
    return computed_field(
        attrgetter(f"row.{attribute}"),
        description,
        of_row=attrgetter(attribute),
        row_access=f".{attribute}",
    )


def row_item(index: int, description: str | None = None) -> Any:
    """A field that is ``self.row[index]``: a view of a tuple."""
    get = itemgetter(index)
    return computed_field(
        lambda view: get(view.row), description, of_row=get, row_access=f"[{index:d}]"
    )


class RowViews:
    """A list of views given by their rows: item ``i`` is ``classes[i](row=rows[i])``.

    graphql-core's path iterates it and gets the views; the fast executor completes the
    rows directly, with each field's ``ROW_GETTER``, when every selected field has one, and
    never makes the views (a 10,000-node lineage answer made 20,000 of them)."""

    __slots__ = ("classes", "rows")

    def __init__(self, classes: list[type], rows: list[Any]) -> None:
        self.classes = classes
        self.rows = rows

    def __iter__(self) -> Iterator[Any]:
        return map(_view, self.classes, self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _view(cls: type, row: Any) -> Any:
    return cls(row=row)
