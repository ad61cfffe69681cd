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


def _can_keep() -> bool:
    """Whether asyncpg's pool still has the attributes ``_reusable`` reads (checked once,
    at import: without them no connection is kept between statements)."""
    from asyncpg.pool import Pool, PoolConnectionHolder

    def slots(cls: type) -> set[str]:
        return set(getattr(cls, "__slots__", ()))

    return (
        {"_con", "_holder"} <= slots(PoolConnectionProxy)
        and "_generation" in slots(PoolConnectionHolder)
        and "_generation" in slots(Pool)
    )


_CAN_KEEP = _can_keep()


def _reusable(raw: Any, pool: Any) -> bool:
    """Whether a kept connection may run the next statement, as the pool would check on
    acquiring it: still open, and not from before ``expire_connections`` (the embedded
    Postgres was restarted) nor of a pool that is closing."""
    con = raw._con
    return (
        con is not None
        and not con.is_closed()
        and raw._holder._generation == pool._generation
        and not pool.is_closing()
    )


class Database:
    """Statements run on connections from the asyncpg pool.

    With ``keep_idle`` (the server's), a connection that just ran a statement without error
    stays checked out, up to ``keep_idle`` of them, for the next statement: asyncpg's
    acquire and release (a queue, a future, a timer, a task for the shielded release) cost
    about 25 us a statement, a third of a small statement's client-side CPU. A kept
    connection is checked as the pool checks one it hands out (open, not expired); any
    error gives the connection back to the pool, which resets or replaces it, exactly as
    before. ``release_idle`` gives the kept ones back (before the pool closes). Holding one
    connection for a whole request instead was tried: 4-22% less throughput.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        on_query: Callable[[], None] | None = None,
        *,
        keep_idle: int = 0,
    ) -> None:
        self.pool = pool
        self.queries = 0
        self._on_query = on_query
        self._idle: list[Any] = []
        self._keep_idle = keep_idle if _CAN_KEEP else 0

    @property
    def idle_kept(self) -> int:
        """Connections kept checked out for the next statement (idle, but not in the pool)."""
        return len(self._idle)

    def _count(self) -> None:
        self.queries += 1
        if self._on_query is not None:
            self._on_query()

    async def _checkout(self) -> Any:
        idle = self._idle
        while idle:
            raw = idle.pop()
            if _reusable(raw, self.pool):
                return raw
            await self._give_back(raw)  # the pool closes it, and opens another later
        try:
            return await self.pool.acquire()
        except _SUSPECT as exc:
            if _lost(None, exc):
                _unavailable(exc)
            raise

    async def _give_back(self, raw: Any) -> None:
        """Return ``raw`` to the pool (a connection found closed is dropped and replaced)."""
        # One whose socket reset while it was being given back is already back: the pool
        # then says "release() called on a free connection holder", and nothing is left.
        with contextlib.suppress(asyncpg.exceptions.InternalClientError):
            await self.pool.release(raw)

    def _keeps(self, raw: Any) -> bool:
        """Whether to keep ``raw``, which just finished without error, for the next statement."""
        if len(self._idle) >= self._keep_idle:
            return False
        con = raw._con  # None once the pool detached it (its server closed it)
        return con is not None and not con.is_closed() and not con.is_in_transaction()

    async def _checkin(self, raw: Any) -> None:
        """Keep ``raw``, which just finished without error, or give it back to the pool."""
        if self._keeps(raw):
            self._idle.append(raw)
        else:
            await self._give_back(raw)

    async def release_idle(self) -> None:
        """Give every kept connection back to the pool, and keep none from now on."""
        self._keep_idle = 0
        idle, self._idle = self._idle, []
        for raw in idle:
            await self._give_back(raw)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        raw = await self._checkout()
        try:
            yield Connection(raw, self._count)
        except BaseException:
            # a connection found closed is dropped and replaced by the pool
            await self._give_back(raw)
            raise
        await self._checkin(raw)

    async def _run(self, method: str, statement: Statement, params: dict[str, object]) -> Any:
        """One statement, as ``Connection.<method>`` runs it, on a pooled connection."""
        args = statement.args(params)
        raw = await self._checkout()
        self._count()
        try:
            result = await getattr(raw, method)(statement.text, *args)
        except BaseException as exc:
            lost = isinstance(exc, _SUSPECT) and _lost(raw, exc)  # judged while checked out
            await self._give_back(raw)
            if lost:
                _unavailable(exc)
            raise
        await self._checkin(raw)
        return result

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
        rows: list[asyncpg.Record] = await self._run("fetch", statement, params)
        return rows

    async def fetchrow(self, statement: Statement, /, **params: object) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._run("fetchrow", statement, params)
        return row

    async def fetchval(self, statement: Statement, /, **params: object) -> Any:
        return await self._run("fetchval", statement, params)

    async def execute(self, statement: Statement, /, **params: object) -> str:
        status: str = await self._run("execute", statement, params)
        return status


# Anything with the query methods: the Database itself or a Connection in a transaction.
Queryable = Database | Connection
