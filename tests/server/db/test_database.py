"""Database: a lost connection is UNAVAILABLE; the caller's own errors stay what they are."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from server.db.database import Database, RawConnection
from server.db.pool import create_pool
from server.db.statements import Statement
from server.errors import Unavailable


@pytest.fixture(params=[0, 1], ids=["pooled", "kept"])
async def own_db(database_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """Connections given back after each statement, or one kept for the next (the server's)."""
    pool = await create_pool(database_url, min_size=1, max_size=2)
    db = Database(pool, keep_idle=request.param)
    yield db
    await db.release_idle()
    await asyncio.wait_for(pool.close(), 10)


async def _kill_backend_of(conn: RawConnection, database_url: str) -> None:
    """Terminate the server process of ``conn``, and wait until the client has seen it."""
    pid = conn.get_server_pid()
    closed = asyncio.get_running_loop().create_future()
    conn.add_termination_listener(lambda _: closed.set_result(None))
    admin = await asyncpg.connect(database_url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.wait_for(closed, 10)


async def test_an_oserror_from_the_callers_code_is_not_an_outage(own_db: Database) -> None:
    """A blob store bug (FileNotFoundError) inside a transaction is reported as itself, with
    its traceback, and the transaction is rolled back."""
    table = f"t_{int(time.time() * 1e6)}"
    await own_db.execute(Statement(f"CREATE TABLE {table} (x int)"))

    async def insert_then_fail() -> None:
        async with own_db.transaction() as conn:
            await conn.execute(Statement(f"INSERT INTO {table} VALUES (1)"))
            raise FileNotFoundError("staging/1/abc")

    try:
        with pytest.raises(FileNotFoundError):
            await insert_then_fail()
        assert await own_db.fetchval(Statement(f"SELECT count(*) FROM {table}")) == 0
    finally:
        await own_db.execute(Statement(f"DROP TABLE {table}"))


async def test_a_query_on_a_connection_whose_server_died_is_unavailable(
    own_db: Database, database_url: str
) -> None:
    async with own_db.connection() as conn:
        await conn.fetchval(Statement("SELECT 1"))
        await _kill_backend_of(conn.raw, database_url)
        with pytest.raises(Unavailable):
            await conn.fetchval(Statement("SELECT 1"))
    # the pool replaced the dead connection
    assert await own_db.fetchval(Statement("SELECT 2")) == 2


async def test_a_transaction_whose_server_died_is_unavailable(
    own_db: Database, database_url: str
) -> None:
    """Not asyncpg's InterfaceError from the rollback on the closed connection."""

    async def lose_the_server_midway() -> None:
        async with own_db.transaction() as conn:
            await conn.fetchval(Statement("SELECT 1"))
            await _kill_backend_of(conn.raw, database_url)
            await conn.fetchval(Statement("SELECT 1"))

    with pytest.raises(Unavailable):
        await lose_the_server_midway()
    assert await own_db.fetchval(Statement("SELECT 3")) == 3


@pytest.mark.parametrize("keep", [0, 1], ids=["pooled", "kept"])
async def test_a_connection_aborted_while_checked_out_gives_its_pool_slot_back(
    database_url: str, keep: int
) -> None:
    """asyncpg before 0.32 returned early when given back a connection its protocol had
    aborted (it does so itself when the server's socket dies under a cancellation), and
    the pool slot stayed taken for good: after max_size such losses every query waited
    forever, and shutdown hung in Pool.close (seen in the embedded-Postgres restart test,
    7 runs in 30 with asyncpg 0.30, none in 30 with 0.32). Hence asyncpg >= 0.32."""
    pool = await create_pool(database_url, min_size=0, max_size=1)
    db = Database(pool, keep_idle=keep)
    try:
        async with db.connection() as conn:
            raw: Any = conn.raw
            raw._con._protocol.abort()
        # the pool's only slot answers again, and the pool closes
        assert await asyncio.wait_for(db.fetchval(Statement("SELECT 1")), 10) == 1
        await db.release_idle()
        await asyncio.wait_for(pool.close(), 10)
    finally:
        pool.terminate()


@pytest.mark.parametrize("keep", [0, 1], ids=["pooled", "kept"])
async def test_a_socket_reset_as_the_connection_is_given_back_is_no_error(
    database_url: str, keep: int
) -> None:
    """The reset lands between Database giving the connection back and the pool taking
    it: asyncpg has already freed the slot, and its release then says so
    (InternalClientError), which must not fail the request that used the connection."""
    pool = await create_pool(database_url, min_size=0, max_size=1)
    db = Database(pool, keep_idle=keep)
    try:
        async with db.connection() as conn:
            raw: Any = conn.raw
            raw._con._transport.abort()  # connection_lost runs on the loop's next turn
        assert await asyncio.wait_for(db.fetchval(Statement("SELECT 1")), 10) == 1
    finally:
        pool.terminate()


PID = Statement("SELECT pg_backend_pid()")


async def test_a_kept_connection_runs_the_next_statement(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=4)
    db = Database(pool, keep_idle=1)
    try:
        first = await db.fetchval(PID)
        assert await db.fetchval(PID) == first
        assert db.idle_kept == 1
        # a transaction takes it too, and it is kept after the commit, outside any transaction
        async with db.transaction() as conn:
            assert await conn.fetchval(PID) == first
        assert db.idle_kept == 1
        assert await db.fetchval(Statement("SELECT now() = statement_timestamp()")) is False
        # concurrent statements: the others go back to the pool
        pids = await asyncio.gather(
            *(
                db.fetchval(Statement("SELECT pg_backend_pid() FROM pg_sleep(0.05)"))
                for _ in range(3)
            )
        )
        assert len(set(pids)) == 3
        assert db.idle_kept == 1
        assert pool.get_idle_size() >= 2
    finally:
        await db.release_idle()
        await asyncio.wait_for(pool.close(), 10)


async def test_a_failed_statement_gives_its_connection_back_to_the_pool(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    db = Database(pool, keep_idle=1)
    try:
        with pytest.raises(asyncpg.exceptions.DivisionByZeroError):
            await db.fetchval(Statement("SELECT 1 / 0"))
        assert db.idle_kept == 0
        with pytest.raises(asyncpg.exceptions.DivisionByZeroError):
            async with db.transaction() as conn:
                await conn.execute(Statement("SELECT 1 / 0"))
        assert db.idle_kept == 0
        assert await db.fetchval(Statement("SELECT 4")) == 4
    finally:
        await db.release_idle()
        await asyncio.wait_for(pool.close(), 10)


async def test_a_kept_connection_is_not_reused_once_expired_or_dead(database_url: str) -> None:
    """After expire_connections (the embedded Postgres restarted) the next statement runs
    on a new connection, as it would from the pool; a kept connection whose server died
    is replaced without an error."""
    pool = await create_pool(database_url, min_size=1, max_size=2)
    db = Database(pool, keep_idle=1)
    try:
        first = await db.fetchval(PID)
        await pool.expire_connections()
        second = await db.fetchval(PID)
        assert second != first
        assert db.idle_kept == 1
        async with db.connection() as conn:
            kept = conn.raw
        assert db.idle_kept == 1
        await _kill_backend_of(kept, database_url)
        third = await db.fetchval(PID)
        assert third not in (first, second)
    finally:
        await db.release_idle()
        await asyncio.wait_for(pool.close(), 10)


async def test_release_idle_lets_the_pool_close(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    db = Database(pool, keep_idle=1)
    await db.fetchval(PID)
    assert db.idle_kept == 1
    await db.release_idle()
    assert db.idle_kept == 0
    await db.fetchval(PID)  # nothing kept after release_idle
    assert db.idle_kept == 0
    await asyncio.wait_for(pool.close(), 5)
