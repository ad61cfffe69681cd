"""Artifact collections and versions: rows, lookups by id/path/alias, listings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from server.db.database import Queryable
from server.domain import access
from server.domain.access import ProjectAccess, Viewer
from server.domain.ids import encode_id
from server.domain.manifests import check_storable_text
from server.domain.names import check_name, parse_artifact_path
from server.domain.pagination import Page, PageArgs, check_cursor_shape, keyset_after
from server.errors import BadUserInput

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


# Columns in ArtifactRow's field order: rows are built positionally (5,000 of them in a
# big lineage answer; by name it took three times as long). Aliases are not here: they
# take two subqueries a row (half this query's time), so they load only when asked for
# (server/domain/aliases.py aliases_by_versions).
ARTIFACT_COLUMNS = """p.entity_id, p.visibility, v.id, v.collection_id, v.project_id,
       e.name AS entity_name, p.name AS project_name, c.name, c.type, v.version_index,
       v.state, v.digest, v.description, v.metadata, v.size, v.file_count, v.ttl_seconds,
       v.expires_at, v.created_at, v.logged_by"""
ARTIFACT_FROM = """FROM artifact_versions v
  JOIN artifact_collections c ON c.id = v.collection_id
  JOIN projects p ON p.id = v.project_id
  JOIN entities e ON e.id = p.entity_id"""
ARTIFACT_SELECT = f"SELECT {ARTIFACT_COLUMNS}\n  {ARTIFACT_FROM}"
_ROW_WIDTH = ARTIFACT_COLUMNS.count(",") + 1  # a query may add columns after these
# metadata (a JSON document, no size bound) left out: see runs.RUN_COLUMNS_WITHOUT_DOCUMENTS
ARTIFACT_COLUMNS_WITHOUT_DOCUMENTS = ARTIFACT_COLUMNS.replace("v.metadata", "NULL::jsonb", 1)
_SELECT_WITHOUT_DOCUMENTS = f"SELECT {ARTIFACT_COLUMNS_WITHOUT_DOCUMENTS}\n  {ARTIFACT_FROM}"

_COLLECTION_SELECT = """
SELECT c.*, p.name AS project_name, e.name AS entity_name, p.entity_id, p.visibility
  FROM artifact_collections c
  JOIN projects p ON p.id = c.project_id
  JOIN entities e ON e.id = p.entity_id"""


async def lock_collection(conn: Queryable, collection_id: int) -> None:
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
    await conn.execute(
        "SELECT 1 FROM artifact_collections WHERE id = $1 FOR NO KEY UPDATE", collection_id
    )


def artifact_row(r: asyncpg.Record) -> ArtifactRow:
    """An ArtifactRow from a record that starts with ARTIFACT_COLUMNS."""
    return ArtifactRow(*r[:_ROW_WIDTH])


def _collection(r: asyncpg.Record) -> CollectionRow:
    return CollectionRow(
        entity_id=r["entity_id"], visibility=r["visibility"], id=r["id"],
        project_id=r["project_id"], entity_name=r["entity_name"], project_name=r["project_name"],
        name=r["name"], type=r["type"], description=r["description"], created_at=r["created_at"],
    )  # fmt: skip


async def get_artifact(db: Queryable, version_id: int) -> ArtifactRow:
    row = await db.fetchrow(f"{ARTIFACT_SELECT} WHERE v.id = $1", version_id)
    assert row is not None
    return artifact_row(row)


async def artifacts_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int], *, documents: bool = True
) -> dict[int, ArtifactRow]:
    """Readable versions by id; ``documents=False`` leaves metadata out (None)."""
    select = ARTIFACT_SELECT if documents else _SELECT_WITHOUT_DOCUMENTS
    rows = await db.fetch(
        f"{select} WHERE v.id = ANY($1::bigint[]) AND {access.readable_sql('p', 2)}",
        list(ids),
        access.member_entity_ids(viewer),
    )
    return {r["id"]: artifact_row(r) for r in rows}


async def collections_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int]
) -> dict[int, CollectionRow]:
    rows = await db.fetch(
        f"{_COLLECTION_SELECT} WHERE c.id = ANY($1::bigint[]) AND {access.readable_sql('p', 2)}",
        list(ids),
        access.member_entity_ids(viewer),
    )
    return {r["id"]: _collection(r) for r in rows}


async def find_collection(db: Queryable, project_id: int, name: str) -> CollectionRow | None:
    check_name(name, "artifact name")
    row = await db.fetchrow(
        f"{_COLLECTION_SELECT} WHERE c.project_id = $1 AND c.name = $2", project_id, name
    )
    return _collection(row) if row else None


def _spec_sql(spec: str, collection: str, param: int) -> tuple[str, list[Any]] | None:
    """SQL for the version id an alias, "latest" or "vN" names in ``collection`` (an SQL
    expression), with its parameters from ``$param``; None when no version can match."""
    try:
        check_storable_text(spec, "alias")
    except BadUserInput:
        return None  # no alias can be spelled like that, so nothing is named
    if spec.lower() == "latest":
        return (
            f"""SELECT l.id FROM artifact_versions l
                 WHERE l.collection_id = {collection} AND l.state = 'COMMITTED'
                 ORDER BY l.version_index DESC LIMIT 1""",
            [],
        )
    match = VERSION_SPEC_RE.fullmatch(spec)
    if match:
        return (
            f"""SELECT l.id FROM artifact_versions l
                 WHERE l.collection_id = {collection} AND l.version_index = ${param}""",
            [int(match[1])],
        )
    return (
        f"""SELECT a.version_id FROM artifact_aliases a
             WHERE a.collection_id = {collection} AND lower(a.alias) = lower(${param})""",
        [spec],
    )


async def find_artifact(db: Queryable, viewer: Viewer | None, path: str) -> ArtifactRow | None:
    """The version ``[entity/]project/name:spec`` names, if the viewer may read it: one
    round trip (project, collection, spec and the row resolved in one statement)."""
    parsed = parse_artifact_path(path)
    entity = parsed.entity
    if entity is None:
        if viewer is None:
            raise BadUserInput(
                f"artifact path {path!r} has no entity and anonymous requests have no default: "
                "write 'entity/project/name:alias'"
            )
        entity = viewer.username
    spec = _spec_sql(parsed.spec, "c.id", 5)
    if spec is None:
        return None
    spec_sql, spec_args = spec
    row = await db.fetchrow(
        f"""{ARTIFACT_SELECT} WHERE v.id = (
               SELECT ({spec_sql}) FROM artifact_collections c
                 JOIN projects p ON p.id = c.project_id JOIN entities e ON e.id = p.entity_id
                WHERE e.name = $1 AND p.name = $2 AND c.name = $3
                  AND {access.readable_sql("p", 4)})""",
        entity,
        parsed.project,
        parsed.name,
        access.member_entity_ids(viewer),
        *spec_args,
    )
    return artifact_row(row) if row else None


async def version_in_collection(db: Queryable, collection_id: int, spec: str) -> ArtifactRow | None:
    """The version ``spec`` names in a (readable) collection."""
    found = _spec_sql(spec, "$1", 2)
    if found is None:
        return None
    spec_sql, spec_args = found
    row = await db.fetchrow(
        f"{ARTIFACT_SELECT} WHERE v.id = ({spec_sql})", collection_id, *spec_args
    )
    return artifact_row(row) if row else None


async def list_collections(
    db: Queryable, project_id: int, type_: str | None, page: PageArgs
) -> Page[CollectionRow]:
    """Collections of a (readable) project by name, optionally of one type."""
    check_cursor_shape(page.after, [str])
    args: list[Any] = [project_id]
    where = "c.project_id = $1"
    if type_ is not None:
        args.append(type_)
        where += f" AND c.type = ${len(args)}"
    count_where, count_args = where, list(args)
    if page.after is not None:
        where += f" AND {keyset_after([('c.name', 'ASC')], len(args) + 1)}"
        args += page.after
    rows = await db.fetch(
        f"{_COLLECTION_SELECT} WHERE {where} ORDER BY c.name LIMIT {page.first + 1}", *args
    )
    items = [_collection(r) for r in rows[: page.first]]

    async def count() -> int:
        return int(
            await db.fetchval(
                f"SELECT count(*) FROM artifact_collections c WHERE {count_where}", *count_args
            )
        )

    return Page(items, [[c.name] for c in items], len(rows) > page.first, count)


async def list_versions(db: Queryable, collection_id: int, page: PageArgs) -> Page[ArtifactRow]:
    """Committed versions and tombstones, newest first (PENDING ones are invisible)."""
    check_cursor_shape(page.after, [int])
    if page.after is not None and not 0 <= page.after[0] <= MAX_VERSION_INDEX:
        raise BadUserInput("invalid cursor: pass an endCursor from an earlier page")
    args: list[Any] = [collection_id]
    where = "v.collection_id = $1 AND v.state <> 'PENDING'"
    if page.after is not None:
        where += " AND v.version_index < $2"
        args += page.after
    rows = await db.fetch(
        f"{ARTIFACT_SELECT} WHERE {where} ORDER BY v.version_index DESC LIMIT {page.first + 1}",
        *args,
    )
    items = [artifact_row(r) for r in rows[: page.first]]

    async def count() -> int:
        return int(await db.fetchval(
            "SELECT count(*) FROM artifact_versions WHERE collection_id = $1 AND state <> 'PENDING'",
            collection_id,
        ))  # fmt: skip

    return Page(items, [[a.version_index] for a in items], len(rows) > page.first, count)
