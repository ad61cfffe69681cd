"""Loading the lineage benchmark's graph: a fresh database, the service's migrations and
user, the generated tables COPYed in (bench/lineage_graph.py), and the start nodes."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

import asyncpg
import lineage_queries as lq
from _common import timed
from lineage_graph import COLUMNS, Entities, Generated, generate

from server.db.database import Database
from server.db.migrations import apply_migrations
from server.db.pool import create_pool
from server.domain import accounts

SEED = 20240611
ENTITY_NAMES = {"viewer": "bench", "public": "public-org", "hidden": "hidden-org"}


async def fresh_database(server_url: str, name: str) -> str:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, query = server_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


async def make_entities(url: str, conn: asyncpg.Connection) -> tuple[Entities, str]:
    """The benchmark user (via the service's own create_user) and two teams; its API key."""
    pool = await create_pool(url, min_size=1, max_size=1)
    try:
        user, key = await accounts.create_user(Database(pool), ENTITY_NAMES["viewer"])
    finally:
        await pool.close()
    async with conn.transaction():
        teams = [
            await conn.fetchval(
                "INSERT INTO entities (name, is_team) VALUES ($1, true) RETURNING id",
                ENTITY_NAMES[k],
            )
            for k in ("public", "hidden")
        ]
    return Entities(user.entity_id, teams[0], teams[1]), key.key


async def copy_tables(conn: asyncpg.Connection, generated: Generated) -> None:
    # Rows are consistent by construction: skip the per-row foreign key triggers when
    # allowed (superuser, as with the embedded server); otherwise they just run.
    with contextlib.suppress(asyncpg.PostgresError):
        await conn.execute("SET session_replication_role = replica")
    for table, columns in COLUMNS.items():
        rows = getattr(generated.tables, table)
        await conn.copy_records_to_table(table, records=rows, columns=columns)
        if "id" in columns:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
    await conn.execute("RESET session_replication_role")


async def build_database(
    server_url: str, size: str
) -> tuple[str, str, Generated, dict[str, float]]:
    """A fresh database with the graph of ``size``: (url, api key, graph, phase seconds)."""
    phases: dict[str, float] = {}
    url = await fresh_database(server_url, f"lineage_bench_{size}")
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        await apply_migrations(conn)
        entities, key = await make_entities(url, conn)
        phases["migrate"] = time.perf_counter() - started
        phases["generate"], generated = await timed(
            lambda: asyncio.to_thread(generate, size, SEED, entities)
        )
        phases["copy"], _ = await timed(lambda: copy_tables(conn, generated))
        phases["vacuum analyze"], _ = await timed(lambda: conn.execute("VACUUM ANALYZE"))
        # write the load's dirty pages out now, not in a checkpoint during the measurements
        # (needs superuser or pg_checkpoint, as with the embedded server; else skipped)
        with contextlib.suppress(asyncpg.PostgresError):
            await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    return url, key, generated, phases


def pick_starts(
    generated: Generated, entities: dict[int, str], count: int
) -> tuple[list[lq.Start], list[lq.Start]]:
    """(ordinary, popular): popular = the ``count`` most used readable versions;
    ordinary = ``count`` other readable versions drawn at random (fixed seed)."""
    t = generated.tables
    projects = {p[0]: p for p in t.projects}
    collections = {c[0]: c[2] for c in t.artifact_collections}
    viewer = next(i for i, n in entities.items() if n == ENTITY_NAMES["viewer"])

    def start(v: tuple[Any, ...]) -> lq.Start:
        project = projects[v[2]]
        return lq.Start(
            v[0],
            entities[project[1]],
            project[2],
            collections[v[1]],
            v[3],
            generated.use_count[v[0]],
        )

    readable = [
        v
        for v in t.artifact_versions
        if projects[v[2]][3] != "PRIVATE" or projects[v[2]][1] == viewer
    ]
    by_use = sorted(readable, key=lambda v: (-generated.use_count[v[0]], v[0]))
    popular = [start(v) for v in by_use[:count]]
    rest = by_use[count:]
    ordinary = [start(v) for v in random.Random(SEED).sample(rest, count)]
    return ordinary, popular
