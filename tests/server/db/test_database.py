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


@pytest.fixture
async def own_db(database_url: str) -> AsyncIterator[Database]:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    yield Database(pool)
    await pool.close()


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


async def test_a_connection_aborted_while_checked_out_gives_its_pool_slot_back(
    database_url: str,
) -> None:
    """asyncpg before 0.32 returned early when given back a connection its protocol had
    aborted (it does so itself when the server's socket dies under a cancellation), and
    the pool slot stayed taken for good: after max_size such losses every query waited
    forever, and shutdown hung in Pool.close (seen in the embedded-Postgres restart test,
    7 runs in 30 with asyncpg 0.30, none in 30 with 0.32). Hence asyncpg >= 0.32."""
    pool = await create_pool(database_url, min_size=0, max_size=1)
    db = Database(pool)
    try:
        async with db.connection() as conn:
            raw: Any = conn.raw
            raw._con._protocol.abort()
        # the pool's only slot answers again, and the pool closes
        assert await asyncio.wait_for(db.fetchval(Statement("SELECT 1")), 10) == 1
        await asyncio.wait_for(pool.close(), 10)
    finally:
        pool.terminate()


async def test_a_socket_reset_as_the_connection_is_given_back_is_no_error(
    database_url: str,
) -> None:
    """The reset lands between Database giving the connection back and the pool taking
    it: asyncpg has already freed the slot, and its release then says so
    (InternalClientError), which must not fail the request that used the connection."""
    pool = await create_pool(database_url, min_size=0, max_size=1)
    db = Database(pool)
    try:
        async with db.connection() as conn:
            raw: Any = conn.raw
            raw._con._transport.abort()  # connection_lost runs on the loop's next turn
        assert await asyncio.wait_for(db.fetchval(Statement("SELECT 1")), 10) == 1
    finally:
        pool.terminate()
