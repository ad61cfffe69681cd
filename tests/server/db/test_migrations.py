"""Migrations: each numbered file applied once, even when two servers start together."""

from __future__ import annotations

import asyncio
import uuid
from importlib import resources
from typing import Any

import asyncpg

from server.db.migrations import apply_migrations


def migration_files() -> list[tuple[int, str]]:
    files = resources.files("server.db").joinpath("migrations").iterdir()
    found = sorted(
        (int(f.name[:4]), f.name[5:-4])
        for f in files
        if f.name.endswith(".sql") and f.name[:4].isdigit()
    )
    assert found, "no migration files found"
    return found


async def test_two_servers_migrating_one_new_database_apply_each_file_once(
    fresh_database: Any,
) -> None:
    url = await fresh_database(f"lineage_mig_{uuid.uuid4().hex[:8]}")
    first, second = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        applied = await asyncio.gather(apply_migrations(first), apply_migrations(second))
        expected = [version for version, _ in migration_files()]
        # one of them applied everything, the other nothing, and neither failed
        assert sorted(applied, key=len) == [[], expected]
        rows = await first.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == migration_files()
        # the schema is really there
        assert await first.fetchval("SELECT to_regclass('runs') IS NOT NULL")
        # and starting again applies nothing
        assert await apply_migrations(second) == []
        assert await first.fetchval("SELECT count(*) FROM schema_migrations") == len(expected)
    finally:
        await first.close()
        await second.close()
