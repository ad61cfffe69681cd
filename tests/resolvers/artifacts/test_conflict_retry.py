"""A mutation Postgres aborts as a deadlock victim runs again inside the server.

The deadlock is made on purpose: another transaction holds the collection's row lock
while commitArtifact holds its version's and waits for the collection; that transaction
then asks for the version. Postgres aborts the commit (it has waited longest, so its
deadlock check runs first); the client must still get its committed version, on either
blob store (the failed attempt had already promoted the uploads).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from server.domain.ids import decode_id_of
from tests.fixtures.artifacts import (
    COMMIT,
    StoreApi,
    artifact_path,
    content,
    download_all,
    log_artifact,
    new_run,
    upload_all,
)


async def _wait_until_blocked_by(conn: asyncpg.Connection, blocker: int) -> None:
    """Until some backend waits for a lock ``blocker`` holds (a condition, with a deadline)."""
    deadline = time.monotonic() + 30
    while not await conn.fetchval(
        "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)))",
        blocker,
    ):
        assert time.monotonic() < deadline, "the commit never waited for the collection lock"
        await asyncio.sleep(0.02)


async def test_a_commit_killed_as_a_deadlock_victim_is_retried_and_commits(
    store_api: StoreApi, make_user: Any, database_url: str
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    files = {"a.bin": content("a"), "b.bin": content("b")}
    payload = await log_artifact(store_api, user.key, run, "ds", files)
    await upload_all(store_api, payload, files)
    version_id = decode_id_of(payload["artifact"]["id"], "Artifact")

    other = await asyncpg.connect(database_url)
    watcher = await asyncpg.connect(database_url)
    try:
        # the other side must not be the one that detects the deadlock
        await other.execute("SET deadlock_timeout = '30s'")
        transaction = other.transaction()
        await transaction.start()
        collection = await other.fetchval(
            """SELECT c.id FROM artifact_collections c
                 JOIN artifact_versions v ON v.collection_id = c.id WHERE v.id = $1
                  FOR UPDATE OF c""",
            version_id,
        )
        assert collection is not None
        commit = asyncio.create_task(
            store_api.gql(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key)
        )
        await _wait_until_blocked_by(watcher, other.get_server_pid())
        # returns once Postgres has aborted the commit's transaction, freeing the version
        await other.execute("SELECT 1 FROM artifact_versions WHERE id = $1 FOR UPDATE", version_id)
        await transaction.rollback()
        result = await commit
    finally:
        await other.close()
        await watcher.close()
    assert "errors" not in result, result["errors"]
    committed = result["data"]["commitArtifact"]
    assert (committed["state"], committed["version"]) == ("COMMITTED", "v0")
    assert await download_all(store_api, user.key, artifact_path(run, "ds", "v0")) == files
