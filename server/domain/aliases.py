"""User aliases: at most one version per alias in a collection, matched regardless of case.

"latest" and "vN" are derived from version indices and never stored here.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.db.database import Connection, Database, Queryable
from server.domain import access
from server.domain.access import Viewer
from server.domain.artifacts import ArtifactRow, artifacts_by_ids, get_artifact, lock_collection
from server.errors import BadUserInput, Conflict, NotFound


def move_aliases_sql(*, collection: str, version: str, aliases: str) -> str:
    """One statement pointing each alias (a text[]) at the version, taking it from whichever
    version of the collection had it: an upsert on the case-insensitive unique index, so
    the alias keeps one row, now spelt as asked and dated now. The arguments are SQL
    expressions (parameters), so other statements can embed it as a CTE. The aliases must
    differ regardless of case (``unique_aliases``), or the upsert would meet a row twice."""
    return f"""INSERT INTO artifact_aliases (collection_id, alias, version_id)
               SELECT {collection}, a, {version} FROM unnest({aliases}::text[]) a
               ON CONFLICT (collection_id, lower(alias)) DO UPDATE
                  SET alias = EXCLUDED.alias, version_id = EXCLUDED.version_id,
                      created_at = EXCLUDED.created_at"""


async def move_aliases(
    conn: Connection, collection_id: int, version_id: int, aliases: Sequence[str]
) -> None:
    """Point each alias at ``version_id``, taking it from whichever version had it."""
    if not aliases:
        return
    await conn.execute(
        move_aliases_sql(collection="$1", version="$3", aliases="$2"),
        collection_id,
        list(aliases),
        version_id,
    )


async def aliases_by_versions(db: Queryable, version_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each version's aliases: its user aliases in the order they were set, then "latest"
    when it is the newest committed version of its collection. No access check: callers
    hold rows the viewer may read."""
    rows = await db.fetch(
        """SELECT v.id,
                  coalesce((SELECT array_agg(a.alias ORDER BY a.created_at, a.alias)
                              FROM artifact_aliases a WHERE a.version_id = v.id), '{}') AS aliases,
                  coalesce(v.state = 'COMMITTED' AND v.version_index = (
                       SELECT max(l.version_index) FROM artifact_versions l
                        WHERE l.collection_id = v.collection_id AND l.state = 'COMMITTED'),
                    false) AS is_latest
             FROM artifact_versions v WHERE v.id = ANY($1::bigint[])""",
        list(version_ids),
    )
    return {r["id"]: [*r["aliases"], "latest"] if r["is_latest"] else r["aliases"] for r in rows}


async def writable_artifact(
    conn: Connection | Database, viewer: Viewer | None, version_id: int
) -> ArtifactRow:
    access.require_signed_in(viewer)
    artifact = (await artifacts_by_ids(conn, viewer, [version_id])).get(version_id)
    if artifact is None:
        raise NotFound("artifact not found")
    access.require_write(viewer, artifact, f"artifact {artifact.path}")
    return artifact


async def update_aliases(
    db: Database, viewer: Viewer | None, version_id: int, add: Sequence[str], remove: Sequence[str]
) -> ArtifactRow:
    from server.domain.versions import unique_aliases

    to_add = unique_aliases(add)
    to_remove = unique_aliases(remove)
    both = {a.lower() for a in to_add} & {a.lower() for a in to_remove}
    if both:
        raise BadUserInput(f"alias {sorted(both)[0]!r} is both added and removed; pick one")
    async with db.transaction() as conn:
        artifact = await writable_artifact(conn, viewer, version_id)
        # The version's row first, then the collection's, in the order the log path takes
        # them. The share lock keeps a concurrent delete or TTL expiry (FOR UPDATE) from
        # turning the version into a tombstone under the new aliases: one that got there
        # first has finished, and its tombstone is seen here.
        state = await conn.fetchval(
            "SELECT state FROM artifact_versions WHERE id = $1 FOR SHARE", version_id
        )
        if state != "COMMITTED":
            raise Conflict(f"only committed versions take aliases; {artifact.path} is {state}")
        await lock_collection(conn, artifact.collection_id)
        if to_remove:
            await conn.execute(
                """DELETE FROM artifact_aliases
                    WHERE version_id = $1 AND lower(alias) = ANY(SELECT lower(a) FROM unnest($2::text[]) a)""",
                version_id,
                to_remove,
            )
        await move_aliases(conn, artifact.collection_id, version_id, to_add)
        return await get_artifact(conn, version_id)
