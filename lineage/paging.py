"""Lazy lists over GraphQL connections: iterating pages through them, ``len()`` asks for
``totalCount``, indexing fetches only the pages up to that item. Each page's query
selects every field the items show, so a list costs one request per page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")

PAGE_SIZE = 100

CONNECTION = "totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {fields} }} }}"


def connection(fields: str) -> str:
    """The selection of a connection whose nodes select ``fields``."""
    return CONNECTION.format(fields=fields)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    end_cursor: str | None
    has_next: bool
    total: int


def page_of(conn: dict[str, Any], make: Callable[[dict[str, Any]], T]) -> Page[T]:
    """A page from a connection's answer (see ``connection``)."""
    return Page(
        [make(edge["node"]) for edge in conn["edges"]],
        conn["pageInfo"]["endCursor"],
        bool(conn["pageInfo"]["hasNextPage"]),
        int(conn["totalCount"]),
    )


class PagedList(Generic[T]):
    """A read-only sequence fetched page by page as it is used.

    ``fetch(after, first)`` returns one page. Items fetched are kept, so iterating twice
    asks the server once."""

    def __init__(
        self, fetch: Callable[[str | None, int], Page[T]], page_size: int = PAGE_SIZE
    ) -> None:
        self._fetch = fetch
        self._page_size = page_size
        self._items: list[T] = []
        self._cursor: str | None = None
        self._more = True
        self._total: int | None = None

    def _next_page(self) -> None:
        page = self._fetch(self._cursor, self._page_size)
        self._items.extend(page.items)
        self._cursor, self._more, self._total = page.end_cursor, page.has_next, page.total

    def _fill(self, count: int | None) -> None:
        """Fetch until ``count`` items are held (all of them for None)."""
        while self._more and (count is None or len(self._items) < count):
            self._next_page()

    def __iter__(self) -> Iterator[T]:
        index = 0
        while True:
            if index >= len(self._items):
                if not self._more:
                    return
                self._next_page()
                continue
            yield self._items[index]
            index += 1

    def __len__(self) -> int:
        if self._total is None:
            self._next_page()
        assert self._total is not None
        return self._total

    def __bool__(self) -> bool:
        return len(self) > 0

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            start, stop, step = index.start, index.stop, index.step
            if any(i is not None and i < 0 for i in (start, stop)):
                self._fill(None)
            else:
                self._fill(stop)
            return self._items[slice(start, stop, step)]
        if index < 0:
            self._fill(None)
        else:
            self._fill(index + 1)
        return self._items[index]

    def __repr__(self) -> str:
        total = "?" if self._total is None else self._total
        return f"<PagedList of {total}, {len(self._items)} fetched>"
