"""The Node interface and ``Query.node``.

Each domain registers how to load its kinds; the loaders apply read access, so an id of
something the viewer may not read gives null, exactly like an unknown id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from resolvers.info import Info
from server.domain.ids import decode_id

NODE_ID_DESCRIPTION = "Opaque global id, stable across renames; valid for Query.node."


@strawberry.interface
class Node:
    id: strawberry.ID = strawberry.field(description=NODE_ID_DESCRIPTION)


NodeLoader = Callable[[Info, int], Awaitable[Any]]
_NODE_LOADERS: dict[str, NodeLoader] = {}


def node_loader(kind: str) -> Callable[[NodeLoader], NodeLoader]:
    def register(load: NodeLoader) -> NodeLoader:
        _NODE_LOADERS[kind] = load
        return load

    return register


@strawberry.type
class NodeQueries:
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        decoded = decode_id(id)
        if decoded is None or decoded[0] not in _NODE_LOADERS:
            return None
        kind, pk = decoded
        return await _NODE_LOADERS[kind](info, pk)  # type: ignore[no-any-return]
