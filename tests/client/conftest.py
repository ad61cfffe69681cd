"""The client against a real ``lineage serve`` process: its own database on the session's
embedded Postgres, a folder store in a temp dir, S3 references on the moto server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

import lineage
from server.db.database import Database
from server.db.migrations import apply_migrations
from server.db.pool import create_pool
from server.domain import accounts
from tests.client.serve import ServeProcess, start_serve
from tests.fixtures.service import Account, unique

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
async def client_database_url(fresh_database: Callable[[str], Awaitable[str]]) -> str:
    url = await fresh_database("lineage_client")
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()
    return url


@pytest.fixture(scope="session")
async def client_db(client_database_url: str) -> AsyncIterator[Database]:
    pool = await create_pool(client_database_url, min_size=1, max_size=2)
    yield Database(pool)
    await pool.close()


@pytest.fixture(scope="session")
def serve_env(client_database_url: str, moto_server: str) -> dict[str, str]:
    """What ``lineage serve`` runs with (besides --data-dir and --port)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env.update(
        DATABASE_URL=client_database_url,
        S3_ENDPOINT_URL=moto_server,
        LINEAGE_SECRET="client-test-secret",
        PYTHONPATH=str(ROOT),
    )
    env.pop("STORAGE_URL", None)
    return env


@contextmanager
def lasting_dir(prefix: str) -> Iterator[Path]:
    """A temp dir outside pytest's basetemp: concurrent pytest sessions prune each other's
    old basetemp folders, and a server's data dir must outlive this whole session."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def server(serve_env: dict[str, str]) -> Iterator[ServeProcess]:
    with lasting_dir("lineage-client-serve-") as data_dir:
        process = start_serve(data_dir, serve_env)
        yield process
        process.stop()


async def _new_account(db: Database, name: str) -> Account:
    _, issued = await accounts.create_user(db, name)
    return Account(name, issued.key, issued.key_id)


@pytest.fixture(scope="session")
def make_account(client_db: Database) -> Callable[..., Awaitable[Account]]:
    async def make(name: str | None = None) -> Account:
        return await _new_account(client_db, name or unique("c"))

    return make


@pytest.fixture
async def account(make_account: Callable[..., Awaitable[Account]]) -> Account:
    return await make_account()


@pytest.fixture(autouse=True)
def client_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, moto_server: str
) -> dict[str, str]:
    """No stored login, a fresh download cache, S3 references read from moto."""
    values = {
        "LINEAGE_CONFIG_DIR": str(tmp_path_factory.mktemp("config")),
        "LINEAGE_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        "AWS_ENDPOINT_URL": moto_server,
        "LINEAGE_SILENT": "1",
    }
    for name in ("LINEAGE_BASE_URL", "LINEAGE_API_KEY", "LINEAGE_ENTITY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def api(server: ServeProcess, account: Account) -> Iterator[lineage.Api]:
    with lineage.Api(base_url=server.url, api_key=account.key) as client:
        yield client


@pytest.fixture
def run_client(
    server: ServeProcess, client_env: dict[str, str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a Python script or the ``lineage`` command as a user would, in a subprocess."""

    def run(
        args: list[str],
        key: str | None,
        cwd: Path,
        extra_env: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **client_env, "LINEAGE_BASE_URL": server.url, "PYTHONPATH": str(ROOT)}
        if key:
            env["LINEAGE_API_KEY"] = key
        env.update(extra_env or {})
        return subprocess.run(
            args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    return run


def lineage_cli() -> list[str]:
    return [sys.executable, "-m", "lineage.cli"]
