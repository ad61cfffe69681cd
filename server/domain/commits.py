"""Committing a PENDING artifact version: verify and promote its uploads, then (under
the collection's row lock) assign the next dense index, or merge it into a committed
version of equal content. ``commit_pending`` is also how a log whose content is all
held commits at once (server/domain/versions.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from server.db.database import Connection, Database
from server.db.rows import RowBuilder
from server.domain import access
from server.domain.access import Viewer
from server.domain.artifacts import ArtifactRow, get_artifact, lock_collection
from server.domain.sql import commits as sql
from server.errors import BadUserInput, Conflict, NotFound


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
    row = await conn.fetchrow(
        sql.COMMIT, version_id=version_id, collection_id=collection, digest=digest,
        logged_by=logged_by, aliases=list(aliases),
    )  # fmt: skip
    assert row is not None
    return int(row["id"]), bool(row["deduplicated"])


class _Missing(NamedTuple):
    """A blob a pending version needs and the service lacks: its first path names it."""

    digest: str
    size: int
    path: str


_MISSING = RowBuilder(_Missing, ("digest", "size", "path"))


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
        row = await conn.fetchrow(
            sql.LOCK_VERSION,
            version_id=version_id,
            member_entity_ids=access.member_entity_ids(viewer),
        )
        if row is None:  # never visible, or removed (abandoned, or merged into an equal one)
            raise NotFound("artifact not found")
        project = access.ProjectAccess(row["entity_id"], row["visibility"])
        access.require_write(viewer, project, f"artifact {row['name']}")
        if row["state"] == "COMMITTED":
            return await get_artifact(conn, version_id)
        if row["state"] == "DELETED":
            path = (await get_artifact(conn, version_id)).path
            raise Conflict(f"artifact {path} was deleted; log it again")
        missing = _MISSING.all(await conn.fetch(sql.MISSING_UPLOADS, version_id=version_id))
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
        await conn.execute(
            sql.RECORD_BLOBS, digests=[b.digest for b in good], sizes=[b.size for b in good]
        )
    if good and bad:
        # This commit fails, but these uploads verified and their staged objects are gone:
        # the retry must not ask for them again.
        await conn.execute(
            sql.UPLOADS_VERIFIED, version_id=version_id, digests=[b.digest for b in good]
        )
    return bad
