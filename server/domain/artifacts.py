"""Artifact collections and versions: rows, lookups by id/path/alias, listings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.db.database import Connection, Queryable
from server.db.rows import RowBuilder
from server.domain import access, accounts
from server.domain.access import ProjectAccess, Viewer
from server.domain.ids import encode_id
from server.domain.names import check_storable_text, parse_artifact_path
from server.domain.pagination import (
    OnePage,
    PageArgs,
    PageKey,
    Slice,
    check_cursor_shape,
    cursor_params,
    page_key,
    pages_by_parent,
)
from server.domain.runs import RUN_ROW, RunRow
from server.domain.sql import artifacts as sql
from server.errors import BadUserInput, NotFound

VERSION_SPEC_RE = re.compile(r"v(\d{1,9})")
MAX_VERSION_INDEX = 2**31 - 1  # version_index is a Postgres integer


@dataclass(slots=True)
class CollectionRow(ProjectAccess):
    id: int
    project_id: int
    entity_name: str
    project_name: str
    name: str
    type: str
    description: str | None
    created_at: datetime


@dataclass(slots=True)
class ArtifactRow(ProjectAccess):
    id: int
    collection_id: int
    project_id: int
    entity_name: str
    project_name: str
    name: str
    type: str
    version_index: int | None
    state: str
    digest: str
    description: str | None
    metadata: dict[str, Any]
    size: int
    file_count: int
    ttl_seconds: int | None
    expires_at: datetime | None
    created_at: datetime
    logged_by: int
    _global_id: str | None = field(default=None, repr=False, compare=False)

    @property
    def version(self) -> str | None:
        return None if self.version_index is None else f"v{self.version_index}"

    @property
    def path(self) -> str:
        spec = self.version or "pending"
        return f"{self.entity_name}/{self.project_name}/{self.name}:{spec}"

    @property
    def global_id(self) -> str:
        # kept: a lineage answer needs it for the node and again for each of its edges
        if self._global_id is None:
            self._global_id = encode_id("Artifact", self.id)
        return self._global_id


# by name: lineage builds thousands of these from its own statements' records
ARTIFACT_ROW = RowBuilder(ArtifactRow)
# the producer run beside a version (sql.readable_artifact_by_path with producer=True)
PRODUCER_ROW = RowBuilder(RunRow, [f"producer_{name}" for name in RUN_ROW.fields])
_COLLECTION = RowBuilder(CollectionRow)


async def lock_collection(conn: Connection, collection_id: int) -> None:
    """Take the collection's row lock, which serialises what must see every commit before
    it: assigning the next version index, deduplicating against committed versions, and
    moving aliases. It must be a statement of its own, so that the caller's next statement
    takes a snapshot after the lock was granted.

    FOR NO KEY UPDATE, not FOR UPDATE: inserting a row that references the collection (a
    PENDING version, an alias) takes a FOR KEY SHARE lock on it, which FOR UPDATE
    conflicts with and FOR NO KEY UPDATE does not. A log of held content inserts its
    version and then commits it in one transaction; with FOR UPDATE, two such logs each
    held the key-share lock the other waited for, and one was killed as a deadlock. No
    caller changes the collection's key, so the weaker lock is enough; it still conflicts
    with itself, which is what serialises the commits."""
    await conn.execute(sql.LOCK_COLLECTION, collection_id=collection_id)


async def share_lock_version(conn: Connection, version_id: int) -> str | None:
    """The version's state, its row share-locked until the transaction ends: a concurrent
    delete or TTL expiry (which lock it FOR UPDATE) has finished, and its tombstone is
    seen, or waits until the caller is done with the live version."""
    state: str | None = await conn.fetchval(sql.SHARE_LOCK_VERSION, id=version_id)
    return state


async def get_artifact(db: Queryable, version_id: int) -> ArtifactRow:
    row = await db.fetchrow(sql.ARTIFACT_BY_ID, id=version_id)
    assert row is not None
    return ARTIFACT_ROW.one(row)


async def artifacts_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int], *, documents: bool = True
) -> dict[int, ArtifactRow]:
    """Readable versions by id; ``documents=False`` leaves metadata out (None)."""
    rows = await db.fetch(
        sql.readable_artifacts_by_ids(documents),
        ids=list(ids),
        member_entity_ids=access.member_entity_ids(viewer),
    )
    return {a.id: a for a in ARTIFACT_ROW.all(rows)}


async def writable_artifact(
    conn: Connection, viewer: Viewer | None, version_id: int
) -> ArtifactRow:
    access.require_signed_in(viewer)
    artifact = (await artifacts_by_ids(conn, viewer, [version_id])).get(version_id)
    if artifact is None:
        raise NotFound("artifact not found")
    access.require_write(viewer, artifact, f"artifact {artifact.path}")
    return artifact


async def collections_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int]
) -> dict[int, CollectionRow]:
    rows = await db.fetch(
        sql.READABLE_COLLECTIONS_BY_IDS,
        ids=list(ids),
        member_entity_ids=access.member_entity_ids(viewer),
    )
    return {c.id: c for c in _COLLECTION.all(rows)}


async def collections_by_names(
    db: Queryable, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], CollectionRow]:
    """Collections by (project id, name), in projects already checked readable."""
    rows = await db.fetch(
        sql.COLLECTIONS_BY_NAMES,
        project_ids=[project for project, _ in keys],
        names=[name for _, name in keys],
    )
    return {(c.project_id, c.name): c for c in _COLLECTION.all(rows)}


def parse_spec(spec: str) -> tuple[str, int | None, str | None] | None:
    """("latest" | "index" | "alias", index, alias) for a version spec; None when no
    version can be named so."""
    try:
        check_storable_text(spec, "alias")
    except BadUserInput:
        return None  # no alias can be spelled like that, so nothing is named
    if spec.lower() == "latest":
        return ("latest", None, None)
    match = VERSION_SPEC_RE.fullmatch(spec)
    if match:
        return ("index", int(match[1]), None)
    return ("alias", None, spec)


async def find_artifact(db: Queryable, viewer: Viewer | None, path: str) -> ArtifactRow | None:
    """The version ``[entity/]project/name:spec`` names, if the viewer may read it: one
    round trip (project, collection, spec and the row resolved in one statement)."""
    return (await _find_artifact(db, viewer, path, producer=False))[0]


async def find_artifact_and_producer(
    db: Queryable, viewer: Viewer | None, path: str
) -> tuple[ArtifactRow | None, RunRow | None]:
    """find_artifact and, in the same round trip, the run that logged the version if the
    viewer may read it (what runs.runs_by_ids would give for ``logged_by``)."""
    return await _find_artifact(db, viewer, path, producer=True)


async def _find_artifact(
    db: Queryable, viewer: Viewer | None, path: str, *, producer: bool
) -> tuple[ArtifactRow | None, RunRow | None]:
    named = path_params(viewer, path)
    if named is None:
        return None, None
    kind, params = named
    row = await db.fetchrow(sql.readable_artifact_by_path(kind, producer), **params)
    if row is None:
        return None, None
    found = PRODUCER_ROW.one(row) if producer and row["producer_id"] is not None else None
    return ARTIFACT_ROW.one(row), found


async def find_artifact_as_key_holder(
    db: Queryable, key_hash: bytes, path: str, *, producer: bool
) -> tuple[Viewer | None, ArtifactRow | None, RunRow | None]:
    """The API key's holder (None for a wrong or revoked key: the caller refuses the
    request), and what find_artifact(_and_producer) gives that viewer, in the one round
    trip of the version's lookup. ``path`` must name its entity (nothing defaults to the
    viewer's before the viewer is known)."""
    named = path_params(None, path)
    if named is None:  # no version can be named so: only the key to look up
        return await accounts.viewer_by_key_hash_or_none(db, key_hash), None, None
    kind, params = named
    del params["member_entity_ids"]  # the key's holder's, read in the statement
    records = await db.fetch(
        sql.key_holders_artifact_by_path(kind, producer), key_hash=key_hash, **params
    )
    viewer, rest = accounts.split_key_holder(records)
    if viewer is None or not rest:
        return viewer, None, None
    row = rest[0]
    found = PRODUCER_ROW.one(row) if producer and row["producer_id"] is not None else None
    return viewer, ARTIFACT_ROW.one(row), found


def path_params(viewer: Viewer | None, path: str) -> tuple[str, dict[str, object]] | None:
    """The spec's kind and the parameters of sql.readable_artifact_by_path for ``path``;
    None when no version can be named so."""
    parsed = parse_artifact_path(path)
    entity = parsed.entity
    if entity is None:
        if viewer is None:
            raise BadUserInput(
                f"artifact path {path!r} has no entity and anonymous requests have no default: "
                "write 'entity/project/name:alias'"
            )
        entity = viewer.username
    spec = parse_spec(parsed.spec)
    if spec is None:
        return None
    kind, index, alias = spec
    named: dict[str, object] = {
        "entity": entity,
        "project": parsed.project,
        "name": parsed.name,
        "member_entity_ids": access.member_entity_ids(viewer),
    }
    if kind == "index":  # what the spec's kind of statement takes
        named["version_index"] = index
    elif kind == "alias":
        named["alias"] = alias
    return kind, named


async def versions_by_specs(
    db: Queryable, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], ArtifactRow]:
    """The version each spec (an alias, "latest" or "vN") names in its (readable)
    collection, for many (collection id, spec) pairs in one statement."""
    wanted = [(key, parsed) for key in keys if (parsed := parse_spec(key[1])) is not None]
    if not wanted:
        return {}
    rows = await db.fetch(
        sql.VERSIONS_BY_SPECS,
        collection_ids=[key[0] for key, _ in wanted],
        specs=[key[1] for key, _ in wanted],
        kinds=[kind for _, (kind, _, _) in wanted],
        indices=[index for _, (_, index, _) in wanted],
        aliases=[alias for _, (_, _, alias) in wanted],
    )
    found = ARTIFACT_ROW.all(rows)
    return {(r["wanted_collection"], r["wanted_spec"]): a for r, a in zip(rows, found, strict=True)}


def collection_page_key(project_id: int, type_: str | None, page: PageArgs) -> PageKey:
    check_cursor_shape(page.after, [str])
    return page_key(project_id, page, type_)


async def collection_pages(db: Queryable, keys: Sequence[PageKey]) -> list[Slice[CollectionRow]]:
    """Collections of (readable) projects by name, optionally of one type."""

    def one_page(key: PageKey) -> OnePage:
        params = cursor_params(key.after)
        if key.shape is not None:
            params["type"] = key.shape
        return OnePage(sql.collection_page(key.shape is not None, key.after is not None), params)

    slices = []
    for rows, has_next in await pages_by_parent(db, keys, one_page):
        items = _COLLECTION.all(rows)
        slices.append(Slice(items, [[c.name] for c in items], has_next))
    return slices


async def collection_counts(
    db: Queryable, keys: Sequence[tuple[int, str | None]]
) -> dict[tuple[int, str | None], int]:
    """How many collections each (project id, type or None for any) has."""
    rows = await db.fetch(
        sql.COLLECTION_COUNTS,
        project_ids=[project for project, _ in keys],
        types=[type_ for _, type_ in keys],
    )
    return {(r["project_id"], r["type"]): r["n"] for r in rows}


def version_page_key(collection_id: int, page: PageArgs) -> PageKey:
    check_cursor_shape(page.after, [int])
    if page.after is not None and not 0 <= page.after[0] <= MAX_VERSION_INDEX:
        raise BadUserInput("invalid cursor: pass an endCursor from an earlier page")
    return page_key(collection_id, page)


async def version_pages(db: Queryable, keys: Sequence[PageKey]) -> list[Slice[ArtifactRow]]:
    """Committed versions and tombstones of collections, newest first (PENDING ones are
    invisible)."""

    def one_page(key: PageKey) -> OnePage:
        return OnePage(sql.version_page(key.after is not None), cursor_params(key.after))

    slices = []
    for rows, has_next in await pages_by_parent(db, keys, one_page):
        items = ARTIFACT_ROW.all(rows)
        slices.append(Slice(items, [[a.version_index] for a in items], has_next))
    return slices


async def version_counts(db: Queryable, collection_ids: Sequence[int]) -> dict[int, int]:
    rows = await db.fetch(sql.VERSION_COUNTS, collection_ids=list(collection_ids))
    return {r["collection_id"]: r["n"] for r in rows}
