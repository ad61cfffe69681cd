"""The one way code talks to Postgres: a thin wrapper over the asyncpg pool.

It counts round trips (exported as a Prometheus counter, and read by tests that check
for N+1 queries) and turns connection failures into UNAVAILABLE, so a dead database
gives clients a clear error and the pool reconnects by itself once it is back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from server.db.pool import UNAVAILABLE_ERRORS
from server.errors import Unavailable

UNAVAILABLE_MESSAGE = "the database is unreachable; try again shortly"


class Connection:
    """A connection checked out for a transaction; same query methods as Database."""

    def __init__(self, conn: asyncpg.Connection, count: Callable[[], None]) -> None:
        self.raw = conn
        self._count = count

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self._count()
        return await self.raw.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        self._count()
        return await self.raw.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self._count()
        return await self.raw.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        self._count()
        return await self.raw.execute(sql, *args)

    async def executemany(self, sql: str, args: list[tuple[Any, ...]]) -> None:
        self._count()
        await self.raw.executemany(sql, args)


class Database:
    def __init__(self, pool: asyncpg.Pool, on_query: Callable[[], None] | None = None) -> None:
        self.pool = pool
        self.queries = 0
        self._on_query = on_query

    def _count(self) -> None:
        self.queries += 1
        if self._on_query is not None:
            self._on_query()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        try:
            async with self.pool.acquire() as conn:
                yield Connection(conn, self._count)
        except UNAVAILABLE_ERRORS as exc:
            raise Unavailable(UNAVAILABLE_MESSAGE) from exc

    @asynccontextmanager
    async def transaction(self, isolation: str = "read_committed") -> AsyncIterator[Connection]:
        """One transaction per mutation: everything inside commits or nothing does."""
        try:
            async with self.pool.acquire() as conn, conn.transaction(isolation=isolation):
                yield Connection(conn, self._count)
        except UNAVAILABLE_ERRORS as exc:
            raise Unavailable(UNAVAILABLE_MESSAGE) from exc

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            return await conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self.connection() as conn:
            return await conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        async with self.connection() as conn:
            return await conn.execute(sql, *args)


# Anything with the query methods: the Database itself or a Connection in a transaction.
Queryable = Database | Connection
