"""TTLs and deletion: versions become tombstones that keep their place in the graph.

A tombstone keeps its name, index, digest and lineage edges; its manifest, metadata and
aliases go, and blobs no live version needs are collected later by the worker.
"""

from __future__ import annotations

from server.db.database import Connection, Database
from server.domain.access import Viewer
from server.domain.artifacts import ArtifactRow, get_artifact, writable_artifact
from server.domain.sql import retention as sql
from server.errors import BadUserInput, Conflict

MAX_TTL_SECONDS = 2**31 - 1  # ttl_seconds is a Postgres integer


def check_ttl(ttl: int | None) -> int | None:
    if ttl is not None and not 0 <= ttl <= MAX_TTL_SECONDS:
        raise BadUserInput(f"ttlDurationSeconds must be between 0 and {MAX_TTL_SECONDS}, or null")
    return ttl


async def set_ttl(
    db: Database, viewer: Viewer | None, version_id: int, ttl: int | None
) -> ArtifactRow:
    check_ttl(ttl)
    async with db.transaction() as conn:
        artifact = await writable_artifact(conn, viewer, version_id)
        if artifact.state == "DELETED":
            raise Conflict(f"artifact {artifact.path} is deleted; a TTL means nothing for it")
        await conn.execute(sql.SET_TTL, id=version_id, ttl_seconds=ttl)
        return await get_artifact(conn, version_id)


async def tombstone(conn: Connection, version_ids: list[int]) -> None:
    """Turn committed versions into tombstones (the caller holds their row locks)."""
    await conn.execute(sql.REMOVE_ALIASES, version_ids=version_ids)
    await conn.execute(sql.REMOVE_ENTRIES, version_ids=version_ids)
    await conn.execute(sql.TOMBSTONE, version_ids=version_ids)


async def delete_artifact(
    db: Database, viewer: Viewer | None, version_id: int, delete_aliases: bool
) -> ArtifactRow:
    async with db.transaction() as conn:
        artifact = await writable_artifact(conn, viewer, version_id)
        state = await conn.fetchval(sql.LOCK_VERSION, id=version_id)
        if state == "DELETED":
            return artifact
        if state == "PENDING":
            raise Conflict(
                f"artifact {artifact.path} is still PENDING: it was never visible, and is "
                "cleaned away if not committed"
            )
        user_aliases = await conn.fetchval(sql.USER_ALIASES, version_id=version_id)
        if user_aliases and not delete_aliases:
            raise Conflict(
                f"artifact {artifact.path} has aliases {user_aliases}: remove them first "
                "or pass deleteAliases: true"
            )
        await tombstone(conn, [version_id])
        return await get_artifact(conn, version_id)
