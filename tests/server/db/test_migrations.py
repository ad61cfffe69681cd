"""Migrations: each numbered file applied once, even when two servers start together."""

from __future__ import annotations

import asyncio
import uuid
from importlib import resources
from typing import Any

import asyncpg
import pytest

from server.db.migrations import apply_migrations, load_migrations


def migration_files() -> list[tuple[int, str]]:
    files = resources.files("server.db").joinpath("migrations").iterdir()
    found = sorted(
        (int(f.name[:4]), f.name[5:-4])
        for f in files
        if f.name.endswith(".sql") and f.name[:4].isdigit()
    )
    assert found, "no migration files found"
    return found


async def migrate_up_to(conn: asyncpg.Connection, last: int) -> None:
    """The database as the service left it after migration ``last``, as an older release
    would have: every file up to it applied and recorded."""
    await conn.execute(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for migration in load_migrations():
        if migration.version <= last:
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2)", migration.version, migration.name
            )


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


async def test_edge_project_ids_are_filled_in_for_edges_recorded_before_0003(
    fresh_database: Any,
) -> None:
    """A database at 0002 with a cross-project use gets both ends' projects on each edge."""
    url = await fresh_database(f"lineage_mig_{uuid.uuid4().hex[:8]}")
    conn = await asyncpg.connect(url)
    try:
        await migrate_up_to(conn, 2)
        await conn.execute(
            """INSERT INTO entities (id, name, is_team) VALUES (1, 'e', true);
               INSERT INTO projects (id, entity_id, name) VALUES (10, 1, 'data'), (20, 1, 'train');
               INSERT INTO runs (id, project_id, run_id) VALUES (100, 10, 'prep'), (200, 20, 'fit');
               INSERT INTO artifact_collections (id, project_id, name, type)
                    VALUES (1000, 10, 'corpus', 'dataset');
               INSERT INTO artifact_versions (id, collection_id, project_id, version_index,
                                              state, digest, logged_by)
                    VALUES (5, 1000, 10, 0, 'COMMITTED', 'd', 100);
               INSERT INTO artifact_logs (run_id, version_id) VALUES (100, 5);
               INSERT INTO artifact_uses (version_id, run_id) VALUES (5, 200);"""
        )
        assert await apply_migrations(conn) == [version for version, _ in migration_files()[2:]]
        edges = await conn.fetch(
            """SELECT 'logged' AS kind, run_project_id, version_project_id FROM artifact_logs
               UNION ALL
               SELECT 'used', run_project_id, version_project_id FROM artifact_uses ORDER BY 1"""
        )
        assert [tuple(e) for e in edges] == [("logged", 10, 10), ("used", 20, 10)]
    finally:
        await conn.close()


async def test_versions_get_their_collections_name_and_type_in_0012_and_keep_them_equal(
    fresh_database: Any,
) -> None:
    """A database at 0010 gets each version's collection name and type copied onto it, and
    from then on a version whose copies differ from its collection's is refused."""
    url = await fresh_database(f"lineage_mig_{uuid.uuid4().hex[:8]}")
    conn = await asyncpg.connect(url)
    try:
        await migrate_up_to(conn, 10)
        await conn.execute(
            """INSERT INTO entities (id, name, is_team) VALUES (1, 'e', true);
               INSERT INTO projects (id, entity_id, name) VALUES (10, 1, 'data');
               INSERT INTO runs (id, project_id, run_id) VALUES (100, 10, 'prep');
               INSERT INTO artifact_collections (id, project_id, name, type)
                    VALUES (1000, 10, 'corpus', 'dataset'), (1001, 10, 'bert', 'model');
               INSERT INTO artifact_versions (id, collection_id, project_id, version_index,
                                              state, digest, logged_by)
                    VALUES (5, 1000, 10, 0, 'COMMITTED', 'd', 100),
                           (6, 1000, 10, 1, 'COMMITTED', 'e', 100),
                           (7, 1001, 10, 0, 'COMMITTED', 'f', 100);"""
        )
        assert await apply_migrations(conn) == [v for v, _ in migration_files() if v >= 12]
        rows = await conn.fetch("SELECT id, name, type FROM artifact_versions ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (5, "corpus", "dataset"),
            (6, "corpus", "dataset"),
            (7, "bert", "model"),
        ]
        insert = """INSERT INTO artifact_versions (id, collection_id, name, type, project_id,
                                                   state, digest, logged_by)
                    VALUES (8, 1000, $1, $2, 10, 'PENDING', 'g', 100)"""
        for name, type_ in (("bert", "dataset"), ("corpus", "model"), ("other", "dataset")):
            with pytest.raises(asyncpg.ForeignKeyViolationError):
                await conn.execute(insert, name, type_)
        with pytest.raises(asyncpg.NotNullViolationError):
            await conn.execute(insert, None, "dataset")
        await conn.execute(insert, "corpus", "dataset")
        assert await conn.fetchval("SELECT count(*) FROM artifact_versions") == 4
    finally:
        await conn.close()
