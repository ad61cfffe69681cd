"""RequestDatabase: a request's statements share one pooled connection, which goes back to
the pool at the end of the request, whatever happened in it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from server.db.database import Database, RequestDatabase
from server.db.pool import create_pool
from server.db.statements import Statement

PID = Statement("SELECT pg_backend_pid()")
SLOW_PID = Statement("SELECT pg_backend_pid() FROM pg_sleep(0.05)")
SLEEP = Statement("SELECT pg_sleep(5)")


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=3)
    yield pool
    await pool.close()


def checked_out(pool: asyncpg.Pool) -> int:
    return pool.get_size() - pool.get_idle_size()


async def test_statements_of_a_request_share_one_connection_released_at_close(
    pool: asyncpg.Pool,
) -> None:
    db = Database(pool)
    request_db = RequestDatabase(db)
    first = await request_db.fetchval(PID)
    # sibling resolvers run at the same time: they take turns on the one connection
    pids = await asyncio.gather(*(request_db.fetchval(SLOW_PID) for _ in range(4)))
    assert set(pids) == {first}
    assert checked_out(pool) == 1
    # every statement is counted as a round trip, on the app's counter
    assert db.queries == 5
    await request_db.close()
    assert checked_out(pool) == 0
    # a later request may well get another connection; this one still works after close
    assert isinstance(await request_db.fetchval(PID), int)
    await request_db.close()
    assert checked_out(pool) == 0


async def test_a_transaction_runs_on_the_request_connection(pool: asyncpg.Pool) -> None:
    db = RequestDatabase(Database(pool))
    pid = await db.fetchval(PID)
    table = Statement("CREATE TABLE IF NOT EXISTS request_db_t (x int)")
    await db.execute(table)
    count = Statement("SELECT count(*) FROM request_db_t WHERE x = :x")
    insert = Statement("INSERT INTO request_db_t VALUES (:x)")
    try:
        async with db.transaction() as conn:
            assert await conn.fetchval(PID) == pid
            await conn.execute(insert, x=7)
            # a statement sent through the database meanwhile gets a connection of its own,
            # outside the transaction: it does not see the change yet
            assert await db.fetchval(count, x=7) == 0
        assert await db.fetchval(count, x=7) == 1

        async def fail_inside() -> None:
            async with db.transaction() as conn:
                await conn.execute(insert, x=8)
                raise RuntimeError("the caller's own failure")

        with pytest.raises(RuntimeError):
            await fail_inside()
        # rolled back, and the connection is usable again
        assert await db.fetchval(count, x=8) == 0
        assert await db.fetchval(PID) == pid
    finally:
        await db.execute(Statement("DROP TABLE request_db_t"))
        await db.close()
    assert checked_out(pool) == 0


async def test_a_cancelled_statement_leaves_its_connection_to_nobody_else(
    pool: asyncpg.Pool,
) -> None:
    db = RequestDatabase(Database(pool))
    await db.fetchval(PID)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await db.fetchval(SLEEP)
    # the next statement of the request does not find the stopped one still running
    assert isinstance(await db.fetchval(PID), int)
    assert checked_out(pool) == 1
    await db.close()
    assert checked_out(pool) == 0
