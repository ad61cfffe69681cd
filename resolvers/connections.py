"""Relay connection types; ``XConnection``/``XEdge`` names come from strawberry generics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from resolvers.fields import computed_field
from resolvers.info import Info
from resolvers.selection import selects_documents, selects_total_count
from server.domain.lineage import HopKey, HopPage
from server.domain.pagination import (
    Page,
    PageKey,
    Slice,
    check_cursor_shape,
    encode_cursor,
    page_args,
)

T = TypeVar("T")
R = TypeVar("R")
C = TypeVar("C")


def _end_cursor(info: PageInfo) -> str | None:
    return encode_cursor(info.last_key) if info.last_key is not None else None


@strawberry.type
class PageInfo:
    has_next_page: bool
    last_key: strawberry.Private[Sequence[Any] | None]
    # encoded only when selected, like Edge.cursor: a page of 50 runs each with its own
    # connection would otherwise encode 50 cursors nobody asked for
    end_cursor: str | None = computed_field(_end_cursor)


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
                has_next_page=page.has_next, last_key=page.keys[-1] if page.keys else None
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


async def hop_connections(
    info: Info,
    pages: DataLoader[HopKey, HopPage],
    counts: DataLoader[tuple[int, str | None], int],
    convert: Callable[[Any], T],
    parents: Sequence[int],
    first: int | None,
    after: str | None,
    type_: str | None = None,
) -> list[Connection[T]]:
    """One-hop connections of many parents with the same arguments (one parent's is
    resolvers.lineage.fields.hop_connection, a batch of one): the arguments and the
    selection are read once, and every page is one load of the batch."""
    args = page_args(first, after)
    check_cursor_shape(args.after, [int])
    after_seq = args.after[0] if args.after else None
    documents = selects_documents(info, "edges", "node")
    count_keys = [(parent, type_) for parent in parents]
    # asked for now, with the pages, so every parent's count lands in one batch
    counted = [counts.load(key) for key in count_keys] if selects_total_count(info) else None
    loads = [
        pages.load(HopKey(parent, args.first, after_seq, type_, documents)) for parent in parents
    ]
    # one after the other: the batch is in, and awaiting a finished future costs nothing
    # (load_many would gather them, a callback each)
    found = await _in_turn(loads)
    totals = await _in_turn(counted) if counted is not None else None
    return [
        Connection.of(
            Page(
                page.rows,
                [[seq] for seq in page.seqs],
                page.has_next,
                _counter(counts, key, None if totals is None else totals[i]),
            ),
            convert,
        )
        for i, (key, page) in enumerate(zip(count_keys, found, strict=True))
    ]


def _counter(
    counts: DataLoader[tuple[int, str | None], int], key: tuple[int, str | None], known: int | None
) -> Callable[[], Awaitable[int]]:
    async def count() -> int:
        return known if known is not None else await counts.load(key)

    return count


async def _in_turn(futures: list[Awaitable[R]]) -> list[R]:
    """The results of loads already batched, awaited one after the other (the batch is
    in after the first; awaiting a finished future costs nothing, where load_many would
    gather them with a callback each). On an error the others' are retrieved too, so none
    is logged as never retrieved."""
    try:
        return [await future for future in futures]
    except Exception:
        for future in futures:
            if isinstance(future, asyncio.Future) and future.done() and not future.cancelled():
                future.exception()
        raise
