"""Logging and using artifact versions (docs/semantics.md, "Artifacts"); committing is in commits.py.

log -> PENDING version + upload targets for content the store lacks -> client PUTs to
staging keys -> commit verifies every blob (the store hashes staged bytes) and then, in
one transaction under the collection's row lock, assigns the next dense version index.
A log whose content is all held commits at once, inside the log's transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from server.db.database import Connection, Database
from server.domain import access
from server.domain.access import Viewer
from server.domain.aliases import unique_aliases
from server.domain.artifacts import (
    ArtifactRow,
    find_artifact,
    get_artifact,
    lock_collection,
    share_lock_version,
)
from server.domain.commits import commit_pending
from server.domain.json_documents import check_metadata
from server.domain.manifests import (
    MAX_ENTRIES,
    Entry,
    EntryInput,
    check_path,
    check_stored_entry,
    check_unique_paths,
    manifest_digest,
)
from server.domain.names import check_name, check_storable_text
from server.domain.references import (
    ReferenceError,
    ReferencePolicy,
    check_matches_measured,
    check_measured,
    recorded_as_given,
)
from server.domain.retention import check_ttl
from server.domain.runs import RunRow, writable_run
from server.domain.sql import versions as sql
from server.errors import BadUserInput, Conflict, NotFound

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
    listed = entries if inline else ()
    params = {
        "project_id": run.project_id, "name": req.name, "type": req.type,
        "description": req.description, "digest": digest, "stored_digests": stored_digests,
        "metadata": metadata, "size": sum(e.size or 0 for e in entries),
        "file_count": len(entries), "ttl_seconds": ttl, "logged_by": run.id,
        "aliases": aliases, "member_entity_ids": access.member_entity_ids(viewer),
        "entry_paths": [e.path for e in listed], "entry_digests": [e.digest for e in listed],
        "entry_sizes": [e.size for e in listed], "entry_refs": [e.ref for e in listed],
        "entry_extras": [e.extra for e in listed],
    }  # fmt: skip
    row = await conn.fetchrow(sql.LOG_VERSION, **params)
    if row is None:  # created concurrently, after our snapshot: now we see it
        row = await conn.fetchrow(sql.LOG_VERSION, **params)
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
    await conn.execute(
        sql.RECORD_LOG,
        run_id=run_id,
        version_id=version_id,
        collection_id=collection,
        aliases=list(aliases),
    )


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
        # a concurrent delete or expiry finishes first (and we see the tombstone) or
        # waits until the use is recorded on a live version
        state = await share_lock_version(conn, artifact.id)
        if state != artifact.state:
            artifact = await get_artifact(conn, artifact.id)
        if artifact.state != "COMMITTED":
            raise Conflict(f"artifact {artifact.path} was deleted; use another version")
        await conn.execute(
            sql.RECORD_USE,
            version_id=artifact.id,
            run_id=run.id,
            version_project_id=artifact.project_id,
            run_project_id=run.project_id,
        )
        return artifact
