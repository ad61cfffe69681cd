"""Relay pagination with keyset cursors (never OFFSET), batched over many parents.

A cursor is the sort key of the last row seen, encoded opaquely; the next page is the
rows strictly after it in the page's order, which stays stable under inserts.

Every list is read for many parents at once (the DataLoaders in server/loaders.py call
``pages_by_parent``): a page of projects for each of 20 entities, or of runs for each of
20 projects, is one statement, not 20.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from server.errors import BadUserInput

if TYPE_CHECKING:
    import asyncpg

    from server.db.database import Queryable
    from server.db.statements import Statement

DEFAULT_FIRST = 50
MAX_FIRST = 1000
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

T = TypeVar("T")


@dataclass(frozen=True)
class PageArgs:
    first: int
    after: list[Any] | None


def page_args(first: int | None, after: str | None) -> PageArgs:
    if first is None:
        first = DEFAULT_FIRST
    if first < 0 or first > MAX_FIRST:
        raise BadUserInput(f"first must be between 0 and {MAX_FIRST}, got {first}")
    return PageArgs(first, decode_cursor(after) if after is not None else None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    return value


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps([_jsonable(v) for v in key], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Cursors we hand out are a few sort keys; anything longer is forged.
MAX_CURSOR_CHARS = 4096


def decode_cursor(cursor: str) -> list[Any]:
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError
        for value in values:
            # strings reach SQL parameters: no NUL, no unpaired surrogate
            if isinstance(value, str) and "\x00" in value:
                raise ValueError
            if isinstance(value, str):
                value.encode("utf-8")
        return [_restore(v) for v in values]
    except (binascii.Error, ValueError, UnicodeError, TypeError, RecursionError):
        raise BadUserInput(
            f"invalid cursor {cursor[:40]!r}: pass an endCursor from an earlier page"
        ) from None


def cursor_params(after: Sequence[Any] | None) -> dict[str, Any]:
    """The parameters of a keyset condition (``sql.pagination.keyset_after``) for a
    cursor's values; none without a cursor."""
    return {f"after_{i}": value for i, value in enumerate(after or ())}


@dataclass
class Page(Generic[T]):
    """One page of a connection; ``count`` runs only when totalCount is asked for."""

    items: list[T]
    keys: list[Sequence[Any]]
    has_next: bool
    count: Callable[[], Awaitable[int]] = field(repr=False)


def check_cursor_shape(after: list[Any] | None, types: Sequence[type | tuple[type, ...]]) -> None:
    if after is None:
        return
    if len(after) != len(types) or not all(
        isinstance(v, t) and not (isinstance(v, bool) and t is int)
        for v, t in zip(after, types, strict=True)
    ):
        raise BadUserInput("invalid cursor: it belongs to another list or ordering")
    # cursors come from the client: a forged number must not reach Postgres out of range
    if any(isinstance(v, int) and not _INT64_MIN <= v <= _INT64_MAX for v in after):
        raise BadUserInput("invalid cursor: pass an endCursor from an earlier page")


@dataclass(frozen=True)
class PageKey:
    """One parent's page request. Requests equal but for the parent share a statement."""

    parent: int
    first: int
    after: tuple[Any, ...] | None = None
    # whatever else selects or orders the rows: a type filter, an ordering, a prefix
    shape: Hashable = None


def page_key(parent: int, page: PageArgs, shape: Hashable = None) -> PageKey:
    after = tuple(page.after) if page.after is not None else None
    return PageKey(parent, page.first, after, shape)


@dataclass
class Slice(Generic[T]):
    """A page without its count (counts are loaded apart, and only when selected)."""

    items: list[T]
    keys: list[Sequence[Any]]
    has_next: bool

    def with_count(self, count: Callable[[], Awaitable[int]]) -> Page[T]:
        return Page(self.items, self.keys, self.has_next, count)


@dataclass(frozen=True)
class OnePage:
    """How to read a page of each parent, for ``pages_by_parent``: a statement made by
    ``sql.pagination.by_parent`` and its parameters besides ``parents`` and ``page_size``."""

    statement: Statement
    params: dict[str, Any]


async def pages_by_parent(
    db: Queryable, keys: Sequence[PageKey], one_page: Callable[[PageKey], OnePage]
) -> list[tuple[list[asyncpg.Record], bool]]:
    """Each key's rows (at most ``first``, in order) and whether more follow: one
    statement per group of keys that differ only in the parent."""
    groups: dict[tuple[int, Any, Hashable], list[int]] = defaultdict(list)
    for key in keys:
        groups[(key.first, key.after, key.shape)].append(key.parent)
    found: dict[PageKey, tuple[list[asyncpg.Record], bool]] = {}
    for (first, after, shape), parents in groups.items():
        page = one_page(PageKey(parents[0], first, after, shape))
        rows = await db.fetch(
            page.statement, parents=sorted(set(parents)), page_size=first + 1, **page.params
        )
        by_parent: dict[int, list[asyncpg.Record]] = defaultdict(list)
        for row in rows:
            by_parent[row["page_parent"]].append(row)
        for parent in parents:
            got = by_parent.get(parent, [])
            found[PageKey(parent, first, after, shape)] = (got[:first], len(got) > first)
    return [found[key] for key in keys]
