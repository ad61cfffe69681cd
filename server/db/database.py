"""The one way code talks to Postgres: a thin wrapper over the asyncpg pool.

Statements are ``Statement`` objects with named parameters (server/db/statements.py),
passed by keyword: ``await db.fetch(RUNS_BY_IDS, ids=[1, 2], member_entity_ids=[])``.
It counts round trips (exported as a Prometheus counter, and read by tests that check
for N+1 queries) and turns connection failures into UNAVAILABLE, so a dead database
gives clients a clear error and the pool reconnects by itself once it is back. Only what
asyncpg raises is judged: an error from the caller's own code inside a transaction (a
blob store bug raising FileNotFoundError, say) passes through as it is, to be reported
as INTERNAL with its traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal, NoReturn

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from server.db.pool import CONNECTION_FAILURES
from server.db.statements import Statement
from server.errors import Unavailable

UNAVAILABLE_MESSAGE = "the database is unreachable; try again shortly"
_PING = Statement("SELECT 1")

# what an asyncpg call may raise when the connection is gone (judged by _lost)
_SUSPECT: tuple[type[BaseException], ...] = (
    *CONNECTION_FAILURES,
    asyncpg.exceptions.InterfaceError,
)

# a connection of our own, or one checked out of the pool
RawConnection = asyncpg.Connection | PoolConnectionProxy
Isolation = Literal["read_committed", "read_uncommitted", "serializable", "repeatable_read"]


def _closed(conn: RawConnection) -> bool:
    try:
        return bool(conn.is_closed())
    except asyncpg.exceptions.InterfaceError:
        # A pooled connection whose server closed it is detached from its proxy at once
        # ("connection has been released back to the pool"); this code only uses a
        # connection while it has it checked out, so nothing else detaches one.
        return True


def _lost(conn: RawConnection | None, exc: BaseException) -> bool:
    """Whether ``exc``, raised by asyncpg, means the database is unreachable or the
    connection to it is gone. A plain InterfaceError also means misuse (a bug), so it
    counts only on a connection that is closed: the error a query gets on a connection
    whose server died since the query before."""
    if isinstance(exc, CONNECTION_FAILURES):
        return True
    return conn is not None and _closed(conn)


def _unavailable(exc: BaseException) -> NoReturn:
    raise Unavailable(UNAVAILABLE_MESSAGE) from exc


class Connection:
    """A connection checked out for a transaction; same query methods as Database."""

    def __init__(self, conn: RawConnection, count: Callable[[], None]) -> None:
        self.raw = conn
        self._count = count

    async def fetch(self, statement: Statement, /, **params: object) -> list[asyncpg.Record]:
        args = statement.args(params)
        self._count()
        try:
            return await self.raw.fetch(statement.text, *args)
        except _SUSPECT as exc:
            if _lost(self.raw, exc):
                _unavailable(exc)
            raise

    async def fetchrow(self, statement: Statement, /, **params: object) -> asyncpg.Record | None:
        args = statement.args(params)
        self._count()
        try:
            return await self.raw.fetchrow(statement.text, *args)
        except _SUSPECT as exc:
            if _lost(self.raw, exc):
                _unavailable(exc)
            raise

    async def fetchval(self, statement: Statement, /, **params: object) -> Any:
        args = statement.args(params)
        self._count()
        try:
            return await self.raw.fetchval(statement.text, *args)
        except _SUSPECT as exc:
            if _lost(self.raw, exc):
                _unavailable(exc)
            raise

    async def execute(self, statement: Statement, /, **params: object) -> str:
        args = statement.args(params)
        self._count()
        try:
            return await self.raw.execute(statement.text, *args)
        except _SUSPECT as exc:
            if _lost(self.raw, exc):
                _unavailable(exc)
            raise

    async def copy_records_to_table(
        self, table: str, *, records: list[tuple[Any, ...]], columns: list[str]
    ) -> None:
        self._count()
        try:
            await self.raw.copy_records_to_table(table, records=records, columns=columns)
        except _SUSPECT as exc:
            if _lost(self.raw, exc):
                _unavailable(exc)
            raise


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
            raw = await self.pool.acquire()
        except _SUSPECT as exc:
            if _lost(None, exc):
                _unavailable(exc)
            raise
        try:
            yield Connection(raw, self._count)
        finally:
            # A connection found closed is dropped and replaced by the pool. One whose
            # socket reset while it was being given back is already back: the pool then
            # says "release() called on a free connection holder", and nothing is left.
            with contextlib.suppress(asyncpg.exceptions.InternalClientError):
                await self.pool.release(raw)

    @asynccontextmanager
    async def transaction(
        self, isolation: Isolation = "read_committed"
    ) -> AsyncIterator[Connection]:
        """One transaction per mutation: everything inside commits or nothing does."""
        async with self.connection() as conn:
            raw = conn.raw
            transaction = raw.transaction(isolation=isolation)
            try:
                await transaction.__aenter__()
            except _SUSPECT as exc:
                if _lost(raw, exc):
                    _unavailable(exc)
                raise
            try:
                yield conn
            except BaseException as exc:
                try:
                    await transaction.__aexit__(type(exc), exc, exc.__traceback__)
                except BaseException:  # noqa: BLE001 - the caller's error is the one to report
                    # The rollback failed (the connection is lost or stalled): close the
                    # connection, which ends the transaction with it, so that the pool
                    # never hands out one still inside it.
                    with contextlib.suppress(asyncpg.exceptions.InterfaceError):  # detached
                        raw.terminate()
                raise
            try:
                await transaction.__aexit__(None, None, None)
            except _SUSPECT as exc:
                # whether the commit happened is unknown: the client retries, and every
                # mutation is safe to run again (a committed commitArtifact answers the
                # same version, a repeated log deduplicates)
                if _lost(raw, exc):
                    _unavailable(exc)
                raise

    async def ping(self) -> None:
        """One round trip to the database (readiness checks)."""
        await self.fetchval(_PING)

    async def fetch(self, statement: Statement, /, **params: object) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            return await conn.fetch(statement, **params)

    async def fetchrow(self, statement: Statement, /, **params: object) -> asyncpg.Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(statement, **params)

    async def fetchval(self, statement: Statement, /, **params: object) -> Any:
        async with self.connection() as conn:
            return await conn.fetchval(statement, **params)

    async def execute(self, statement: Statement, /, **params: object) -> str:
        async with self.connection() as conn:
            return await conn.execute(statement, **params)


# Anything with the query methods: the Database itself or a Connection in a transaction.
Queryable = Database | Connection
