"""TTLs and deletion: versions become tombstones that keep their place in the graph.

A tombstone keeps its name, index, digest and lineage edges; its manifest, metadata and
aliases go, and blobs no live version needs are collected later by the worker.
"""

from __future__ import annotations

from server.db.database import Connection, Database
from server.domain.access import Viewer
from server.domain.aliases import writable_artifact
from server.domain.artifacts import ArtifactRow, get_artifact
from server.domain.versions import check_ttl
from server.errors import Conflict


async def set_ttl(
    db: Database, viewer: Viewer | None, version_id: int, ttl: int | None
) -> ArtifactRow:
    check_ttl(ttl)
    async with db.transaction() as conn:
        artifact = await writable_artifact(conn, viewer, version_id)
        if artifact.state == "DELETED":
            raise Conflict(f"artifact {artifact.path} is deleted; a TTL means nothing for it")
        await conn.execute(
            """UPDATE artifact_versions SET ttl_seconds = $2::integer,
                      expires_at = CASE WHEN state = 'COMMITTED'
                                        THEN created_at + $2::integer * interval '1 second' END
                WHERE id = $1""",
            version_id,
            ttl,
        )
        return await get_artifact(conn, version_id)


async def tombstone(conn: Connection, version_ids: list[int]) -> None:
    """Turn committed versions into tombstones (the caller holds their row locks)."""
    await conn.execute(
        "DELETE FROM artifact_aliases WHERE version_id = ANY($1::bigint[])", version_ids
    )
    await conn.execute(
        "DELETE FROM manifest_entries WHERE version_id = ANY($1::bigint[])", version_ids
    )
    await conn.execute(
        """UPDATE artifact_versions
              SET state = 'DELETED', deleted_at = clock_timestamp(), metadata = '{}',
                  description = NULL, size = 0, file_count = 0, ttl_seconds = NULL,
                  expires_at = NULL
            WHERE id = ANY($1::bigint[])""",
        version_ids,
    )


async def delete_artifact(
    db: Database, viewer: Viewer | None, version_id: int, delete_aliases: bool
) -> ArtifactRow:
    async with db.transaction() as conn:
        artifact = await writable_artifact(conn, viewer, version_id)
        state = await conn.fetchval(
            "SELECT state FROM artifact_versions WHERE id = $1 FOR UPDATE", version_id
        )
        if state == "DELETED":
            return artifact
        if state == "PENDING":
            raise Conflict(
                f"artifact {artifact.path} is still PENDING: it was never visible, and is "
                "cleaned away if not committed"
            )
        user_aliases = await conn.fetchval(
            "SELECT array_agg(alias ORDER BY created_at, alias) FROM artifact_aliases"
            " WHERE version_id = $1",
            version_id,
        )
        if user_aliases and not delete_aliases:
            raise Conflict(
                f"artifact {artifact.path} has aliases {user_aliases}: remove them first "
                "or pass deleteAliases: true"
            )
        await tombstone(conn, [version_id])
        return await get_artifact(conn, version_id)
