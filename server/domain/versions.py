"""Logging and using artifact versions (SPEC "Artifacts"); committing is in commits.py.

log -> PENDING version + upload targets for content the store lacks -> client PUTs to
staging keys -> commit verifies every blob (the store hashes staged bytes) and then, in
one transaction under the collection's row lock, assigns the next dense version index.
A log whose content is all held commits at once, inside the log's transaction.
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
from server.domain.aliases import move_aliases_sql
from server.domain.artifacts import ArtifactRow, find_artifact, get_artifact, lock_collection
from server.domain.commits import commit_pending
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
from server.domain.references import (
    ReferenceError,
    ReferencePolicy,
    check_matches_measured,
    check_measured,
    recorded_as_given,
)
from server.domain.runs import MAX_JSON_BYTES, RunRow, check_json_object, writable_run
from server.errors import BadUserInput, Conflict, NotFound

MAX_TTL_SECONDS = 2**31 - 1
MAX_DESCRIPTION_CHARS = 64 * 1024
MAX_TOTAL_SIZE = 2**63 - 1  # artifact_versions.size is a bigint
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


@dataclass(slots=True)
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
    if len(inputs) > MAX_ENTRIES:
        raise BadUserInput(
            f"one logArtifact takes at most {MAX_ENTRIES:,} entries, got {len(inputs):,}"
        )
    for e in inputs:
        check_measured(e)
    stored = [check_stored_entry(e) for e in inputs if e.ref is None]
    refs = [e for e in inputs if e.ref is not None]
    for e in refs:
        check_path(e.path)
        check_storable_text(e.ref or "", f"reference of entry {e.path!r}")
    policy = references.policy if references is not None else ReferencePolicy()
    limit = asyncio.Semaphore(REFERENCE_CONCURRENCY)

    async def resolve(e: EntryInput) -> list[Entry]:
        uri = e.ref or ""
        location = policy.check_referable(uri)
        if not (e.checksum and policy.may_read(location)):
            if e.checksum and location.is_prefix:
                raise BadUserInput(
                    f"reference {uri[:200]} is a prefix in a bucket this server may not list "
                    "(LINEAGE_REFERENCE_BUCKETS): log one entry per object, with the etag, "
                    "versionId and size you measured"
                )
            return [recorded_as_given(e, uri)]
        if location.is_prefix and (e.etag or e.version_id or e.size is not None):
            raise BadUserInput(
                f"reference {uri[:200]} is a prefix: etag, versionId and size describe one "
                "object, so leave them out (the server measures every object below it)"
            )
        async with limit:
            try:
                resolved = await references.resolve(uri, True, version_id=e.version_id)
            except ReferenceError as exc:
                raise BadUserInput(str(exc)) from None
        if not location.is_prefix:
            check_matches_measured(e, uri, resolved[0].digest, resolved[0].size)
        # Counted as each prefix comes back, so many prefixes cannot pile up millions of
        # entries (and S3 listings) before the total is checked; the others are cancelled.
        expanded[0] += len(resolved) - 1
        if expanded[0] > MAX_ENTRIES - len(inputs):
            raise too_many
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

    expanded = [0]
    too_many = BadUserInput(
        f"references expand to more than {MAX_ENTRIES:,} entries in all; the limit is "
        f"{MAX_ENTRIES:,}: log narrower prefixes, or several artifacts"
    )
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(resolve(e)) for e in refs]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    entries = stored + [entry for task in tasks for entry in task.result()]
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
    signed_in = access.require_signed_in(viewer)
    check_name(req.name, "artifact name")
    check_name(req.type, "artifact type")
    if req.description is not None:
        check_storable_text(req.description, "description")
        if len(req.description) > MAX_DESCRIPTION_CHARS:
            raise BadUserInput("description is longer than 64 KiB")
    metadata = check_metadata(req.metadata)
    aliases = unique_aliases(req.aliases, ignore_latest=True)
    ttl = check_ttl(req.ttl_seconds)
    run: RunRow | None = None
    entries: list[Entry] | None = None
    if any(e.ref is not None for e in req.entries):
        # Resolving references asks S3: check the run (access errors come first, and
        # only writers make the server look objects up) on a connection of its own, and
        # hold no connection or transaction while S3 answers.
        run = await writable_run(db, viewer, req.run)
        entries = await _expand_entries(references, req.entries)

    async with db.transaction() as conn:
        if run is None:  # stored entries only: everything on this one connection
            run = await writable_run(conn, viewer, req.run)
        if entries is None:
            entries = await _expand_entries(references, req.entries)  # no I/O without refs
        digest = manifest_digest(entries)
        stored_digests = sorted({e.digest for e in entries if e.stored})
        logged = await _log_version(
            conn, run, req, digest, metadata, ttl, aliases, entries, stored_digests, signed_in
        )
        collection, version_id, missing = logged.collection, logged.version, logged.missing
        if logged.existing is not None:
            await _record_log(conn, collection, logged.existing, run.id, aliases)
            return LogResult(await get_artifact(conn, logged.existing), deduplicated=True)
        assert version_id is not None
        if not missing:
            committed, deduplicated = await commit_pending(
                conn, version_id, collection, digest, run.id, aliases
            )
            return LogResult(await get_artifact(conn, committed), deduplicated=deduplicated)
        artifact = await get_artifact(conn, version_id)
    # signed after the transaction: it holds the fenced blob rows until it ends
    return LogResult(artifact, await _upload_targets(store, version_id, entries, set(missing)))


async def _upload_targets(
    store: Any, version_id: int, entries: Sequence[Entry], missing: set[str]
) -> list[Upload]:
    """One upload per missing content, named by the first path (in byte order) holding it."""
    from server.storage.base import staging_key

    first_path: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.path):
        if entry.stored and entry.digest in missing:
            first_path.setdefault(entry.digest, entry)
    pending = str(version_id)
    targets = await store.upload_targets(
        [(staging_key(pending, e.digest), e.digest, e.size) for e in first_path.values()]
    )
    return [
        Upload(e.path, t.url, dict(t.headers))
        for e, t in zip(first_path.values(), targets, strict=True)
    ]


# One round trip for the log itself:
# - the collection, created if new (ON CONFLICT DO NOTHING returns no row for an existing
#   one, which the second branch finds), and its type, for the CONFLICT check;
# - "existing": the committed version with this digest, share-locked until the
#   transaction ends: a concurrent deleteArtifact or TTL expiry (which lock the row FOR
#   UPDATE) either finishes first, and then the row no longer qualifies, or waits until we
#   are done. So a deduplicated log never lands on a version turning into a tombstone.
# - the GC fence, unless deduplicated: a row lock on every blob row we count on, held
#   until the transaction ends. The collector claims blobs FOR UPDATE SKIP LOCKED, so it
#   skips the rows we hold; a row it holds already makes us wait and then see it gone (so
#   we ask for an upload); and once this transaction commits, our manifest rows keep the
#   blobs needed. (server/worker.py collect_blobs tells the collector's side, whose
#   second NOT EXISTS, on a fresh snapshot, sees those rows.) Blobs in use (unneeded_since
#   NULL, the common case) are share-locked ("fence"): FOR SHARE keeps the collector out
#   all the same, and concurrent logs of one popular blob no longer queue behind each
#   other's row lock until commit, as an UPDATE of every row made them do.
#   Blobs already marked unneeded are updated back to in use ("revived"), which restarts
#   their grace period, as before. The two sets are disjoint, so no lock is ever upgraded
#   from share to exclusive (two logs doing that to one row would deadlock). A row that
#   changes sides between our snapshot and our lock is in neither: at worst the client
#   is asked to upload content we hold, and commit finds the blob there.
# - "readable": the fenced digests the logger can already read, because a live
#   (COMMITTED) version in a project they may read holds them, with the stored size.
#   Only these count as held: for any other digest the answer is an upload whether or
#   not the blob exists, so logging a digest reveals nothing about other projects;
# - "missing": every other digest, which the client must upload (commit hashes those
#   uploads even where the blob exists: the entries' verify_upload flag);
# - unless deduplicated or of another type: the PENDING version, and its manifest entries
#   when they are few enough to go as arrays ($13..$17 empty otherwise: COPYed after).
# A collection created concurrently after this statement's snapshot was taken is seen by
# neither branch: no row comes back, nothing was inserted, and the caller runs the
# statement again (with a new snapshot, which sees it).
_LOG_VERSION_SQL = f"""
WITH created AS (
    INSERT INTO artifact_collections (project_id, name, type, description)
    VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, name) DO NOTHING
    RETURNING id, type),
collection AS (
    SELECT id, type FROM created
    UNION ALL
    SELECT id, type FROM artifact_collections WHERE project_id = $1 AND name = $2
    LIMIT 1),
existing AS (
    SELECT v.id FROM artifact_versions v
     WHERE v.collection_id = (SELECT id FROM collection)
       AND v.digest = $5 AND v.state = 'COMMITTED'
     ORDER BY v.version_index LIMIT 1 FOR SHARE),
fence AS (
    SELECT sha256, size FROM blobs
     WHERE sha256 = ANY($6::text[]) AND unneeded_since IS NULL
       AND NOT EXISTS (SELECT FROM existing)
       FOR SHARE),
revived AS (
    UPDATE blobs SET unneeded_since = NULL
     WHERE sha256 = ANY($6::text[]) AND unneeded_since IS NOT NULL
       AND NOT EXISTS (SELECT FROM existing)
    RETURNING sha256, size),
readable AS (
    SELECT h.sha256, h.size FROM (SELECT * FROM fence UNION ALL SELECT * FROM revived) h
     WHERE EXISTS (
           SELECT FROM manifest_entries m
             JOIN artifact_versions hv ON hv.id = m.version_id
             JOIN projects p ON p.id = hv.project_id
            WHERE m.digest = h.sha256 AND m.ref IS NULL AND hv.state = 'COMMITTED'
              AND {access.readable_sql("p", 18)})),
version AS (
    INSERT INTO artifact_versions (collection_id, project_id, state, digest, description,
           metadata, size, file_count, ttl_seconds, logged_by, pending_aliases)
    SELECT c.id, $1, 'PENDING', $5, $4, $7::jsonb, $8::bigint, $9::integer, $10::integer,
           $11::bigint, $12::text[] FROM collection c
     WHERE c.type = $3 AND NOT EXISTS (SELECT FROM existing)
    RETURNING id),
entries AS (
    INSERT INTO manifest_entries (version_id, path, digest, size, ref, extra, verify_upload)
    SELECT v.id, e.path, e.digest, e.size, e.ref, e.extra,
           e.ref IS NULL AND e.digest NOT IN (SELECT sha256 FROM readable)
      FROM version v,
           unnest($13::text[], $14::text[], $15::bigint[], $16::text[], $17::jsonb[])
           AS e(path, digest, size, ref, extra))
SELECT c.id, c.type, (SELECT id FROM existing) AS existing, (SELECT id FROM version) AS version,
       CASE WHEN EXISTS (SELECT FROM existing) THEN '{{}}'::text[]
            ELSE ARRAY(SELECT d FROM unnest($6::text[]) d
                        WHERE d NOT IN (SELECT sha256 FROM readable) ORDER BY d) END AS missing,
       ARRAY(SELECT sha256 FROM readable ORDER BY sha256) AS held,
       ARRAY(SELECT size FROM readable ORDER BY sha256) AS held_sizes
  FROM collection c"""

# Up to this many entries go in with the version's INSERT; more are COPYed.
INLINE_ENTRIES = 1000


@dataclass(slots=True)
class _Logged:
    collection: int
    existing: int | None  # the committed version of equal digest (dedup), if any
    version: int | None  # the new PENDING version, unless deduplicated
    missing: list[str]  # digests to upload


async def _log_version(
    conn: Connection,
    run: RunRow,
    req: LogRequest,
    digest: str,
    metadata: dict[str, Any],
    ttl: int | None,
    aliases: list[str],
    entries: Sequence[Entry],
    stored_digests: list[str],
    viewer: Viewer,
) -> _Logged:
    """Find or create the collection, dedup, fence and insert the PENDING version."""
    inline = len(entries) <= INLINE_ENTRIES
    columns = (
        [e.path for e in entries], [e.digest for e in entries], [e.size for e in entries],
        [e.ref for e in entries], [e.extra for e in entries],
    ) if inline else ([], [], [], [], [])  # fmt: skip
    args = (
        run.project_id, req.name, req.type, req.description, digest, stored_digests, metadata,
        sum(e.size or 0 for e in entries), len(entries), ttl, run.id, aliases, *columns,
        access.member_entity_ids(viewer),
    )  # fmt: skip
    row = await conn.fetchrow(_LOG_VERSION_SQL, *args)
    if row is None:  # created concurrently, after our snapshot: now we see it
        row = await conn.fetchrow(_LOG_VERSION_SQL, *args)
        assert row is not None
    if row["type"] != req.type:
        raise Conflict(
            f"artifact {req.name!r} has type {row['type']!r}; "
            "log it with that type or use another name"
        )
    _check_held_sizes(entries, row["held"], row["held_sizes"])
    logged = _Logged(int(row["id"]), row["existing"], row["version"], list(row["missing"]))
    if logged.version is not None and not inline:
        upload = set(logged.missing)
        names = ["version_id", "path", "digest", "size", "ref", "verify_upload", "extra"]
        records: list[tuple[Any, ...]]
        if any(e.extra for e in entries):
            records = [
                (logged.version, e.path, e.digest, e.size, e.ref, e.stored and e.digest in upload,
                 e.extra)
                for e in entries
            ]  # fmt: skip
        else:  # the column's default, '{}', without encoding it 100,000 times
            records = [
                (logged.version, e.path, e.digest, e.size, e.ref, e.stored and e.digest in upload)
                for e in entries
            ]
            names.pop()
        await conn.copy_records_to_table("manifest_entries", records=records, columns=names)
    return logged


def _check_held_sizes(entries: Sequence[Entry], held: list[str], sizes: list[int]) -> None:
    """Content the logger can read commits without an upload: its declared size must be
    the stored one (for any other content the upload's bytes settle it at commit)."""
    if not held:
        return
    stored_size = dict(zip(held, sizes, strict=True))
    for entry in entries:
        size = stored_size.get(entry.digest) if entry.stored else None
        if size is not None and entry.size != size:
            raise BadUserInput(
                f"entry {entry.path[:100]!r}: its content (sha256 {entry.digest[:12]}…) is "
                f"{size} bytes, not {entry.size}: send the file's real size"
            )


async def _record_log(
    conn: Connection, collection: int, version_id: int, run_id: int, aliases: Sequence[str]
) -> None:
    """Record a (deduplicated) log of a committed version and move the aliases onto it."""
    if aliases:  # alias moves are serialised by the collection's row lock
        await lock_collection(conn, collection)
    await conn.execute(_RECORD_LOG_SQL, run_id, version_id, collection, list(aliases))


_RECORD_LOG_SQL = f"""
WITH logged AS (
    INSERT INTO artifact_logs (run_id, version_id, run_project_id, version_project_id)
    SELECT $1, $2, (SELECT project_id FROM runs WHERE id = $1),
           (SELECT project_id FROM artifact_collections WHERE id = $3)
    ON CONFLICT (run_id, version_id) DO NOTHING)
{move_aliases_sql(collection="$3", version="$2", aliases="$4")}"""


async def use_artifact(
    db: Database, viewer: Viewer | None, run_path: str, artifact_path: str
) -> ArtifactRow:
    access.require_signed_in(viewer)
    check_storable_text(artifact_path, "artifact path")
    async with db.transaction() as conn:
        run = await writable_run(conn, viewer, run_path)
        if "/" not in artifact_path:  # "name:alias": in the using run's project
            artifact_path = f"{run.entity_name}/{run.project_name}/{artifact_path}"
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
            """INSERT INTO artifact_uses (version_id, run_id, version_project_id, run_project_id)
               VALUES ($1, $2, $3, $4) ON CONFLICT (version_id, run_id) DO NOTHING""",
            artifact.id,
            run.id,
            artifact.project_id,
            run.project_id,
        )
        return artifact
