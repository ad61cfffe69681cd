"""Fields that read straight off the object: ``row_field`` and ``computed_field``.

Each carries its getter in the field's metadata under ``PLAIN_GETTER``, so the fast
executor (resolvers/execution.py) can call it directly instead of going through
graphql-core's resolver machinery; on graphql-core's own path (``LINEAGE_FAST_EXECUTION=0``)
the same getter runs as an ordinary resolver, so both paths answer alike.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
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


def computed_field(get: Callable[[Any], Any], description: str | None = None) -> Any:
    """A field that is ``get(self)``: cheap, synchronous and argument-free, so a list of
    objects selecting it still completes in one go."""

    def resolve(self: Any) -> Any:
        return get(self)

    return strawberry.field(resolver=resolve, description=description, metadata={PLAIN_GETTER: get})


def row_field(attribute: str, description: str | None = None) -> Any:
    """A field that is ``self.row.<attribute>``: the GraphQL object is a view of its domain
    row, so making one copies nothing, and a field costs only when it is selected. Enum
    fields hold the stored name (graphql-core serializes values and members alike)."""
    return computed_field(attrgetter(f"row.{attribute}"), description)
