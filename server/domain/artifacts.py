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
from server.domain.names import parse_artifact_path
from server.domain.pagination import (
    OnePage,
    PageArgs,
    PageKey,
    Slice,
    check_cursor_shape,
    keyset_after,
    page_key,
    pages_by_parent,
)
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


async def collections_by_names(
    db: Queryable, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], CollectionRow]:
    """Collections by (project id, name), in projects already checked readable."""
    rows = await db.fetch(
        f"""{_COLLECTION_SELECT} WHERE (c.project_id, c.name) IN
                   (SELECT * FROM unnest($1::bigint[], $2::text[]))""",
        [project for project, _ in keys],
        [name for _, name in keys],
    )
    return {(r["project_id"], r["name"]): _collection(r) for r in rows}


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


def parse_spec(spec: str) -> tuple[str, int | None, str | None] | None:
    """("latest" | "index" | "alias", index, alias) for a version spec; None when no
    version can be named so (see ``_spec_sql``, its SQL twin for paths)."""
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


async def versions_by_specs(
    db: Queryable, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], ArtifactRow]:
    """The version each spec (an alias, "latest" or "vN") names in its (readable)
    collection, for many (collection id, spec) pairs in one statement."""
    wanted = [(key, parsed) for key in keys if (parsed := parse_spec(key[1])) is not None]
    if not wanted:
        return {}
    rows = await db.fetch(
        f"""WITH wanted AS (
                SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[],
                                     $5::text[]) AS w(collection_id, spec, kind, index, alias)),
            found AS (
                SELECT w.collection_id, w.spec, CASE w.kind
                    WHEN 'latest' THEN (SELECT l.id FROM artifact_versions l
                                         WHERE l.collection_id = w.collection_id
                                           AND l.state = 'COMMITTED'
                                         ORDER BY l.version_index DESC LIMIT 1)
                    WHEN 'index' THEN (SELECT l.id FROM artifact_versions l
                                        WHERE l.collection_id = w.collection_id
                                          AND l.version_index = w.index)
                    ELSE (SELECT a.version_id FROM artifact_aliases a
                           WHERE a.collection_id = w.collection_id
                             AND lower(a.alias) = lower(w.alias)) END AS id
                  FROM wanted w)
            SELECT {ARTIFACT_COLUMNS}, f.collection_id AS wanted_collection, f.spec AS wanted_spec
              {ARTIFACT_FROM} JOIN found f ON f.id = v.id""",
        [key[0] for key, _ in wanted],
        [key[1] for key, _ in wanted],
        [kind for _, (kind, _, _) in wanted],
        [index for _, (_, index, _) in wanted],
        [alias for _, (_, _, alias) in wanted],
    )
    return {(r["wanted_collection"], r["wanted_spec"]): artifact_row(r) for r in rows}


def collection_page_key(project_id: int, type_: str | None, page: PageArgs) -> PageKey:
    check_cursor_shape(page.after, [str])
    return page_key(project_id, page, type_)


async def collection_pages(db: Queryable, keys: Sequence[PageKey]) -> list[Slice[CollectionRow]]:
    """Collections of (readable) projects by name, optionally of one type."""

    def one_page(key: PageKey, param: int) -> OnePage:
        args: list[Any] = []
        where = "c.project_id = k.parent"
        if key.shape is not None:
            args.append(key.shape)
            where += f" AND c.type = ${param}"
        after = None
        if key.after is not None:
            after = keyset_after([("s.name", "ASC")], param + len(args))
            args += key.after
        return OnePage(f"{_COLLECTION_SELECT} WHERE {where}", "s.name", after, args)

    slices = []
    for rows, has_next in await pages_by_parent(db, keys, one_page):
        items = [_collection(r) for r in rows]
        slices.append(Slice(items, [[c.name] for c in items], has_next))
    return slices


async def collection_counts(
    db: Queryable, keys: Sequence[tuple[int, str | None]]
) -> dict[tuple[int, str | None], int]:
    """How many collections each (project id, type or None for any) has."""
    rows = await db.fetch(
        """SELECT w.project_id, w.type, count(c.id) AS n
             FROM unnest($1::bigint[], $2::text[]) AS w(project_id, type)
             JOIN artifact_collections c
               ON c.project_id = w.project_id AND (w.type IS NULL OR c.type = w.type)
            GROUP BY 1, 2""",
        [project for project, _ in keys],
        [type_ for _, type_ in keys],
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

    def one_page(key: PageKey, param: int) -> OnePage:
        return OnePage(
            f"{ARTIFACT_SELECT} WHERE v.collection_id = k.parent AND v.state <> 'PENDING'",
            "s.version_index DESC",
            f"s.version_index < ${param}" if key.after else None,
            list(key.after or ()),
        )

    slices = []
    for rows, has_next in await pages_by_parent(db, keys, one_page):
        items = [artifact_row(r) for r in rows]
        slices.append(Slice(items, [[a.version_index] for a in items], has_next))
    return slices


async def version_counts(db: Queryable, collection_ids: Sequence[int]) -> dict[int, int]:
    rows = await db.fetch(
        """SELECT collection_id, count(*) AS n FROM artifact_versions
            WHERE collection_id = ANY($1::bigint[]) AND state <> 'PENDING' GROUP BY 1""",
        list(collection_ids),
    )
    return {r["collection_id"]: r["n"] for r in rows}
