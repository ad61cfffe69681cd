"""Committing a PENDING artifact version: verify and promote its uploads, then (under
the collection's row lock) assign the next dense index, or merge it into a committed
version of equal content. ``commit_pending`` is also how a log whose content is all
held commits at once (server/domain/versions.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from server.db.database import Connection, Database
from server.domain import access
from server.domain.access import Viewer
from server.domain.aliases import move_aliases_sql
from server.domain.artifacts import ArtifactRow, get_artifact, lock_collection
from server.errors import BadUserInput, Conflict, NotFound

# Commit PENDING version $1 of collection $2 with digest $3, logged by run $4, with user
# aliases $5 -- or, when the collection has a committed version of equal digest, remove
# it and log and alias that one instead. Runs under the collection's row lock, in a
# statement of its own after the lock was granted, so its snapshot sees every commit that
# came before. The two branches exclude each other (EXISTS / NOT EXISTS of one
# materialised CTE), so the pending row is deleted or updated, never both.
_COMMIT_SQL = f"""
WITH existing AS (
    SELECT id FROM artifact_versions
     WHERE collection_id = $2 AND digest = $3 AND state = 'COMMITTED'
     ORDER BY version_index LIMIT 1 FOR SHARE),
merged AS (
    DELETE FROM artifact_versions WHERE id = $1 AND EXISTS (SELECT FROM existing)),
committed AS (
    UPDATE artifact_versions
       SET state = 'COMMITTED', committed_at = clock_timestamp(), pending_aliases = '{{}}',
           expires_at = created_at + ttl_seconds * interval '1 second',
           version_index = (SELECT coalesce(max(version_index) + 1, 0)
                              FROM artifact_versions WHERE collection_id = $2)
     WHERE id = $1 AND NOT EXISTS (SELECT FROM existing)),
target AS (SELECT coalesce((SELECT id FROM existing), $1) AS id),
logged AS (
    INSERT INTO artifact_logs (run_id, version_id, run_project_id, version_project_id)
    SELECT $4, id, (SELECT project_id FROM runs WHERE id = $4),
           (SELECT project_id FROM artifact_collections WHERE id = $2) FROM target
    ON CONFLICT (run_id, version_id) DO NOTHING),
aliased AS ({move_aliases_sql(collection="$2", version="(SELECT id FROM target)", aliases="$5")})
SELECT id, EXISTS (SELECT FROM existing) AS deduplicated FROM target"""


async def commit_pending(
    conn: Connection,
    version_id: int,
    collection: int,
    digest: str,
    logged_by: int,
    aliases: Sequence[str],
) -> tuple[int, bool]:
    """Commit a PENDING version whose blobs are all held: (committed version id, dedup).

    The caller holds the version's row (it inserted it in this transaction, or locked it
    FOR UPDATE), so no one else commits, deletes or removes it meanwhile; it passes the
    row's collection, digest, logging run and pending aliases it has in hand."""
    # The collection's row lock serialises commits: indices stay dense (v0, v1, ...) and
    # two commits of equal content cannot both become versions.
    await lock_collection(conn, collection)
    row = await conn.fetchrow(_COMMIT_SQL, version_id, collection, digest, logged_by, list(aliases))
    assert row is not None
    return int(row["id"]), bool(row["deduplicated"])


class _Missing(NamedTuple):
    """A blob a pending version needs and the service lacks: its first path names it."""

    digest: str
    size: int
    path: str


# The version's row, locked, with what commit needs: its state, what commit_pending
# needs, and its project for the access check. Only rows the viewer can read are locked
# (readable_sql); one it may read but not write is refused right after, its lock released
# with the transaction.
_LOCK_VERSION_SQL = f"""
SELECT v.state, v.collection_id, v.digest, v.logged_by, v.pending_aliases,
       p.entity_id, p.visibility, c.name
  FROM artifact_versions v
  JOIN artifact_collections c ON c.id = v.collection_id
  JOIN projects p ON p.id = v.project_id
 WHERE v.id = $1 AND {access.readable_sql("p", 2)}
   FOR UPDATE OF v"""

# The contents whose uploads commit must verify, with the first path naming each: those
# the client was asked to upload (verify_upload: even where a blob with the digest is
# stored, since the logger could not read it, the upload must prove they hold the bytes),
# and any the service lacks. A statement of its own, after the version's lock was
# granted: a commit of this version that held the lock and failed may have verified some
# of them meanwhile. (Not a subquery of the locking statement: that would see the
# snapshot from before the wait, and a correlated subquery is planned for the average
# version, which a few big ones make a sequential scan.)
_MISSING_SQL = """
SELECT DISTINCT ON (m.digest) m.digest, m.size, m.path FROM manifest_entries m
 WHERE m.version_id = $1 AND m.ref IS NULL
   AND (m.verify_upload OR NOT EXISTS (SELECT FROM blobs b WHERE b.sha256 = m.digest))
 ORDER BY m.digest, m.path"""


async def commit_artifact(
    db: Database, store: Any, viewer: Viewer | None, version_id: int
) -> ArtifactRow:
    access.require_signed_in(viewer)
    # One commit of a version at a time: the row lock is held while the staged uploads are
    # promoted, so a client retrying a slow commit waits for the first try and then sees
    # its result, instead of finding the staged objects already claimed and being told they
    # are missing. Everything below runs on this one connection (no second acquire from the
    # pool while holding it, so concurrent commits cannot starve the pool into a deadlock).
    async with db.transaction() as conn:
        row = await conn.fetchrow(_LOCK_VERSION_SQL, version_id, access.member_entity_ids(viewer))
        if row is None:  # never visible, or removed (abandoned, or merged into an equal one)
            raise NotFound("artifact not found")
        project = access.ProjectAccess(row["entity_id"], row["visibility"])
        access.require_write(viewer, project, f"artifact {row['name']}")
        if row["state"] == "COMMITTED":
            return await get_artifact(conn, version_id)
        if row["state"] == "DELETED":
            path = (await get_artifact(conn, version_id)).path
            raise Conflict(f"artifact {path} was deleted; log it again")
        missing = [_Missing(*r) for r in await conn.fetch(_MISSING_SQL, version_id)]
        bad = await _promote_uploads(conn, store, version_id, missing)
        if not bad:
            committed, _ = await commit_pending(
                conn, version_id, row["collection_id"], row["digest"], row["logged_by"],
                row["pending_aliases"],
            )  # fmt: skip
            return await get_artifact(conn, committed)
    # Raised after the transaction committed the blobs that did verify: their staged
    # objects are gone, so forgetting them would make the retry fail for good.
    listed = ", ".join(f"{b.path!r} (sha256 {b.digest[:12]}…, {b.size} bytes)" for b in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    raise BadUserInput(
        f"{len(bad)} upload(s) missing or not matching their digest and size: {listed}{more}; "
        "PUT the exact bytes to the upload URLs, then commit again"
    )


async def _promote_uploads(
    conn: Connection, store: Any, version_id: int, missing: list[_Missing]
) -> list[_Missing]:
    """Verify and promote the staged uploads of the blobs the service lacks; record the
    good ones in ``blobs`` and return those that failed."""
    from server.storage.base import staging_key

    if not missing:
        return []
    pending = str(version_id)
    verified = await store.promote_many(
        [(staging_key(pending, b.digest), b.digest, b.size) for b in missing]
    )
    good = [b for b, ok in zip(missing, verified, strict=True) if ok]
    bad = [b for b, ok in zip(missing, verified, strict=True) if not ok]
    if good:
        # (a blob that was stored already stays as it is: the upload proved the bytes)
        await conn.execute(
            """INSERT INTO blobs (sha256, size) SELECT * FROM unnest($1::text[], $2::bigint[])
               ON CONFLICT (sha256) DO UPDATE SET unneeded_since = NULL""",
            [b.digest for b in good],
            [b.size for b in good],
        )
    if good and bad:
        # This commit fails, but these uploads verified and their staged objects are gone:
        # the retry must not ask for them again.
        await conn.execute(
            """UPDATE manifest_entries m SET verify_upload = false
                 FROM unnest($2::text[]) AS d(digest)
                WHERE m.version_id = $1 AND m.digest = d.digest AND m.verify_upload""",
            version_id,
            [b.digest for b in good],
        )
    return bad
