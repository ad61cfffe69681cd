"""Projects: lookup with access, creation, visibility changes, listing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server.db.database import Queryable
from server.domain import access
from server.domain.access import ProjectAccess, Viewer
from server.domain.accounts import require_entity
from server.domain.manifests import check_storable_text
from server.domain.names import check_name
from server.domain.pagination import (
    OnePage,
    Page,
    PageArgs,
    PageKey,
    Slice,
    check_cursor_shape,
    keyset_after,
    page_key,
    pages_by_parent,
)
from server.errors import Conflict, NotFound

VISIBILITIES = ("PRIVATE", "PUBLIC", "OPEN")


@dataclass(slots=True)
class ProjectRow(ProjectAccess):
    id: int
    entity_name: str
    name: str
    created_at: datetime


_SELECT = """SELECT p.id, p.entity_id, p.visibility, e.name AS entity_name, p.name, p.created_at
               FROM projects p JOIN entities e ON e.id = p.entity_id"""


def _project(r: asyncpg.Record) -> ProjectRow:
    return ProjectRow(
        entity_id=r["entity_id"],
        visibility=r["visibility"],
        id=r["id"],
        entity_name=r["entity_name"],
        name=r["name"],
        created_at=r["created_at"],
    )


async def find_project(
    db: Queryable, viewer: Viewer | None, entity: str, name: str
) -> ProjectRow | None:
    """The project if it exists and the viewer may read it."""
    check_name(entity, "entity name")
    check_name(name, "project name")
    row = await db.fetchrow(f"{_SELECT} WHERE e.name = $1 AND p.name = $2", entity, name)
    project = _project(row) if row else None
    return project if project and access.can_read(viewer, project) else None


async def readable_projects_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int]
) -> dict[int, ProjectRow]:
    rows = await db.fetch(
        f"{_SELECT} WHERE p.id = ANY($1::bigint[]) AND {access.readable_sql('p', 2)}",
        list(ids),
        access.member_entity_ids(viewer),
    )
    return {r["id"]: _project(r) for r in rows}


async def writable_project(
    db: Queryable, viewer: Viewer | None, entity: str, name: str, *, create: bool = False
) -> ProjectRow:
    """The project the viewer is about to write to; created PRIVATE when ``create`` and the
    viewer is a member of the entity. Invisible projects are NOT_FOUND."""
    access.require_signed_in(viewer)
    check_name(entity, "entity name")
    check_name(name, "project name")
    row = await db.fetchrow(f"{_SELECT} WHERE e.name = $1 AND p.name = $2", entity, name)
    if row is None:
        owner = await require_entity(db, entity) if create else None
        # A non-member gets the answer a hidden PRIVATE project gives, so that the two
        # cannot be told apart.
        if owner is None or not access.is_member(viewer, owner.id):
            raise NotFound(f"project {entity}/{name} not found")
        return await create_project(db, viewer, entity, name, "PRIVATE", exist_ok=True)
    project = _project(row)
    access.require_write(viewer, project, f"project {entity}/{name}")
    return project


async def create_project(
    db: Queryable,
    viewer: Viewer | None,
    entity: str,
    name: str,
    visibility: str,
    *,
    exist_ok: bool = False,
) -> ProjectRow:
    access.require_signed_in(viewer)
    check_name(name, "project name")
    owner = await require_entity(db, entity)
    access.require_entity_member(viewer, owner.id, entity)
    row = await db.fetchrow(
        """INSERT INTO projects (entity_id, name, visibility) VALUES ($1, $2, $3)
           ON CONFLICT (entity_id, name) DO NOTHING RETURNING id""",
        owner.id,
        name,
        visibility,
    )
    if row is None and not exist_ok:
        raise Conflict(f"project {entity}/{name} exists already")
    found = await db.fetchrow(f"{_SELECT} WHERE p.entity_id = $1 AND p.name = $2", owner.id, name)
    assert found is not None
    return _project(found)


async def update_project(
    db: Queryable, viewer: Viewer | None, entity: str, name: str, visibility: str | None
) -> ProjectRow:
    access.require_signed_in(viewer)
    project = await find_project(db, viewer, entity, name)
    if project is None:
        raise NotFound(f"project {entity}/{name} not found")
    if visibility is not None:
        # setting it, even to its current value, is an admin's decision
        access.require_entity_admin(viewer, project.entity_id, entity)
        if visibility != project.visibility:
            await db.execute(
                "UPDATE projects SET visibility = $2 WHERE id = $1", project.id, visibility
            )
    else:
        access.require_write(viewer, project, f"project {entity}/{name}")
    row = await db.fetchrow(f"{_SELECT} WHERE p.id = $1", project.id)
    assert row is not None
    return _project(row)


def project_page_key(entity_id: int, page: PageArgs) -> PageKey:
    check_cursor_shape(page.after, [str])
    return page_key(entity_id, page)


async def project_pages(
    db: Queryable, viewer: Viewer | None, keys: Sequence[PageKey]
) -> list[Slice[ProjectRow]]:
    """Readable projects of each entity, by name."""

    def one_page(key: PageKey, param: int) -> OnePage:
        after = keyset_after([("s.name", "ASC")], param + 1) if key.after else None
        return OnePage(
            f"{_SELECT} WHERE p.entity_id = k.parent AND {access.readable_sql('p', param)}",
            "s.name",
            after,
            [access.member_entity_ids(viewer), *(key.after or ())],
        )

    slices = []
    for rows, has_next in await pages_by_parent(db, keys, one_page):
        items = [_project(r) for r in rows]
        slices.append(Slice(items, [[p.name] for p in items], has_next))
    return slices


async def project_counts(
    db: Queryable, viewer: Viewer | None, entity_ids: Sequence[int]
) -> dict[int, int]:
    rows = await db.fetch(
        f"""SELECT p.entity_id, count(*) AS n FROM projects p
             WHERE p.entity_id = ANY($1::bigint[]) AND {access.readable_sql("p", 2)}
             GROUP BY 1""",
        list(entity_ids),
        access.member_entity_ids(viewer),
    )
    return {r["entity_id"]: r["n"] for r in rows}


async def projects_by_names(
    db: Queryable, viewer: Viewer | None, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], ProjectRow]:
    """Readable projects by (entity id, name)."""
    rows = await db.fetch(
        f"""{_SELECT} WHERE (p.entity_id, p.name) IN
                   (SELECT * FROM unnest($1::bigint[], $2::text[]))
               AND {access.readable_sql("p", 3)}""",
        [entity for entity, _ in keys],
        [name for _, name in keys],
        access.member_entity_ids(viewer),
    )
    return {(r["entity_id"], r["name"]): _project(r) for r in rows}


async def list_readable_projects(
    db: Queryable, viewer: Viewer | None, search: str | None, page: PageArgs
) -> Page[ProjectRow]:
    """Every project the viewer may read (public and open ones for anonymous viewers), by
    entity then name; ``search`` keeps those whose name contains it, ignoring case."""
    check_cursor_shape(page.after, [str, str])
    where = access.readable_sql("p", 1)
    args: list[object] = [access.member_entity_ids(viewer)]
    if search:
        check_storable_text(search, "search")
        args.append(search)
        where += f" AND strpos(lower(p.name), lower(${len(args)})) > 0"
    count_where, count_args = where, list(args)
    if page.after is not None:
        where += f" AND {keyset_after([('e.name', 'ASC'), ('p.name', 'ASC')], len(args) + 1)}"
        args += page.after
    rows = await db.fetch(
        f"{_SELECT} WHERE {where} ORDER BY e.name, p.name LIMIT {page.first + 1}", *args
    )
    items = [_project(r) for r in rows[: page.first]]

    async def count() -> int:
        return int(
            await db.fetchval(f"SELECT count(*) FROM projects p WHERE {count_where}", *count_args)
        )

    return Page(items, [[p.entity_name, p.name] for p in items], len(rows) > page.first, count)
