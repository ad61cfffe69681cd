"""Relay connection types; ``XConnection``/``XEdge`` names come from strawberry generics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from resolvers.fields import computed_field
from resolvers.info import Info
from resolvers.selection import selects_total_count
from server.domain.pagination import Page, PageKey, Slice, encode_cursor

T = TypeVar("T")
R = TypeVar("R")
C = TypeVar("C")


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


async def loaded_connection(
    info: Info,
    pages: DataLoader[PageKey, Slice[R]],
    counts: DataLoader[C, int],
    key: PageKey,
    count_key: C,
    convert: Callable[[R], T],
) -> Connection[T]:
    """A connection whose page comes from a per-request loader, batched with the same
    field of every other parent."""
    # Asked for now, with the page, so every parent's count lands in one batch: asked
    # later, parents whose pages come back in a different number of steps would split it.
    counted = counts.load(count_key) if selects_total_count(info) else None
    page = await pages.load(key)

    async def count() -> int:
        return await (counted if counted is not None else counts.load(count_key))

    return Connection.of(page.with_count(count), convert)
