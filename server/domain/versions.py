"""Logging, committing and using artifact versions (SPEC "Artifacts").

log -> PENDING version + upload targets for content the store lacks -> client PUTs to
staging keys -> commit verifies every blob (the store hashes staged bytes) and then, in
one transaction under the collection's row lock, assigns the next dense version index.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from server.db.database import Connection, Database
from server.domain import access
from server.domain.access import Viewer
from server.domain.aliases import move_aliases
from server.domain.artifacts import ArtifactRow, artifacts_by_ids, find_artifact, get_artifact
from server.domain.manifests import (
    MAX_ENTRIES,
    Entry,
    EntryInput,
    check_path,
    check_storable_text,
    check_stored_entry,
    check_unique_paths,
    manifest_digest,
)
from server.domain.names import check_alias, check_name
from server.domain.runs import MAX_JSON_BYTES, check_json_object, writable_run
from server.errors import BadUserInput, Conflict, NotFound

MAX_TTL_SECONDS = 2**31 - 1
MAX_DESCRIPTION_CHARS = 64 * 1024
MAX_TOTAL_SIZE = 2**63 - 1  # artifact_versions.size is a bigint
PROMOTE_CONCURRENCY = 8
REFERENCE_CONCURRENCY = 16


@dataclass(frozen=True)
class LogRequest:
    run: str
    name: str
    type: str
    entries: Sequence[EntryInput]
    description: str | None = None
    metadata: Any = None
    aliases: Sequence[str] = ()
    ttl_seconds: int | None = None


@dataclass(frozen=True)
class Upload:
    path: str
    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class LogResult:
    artifact: ArtifactRow
    uploads: list[Upload] = field(default_factory=list)
    deduplicated: bool = False


def check_metadata(metadata: Any) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise BadUserInput(f"metadata must be a JSON object, got {type(metadata).__name__}")
    check_json_object(metadata, "metadata")  # what jsonb cannot hold: NUL, NaN, infinities
    try:
        encoded = json.dumps(metadata, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise BadUserInput("metadata is not valid Unicode (unpaired surrogate)") from None
    if len(encoded) > MAX_JSON_BYTES:
        raise BadUserInput("metadata is larger than 1 MiB encoded; log big data as a file")
    return metadata


def check_ttl(ttl: int | None) -> int | None:
    if ttl is not None and not 0 <= ttl <= MAX_TTL_SECONDS:
        raise BadUserInput(f"ttlDurationSeconds must be between 0 and {MAX_TTL_SECONDS}, or null")
    return ttl


def unique_aliases(aliases: Sequence[str], *, ignore_latest: bool = False) -> list[str]:
    """Validated aliases, the first spelling of each kept (they match regardless of case).

    ``ignore_latest``: logArtifact applies "latest" anyway, so asking for it there is
    harmless; moving it by hand (updateArtifactAliases) is refused."""
    seen: dict[str, str] = {}
    for alias in aliases:
        if ignore_latest and alias.lower() == "latest":
            continue
        check_storable_text(alias, "alias")
        check_alias(alias)
        seen.setdefault(alias.lower(), alias)
    return list(seen.values())


async def _expand_entries(references: Any, inputs: Sequence[EntryInput]) -> list[Entry]:
    from server.storage.references import ReferenceError

    if len(inputs) > MAX_ENTRIES:
        raise BadUserInput(
            f"one logArtifact takes at most {MAX_ENTRIES:,} entries, got {len(inputs):,}"
        )
    stored = [check_stored_entry(e) for e in inputs if e.ref is None]
    refs = [e for e in inputs if e.ref is not None]
    for e in refs:
        check_path(e.path)
        check_storable_text(e.ref or "", f"reference of entry {e.path!r}")
    if refs and references is None:
        raise BadUserInput("reference entries need S3 settings on the server")
    limit = asyncio.Semaphore(REFERENCE_CONCURRENCY)

    async def resolve(e: EntryInput) -> list[Entry]:
        async with limit:
            try:
                resolved = await references.resolve(e.ref, e.checksum)
            except ReferenceError as exc:
                raise BadUserInput(str(exc)) from None
        return [
            Entry(
                check_path(f"{e.path}/{r.relpath}" if r.relpath else e.path),
                r.digest,
                r.size,
                r.uri,
                dict(r.extra),
            )
            for r in resolved
        ]

    expanded = [entry for group in await asyncio.gather(*map(resolve, refs)) for entry in group]
    entries = stored + expanded
    if len(entries) > MAX_ENTRIES:
        raise BadUserInput(
            f"references expand to {len(entries):,} entries; the limit is {MAX_ENTRIES:,}"
        )
    check_unique_paths(entries)
    if sum(e.size or 0 for e in entries) > MAX_TOTAL_SIZE:
        raise BadUserInput("the entries' sizes add up to more than 2^63-1 bytes; check them")
    sizes: dict[str, int | None] = {}
    for entry in stored:
        if sizes.setdefault(entry.digest, entry.size) != entry.size:
            raise BadUserInput(f"entries with digest {entry.digest} declare different sizes")
    return entries


async def log_artifact(
    db: Database, store: Any, references: Any, viewer: Viewer | None, req: LogRequest
) -> LogResult:
    access.require_signed_in(viewer)
    check_name(req.name, "artifact name")
    check_name(req.type, "artifact type")
    if req.description is not None:
        check_storable_text(req.description, "description")
        if len(req.description) > MAX_DESCRIPTION_CHARS:
            raise BadUserInput("description is longer than 64 KiB")
    metadata = check_metadata(req.metadata)
    aliases = unique_aliases(req.aliases, ignore_latest=True)
    ttl = check_ttl(req.ttl_seconds)
    run = await writable_run(db, viewer, req.run)
    entries = await _expand_entries(references, req.entries)
    digest = manifest_digest(entries)
    stored_digests = sorted({e.digest for e in entries if e.stored})

    async with db.transaction() as conn:
        collection = await _collection_for(
            conn, run.project_id, req.name, req.type, req.description
        )
        existing = await _committed_with_digest(conn, collection, digest)
        if existing is not None:
            await conn.execute(
                "SELECT 1 FROM artifact_collections WHERE id = $1 FOR UPDATE", collection
            )
            await _record_log(conn, run.id, existing)
            await move_aliases(conn, collection, existing, aliases)
            return LogResult(await get_artifact(conn, existing), deduplicated=True)
        # The GC fence: updating the blob rows we count on makes a concurrent collector's
        # FOR UPDATE re-check its condition (unneeded_since) and skip them, and a row the
        # collector already holds makes us wait and then see it gone (so we ask for an
        # upload). Once this transaction commits, our manifest rows keep the blobs needed.
        held = {
            r["sha256"]
            for r in await conn.fetch(
                """UPDATE blobs SET unneeded_since = NULL WHERE sha256 = ANY($1::text[])
                   RETURNING sha256""",
                stored_digests,
            )
        }
        version_id = await conn.fetchval(
            """INSERT INTO artifact_versions (collection_id, project_id, state, digest, description,
                   metadata, size, file_count, ttl_seconds, logged_by, pending_aliases)
               VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id""",
            collection, run.project_id, digest, req.description, metadata,
            sum(e.size or 0 for e in entries), len(entries), ttl, run.id, aliases,
        )  # fmt: skip
        await conn.raw.copy_records_to_table(
            "manifest_entries",
            records=[(version_id, e.path, e.digest, e.size, e.ref, e.extra) for e in entries],
            columns=["version_id", "path", "digest", "size", "ref", "extra"],
        )
        missing = [d for d in stored_digests if d not in held]
        if not missing:
            committed, deduplicated = await _commit_pending(conn, version_id)
            return LogResult(await get_artifact(conn, committed), deduplicated=deduplicated)
        artifact = await get_artifact(conn, version_id)
    return LogResult(artifact, await _upload_targets(store, version_id, entries, set(missing)))


async def _upload_targets(
    store: Any, version_id: int, entries: Sequence[Entry], missing: set[str]
) -> list[Upload]:
    from server.storage.base import staging_key

    first_path: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.path):
        if entry.stored and entry.digest in missing:
            first_path.setdefault(entry.digest, entry)
    uploads = []
    for entry in first_path.values():
        assert entry.size is not None
        target = await store.upload_target(
            staging_key(str(version_id), entry.digest), entry.digest, entry.size
        )
        uploads.append(Upload(entry.path, target.url, dict(target.headers)))
    return uploads


async def _collection_for(
    conn: Connection, project_id: int, name: str, type_: str, description: str | None
) -> int:
    row = await conn.fetchrow(
        """INSERT INTO artifact_collections (project_id, name, type, description)
           VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, name) DO NOTHING RETURNING id, type""",
        project_id, name, type_, description,
    )  # fmt: skip
    if row is None:
        row = await conn.fetchrow(
            "SELECT id, type FROM artifact_collections WHERE project_id = $1 AND name = $2",
            project_id,
            name,
        )
        assert row is not None
    if row["type"] != type_:
        raise Conflict(
            f"artifact {name!r} has type {row['type']!r}; log it with that type or use another name"
        )
    return int(row["id"])


async def _committed_with_digest(conn: Connection, collection_id: int, digest: str) -> int | None:
    """The committed version with this digest, share-locked until the caller's transaction
    ends: a concurrent deleteArtifact or TTL expiry (which lock the row FOR UPDATE) either
    finishes first, and then the row no longer qualifies, or waits until we are done. So
    a deduplicated log never lands on a version turning into a tombstone under it."""
    return await conn.fetchval(
        """SELECT id FROM artifact_versions
            WHERE collection_id = $1 AND digest = $2 AND state = 'COMMITTED'
            ORDER BY version_index LIMIT 1 FOR SHARE""",
        collection_id,
        digest,
    )


async def _record_log(conn: Connection, run_id: int, version_id: int) -> None:
    await conn.execute(
        """INSERT INTO artifact_logs (run_id, version_id) VALUES ($1, $2)
           ON CONFLICT (run_id, version_id) DO NOTHING""",
        run_id,
        version_id,
    )


async def _commit_pending(conn: Connection, version_id: int) -> tuple[int, bool]:
    """Commit a PENDING version whose blobs are all held: (committed version id, dedup).

    The caller holds the version's row (it inserted it in this transaction, or locked it
    FOR UPDATE), so no one else commits, deletes or removes it meanwhile."""
    row = await conn.fetchrow(
        """SELECT collection_id, digest, logged_by, pending_aliases FROM artifact_versions
            WHERE id = $1 AND state = 'PENDING'""",
        version_id,
    )
    assert row is not None
    collection = row["collection_id"]
    # The collection's row lock serialises commits: indices stay dense (v0, v1, ...) and
    # two commits of equal content cannot both become versions.
    await conn.execute("SELECT 1 FROM artifact_collections WHERE id = $1 FOR UPDATE", collection)
    existing = await _committed_with_digest(conn, collection, row["digest"])
    if existing is not None:
        await conn.execute("DELETE FROM artifact_versions WHERE id = $1", version_id)
        await _record_log(conn, row["logged_by"], existing)
        await move_aliases(conn, collection, existing, row["pending_aliases"])
        return existing, True
    await conn.execute(
        """UPDATE artifact_versions
              SET state = 'COMMITTED', committed_at = clock_timestamp(), pending_aliases = '{}',
                  expires_at = created_at + ttl_seconds * interval '1 second',
                  version_index = (SELECT coalesce(max(version_index) + 1, 0)
                                     FROM artifact_versions WHERE collection_id = $2)
            WHERE id = $1""",
        version_id,
        collection,
    )
    await _record_log(conn, row["logged_by"], version_id)
    await move_aliases(conn, collection, version_id, row["pending_aliases"])
    return version_id, False


async def commit_artifact(
    db: Database, store: Any, viewer: Viewer | None, version_id: int
) -> ArtifactRow:
    access.require_signed_in(viewer)
    version = (await artifacts_by_ids(db, viewer, [version_id])).get(version_id)
    if version is None:
        raise NotFound("artifact not found")
    access.require_write(viewer, version, f"artifact {version.name}")
    # One commit of a version at a time: the row lock is held while the staged uploads are
    # promoted, so a client retrying a slow commit waits for the first try and then sees
    # its result, instead of finding the staged objects already claimed and being told they
    # are missing. Everything below runs on this one connection (no second acquire from the
    # pool while holding it, so concurrent commits cannot starve the pool into a deadlock).
    async with db.transaction() as conn:
        state = await conn.fetchval(
            "SELECT state FROM artifact_versions WHERE id = $1 FOR UPDATE", version_id
        )
        if state is None:  # removed meanwhile (abandoned, or merged into an equal version)
            raise NotFound("artifact not found")
        if state == "COMMITTED":
            return await get_artifact(conn, version_id)
        if state == "DELETED":
            raise Conflict(f"artifact {version.path} was deleted; log it again")
        bad = await _promote_uploads(conn, store, version_id)
        if not bad:
            committed, _ = await _commit_pending(conn, version_id)
            return await get_artifact(conn, committed)
    # Raised after the transaction committed the blobs that did verify: their staged
    # objects are gone, so forgetting them would make the retry fail for good.
    listed = ", ".join(
        f"{r['path']!r} (sha256 {r['digest'][:12]}…, {r['size']} bytes)" for r in bad[:5]
    )
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    raise BadUserInput(
        f"{len(bad)} upload(s) missing or not matching their digest and size: {listed}{more}; "
        "PUT the exact bytes to the upload URLs, then commit again"
    )


async def _promote_uploads(conn: Connection, store: Any, version_id: int) -> list[Any]:
    """Verify and promote the staged uploads of blobs the service lacks; record the good
    ones in ``blobs`` and return the manifest rows (digest, size, path) that failed."""
    from server.storage.base import staging_key

    missing = await conn.fetch(
        """SELECT DISTINCT ON (m.digest) m.digest, m.size, m.path FROM manifest_entries m
            WHERE m.version_id = $1 AND m.ref IS NULL
              AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = m.digest)
            ORDER BY m.digest, m.path""",
        version_id,
    )
    limit = asyncio.Semaphore(PROMOTE_CONCURRENCY)

    async def promote(digest: str, size: int) -> bool:
        async with limit:
            return bool(await store.promote(staging_key(str(version_id), digest), digest, size))

    verified = await asyncio.gather(*(promote(r["digest"], r["size"]) for r in missing))
    good = [(r["digest"], r["size"]) for r, ok in zip(missing, verified, strict=True) if ok]
    if good:
        await conn.execute(
            """INSERT INTO blobs (sha256, size) SELECT * FROM unnest($1::text[], $2::bigint[])
               ON CONFLICT (sha256) DO UPDATE SET unneeded_since = NULL""",
            [d for d, _ in good],
            [s for _, s in good],
        )
    return [r for r, ok in zip(missing, verified, strict=True) if not ok]


async def use_artifact(
    db: Database, viewer: Viewer | None, run_path: str, artifact_path: str
) -> ArtifactRow:
    access.require_signed_in(viewer)
    check_storable_text(artifact_path, "artifact path")
    async with db.transaction() as conn:
        run = await writable_run(conn, viewer, run_path)
        artifact = await find_artifact(conn, viewer, artifact_path)
        if artifact is None:
            raise NotFound(f"artifact {artifact_path} not found")
        # share-lock the version: a concurrent delete or expiry finishes first (and we
        # see the tombstone) or waits until the use is recorded on a live version
        state = await conn.fetchval(
            "SELECT state FROM artifact_versions WHERE id = $1 FOR SHARE", artifact.id
        )
        if state != artifact.state:
            artifact = await get_artifact(conn, artifact.id)
        if artifact.state != "COMMITTED":
            raise Conflict(f"artifact {artifact.path} was deleted; use another version")
        await conn.execute(
            """INSERT INTO artifact_uses (version_id, run_id) VALUES ($1, $2)
               ON CONFLICT (version_id, run_id) DO NOTHING""",
            artifact.id,
            run.id,
        )
        return artifact
