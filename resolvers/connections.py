"""Relay connection types; ``XConnection``/``XEdge`` names come from strawberry generics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.execution import computed_field
from server.domain.pagination import Page, encode_cursor

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    key: strawberry.Private[Sequence[Any]]
    # encoded only when selected: most queries walk edges without paginating
    cursor: str = computed_field(lambda edge: encode_cursor(edge.key))
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def of(cls, page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
        edges = [
            Edge(key=key, node=convert(item))
            for key, item in zip(page.keys, page.items, strict=True)
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=encode_cursor(page.keys[-1]) if page.keys else None,
            ),
            count=page.count,
        )
