"""Projects: lookup with access, creation, visibility changes, listing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from server.db.database import Connection, Database, Queryable
from server.db.rows import RowBuilder
from server.domain import access
from server.domain.access import ProjectAccess, Viewer
from server.domain.accounts import require_entity
from server.domain.names import check_name, check_storable_text
from server.domain.pagination import (
    OnePage,
    Page,
    PageArgs,
    PageKey,
    Slice,
    check_cursor_shape,
    cursor_params,
    page_key,
    pages_by_parent,
)
from server.domain.sql import projects as sql
from server.errors import Conflict, NotFound

VISIBILITIES = ("PRIVATE", "PUBLIC", "OPEN")


@dataclass(slots=True)
class ProjectRow(ProjectAccess):
    id: int
    entity_name: str
    name: str
    created_at: datetime


_PROJECT = RowBuilder(ProjectRow)


async def find_project(
    db: Queryable, viewer: Viewer | None, entity: str, name: str
) -> ProjectRow | None:
    """The project if it exists and the viewer may read it."""
    check_name(entity, "entity name")
    check_name(name, "project name")
    row = await db.fetchrow(sql.PROJECT_BY_NAME, entity=entity, name=name)
    project = _PROJECT.one(row) if row else None
    return project if project and access.can_read(viewer, project) else None


async def readable_projects_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int]
) -> dict[int, ProjectRow]:
    rows = await db.fetch(
        sql.READABLE_PROJECTS_BY_IDS,
        ids=list(ids),
        member_entity_ids=access.member_entity_ids(viewer),
    )
    return {p.id: p for p in _PROJECT.all(rows)}


async def writable_project(
    conn: Connection, viewer: Viewer | None, entity: str, name: str, *, create: bool = False
) -> ProjectRow:
    """The project the viewer is about to write to; created PRIVATE when ``create`` and the
    viewer is a member of the entity. Invisible projects are NOT_FOUND."""
    access.require_signed_in(viewer)
    check_name(entity, "entity name")
    check_name(name, "project name")
    row = await conn.fetchrow(sql.PROJECT_BY_NAME, entity=entity, name=name)
    if row is None:
        owner = await require_entity(conn, entity) if create else None
        # A non-member gets the answer a hidden PRIVATE project gives, so that the two
        # cannot be told apart.
        if owner is None or not access.is_member(viewer, owner.id):
            raise NotFound(f"project {entity}/{name} not found")
        return await _create_project(conn, viewer, entity, name, "PRIVATE", exist_ok=True)
    project = _PROJECT.one(row)
    access.require_write(viewer, project, f"project {entity}/{name}")
    return project


async def create_project(
    db: Database, viewer: Viewer | None, entity: str, name: str, visibility: str
) -> ProjectRow:
    access.require_signed_in(viewer)
    async with db.transaction() as conn:
        return await _create_project(conn, viewer, entity, name, visibility, exist_ok=False)


async def _create_project(
    conn: Connection,
    viewer: Viewer | None,
    entity: str,
    name: str,
    visibility: str,
    *,
    exist_ok: bool,
) -> ProjectRow:
    access.require_signed_in(viewer)
    check_name(name, "project name")
    owner = await require_entity(conn, entity)
    access.require_entity_member(viewer, owner.id, entity)
    created = await conn.fetchval(sql.INSERT, entity_id=owner.id, name=name, visibility=visibility)
    if created is None and not exist_ok:
        raise Conflict(f"project {entity}/{name} exists already")
    found = await conn.fetchrow(sql.PROJECT_IN_ENTITY, entity_id=owner.id, name=name)
    assert found is not None
    return _PROJECT.one(found)


async def update_project(
    db: Database, viewer: Viewer | None, entity: str, name: str, visibility: str | None
) -> ProjectRow:
    access.require_signed_in(viewer)
    async with db.transaction() as conn:
        project = await find_project(conn, viewer, entity, name)
        if project is None:
            raise NotFound(f"project {entity}/{name} not found")
        if visibility is not None:
            # setting it, even to its current value, is an admin's decision
            access.require_entity_admin(viewer, project.entity_id, entity)
            if visibility != project.visibility:
                await conn.execute(sql.SET_VISIBILITY, id=project.id, visibility=visibility)
        else:
            access.require_write(viewer, project, f"project {entity}/{name}")
        row = await conn.fetchrow(sql.PROJECT_BY_ID, id=project.id)
        assert row is not None
        return _PROJECT.one(row)


def project_page_key(entity_id: int, page: PageArgs) -> PageKey:
    check_cursor_shape(page.after, [str])
    return page_key(entity_id, page)


async def project_pages(
    db: Queryable, viewer: Viewer | None, keys: Sequence[PageKey]
) -> list[Slice[ProjectRow]]:
    """Readable projects of each entity, by name."""
    members = access.member_entity_ids(viewer)

    def one_page(key: PageKey) -> OnePage:
        return OnePage(
            sql.page_by_entity(key.after is not None),
            {"member_entity_ids": members, **cursor_params(key.after)},
        )

    slices = []
    for rows, has_next in await pages_by_parent(db, keys, one_page):
        items = _PROJECT.all(rows)
        slices.append(Slice(items, [[p.name] for p in items], has_next))
    return slices


async def project_counts(
    db: Queryable, viewer: Viewer | None, entity_ids: Sequence[int]
) -> dict[int, int]:
    rows = await db.fetch(
        sql.READABLE_COUNTS_BY_ENTITY,
        entity_ids=list(entity_ids),
        member_entity_ids=access.member_entity_ids(viewer),
    )
    return {r["entity_id"]: r["n"] for r in rows}


async def projects_by_names(
    db: Queryable, viewer: Viewer | None, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], ProjectRow]:
    """Readable projects by (entity id, name)."""
    rows = await db.fetch(
        sql.READABLE_PROJECTS_BY_NAMES,
        entity_ids=[entity for entity, _ in keys],
        names=[name for _, name in keys],
        member_entity_ids=access.member_entity_ids(viewer),
    )
    return {(p.entity_id, p.name): p for p in _PROJECT.all(rows)}


async def list_readable_projects(
    db: Queryable, viewer: Viewer | None, search: str | None, page: PageArgs
) -> Page[ProjectRow]:
    """Every project the viewer may read (public and open ones for anonymous viewers), by
    entity then name; ``search`` keeps those whose name contains it, ignoring case."""
    check_cursor_shape(page.after, [str, str])
    filters: dict[str, object] = {"member_entity_ids": access.member_entity_ids(viewer)}
    if search:
        check_storable_text(search, "search")
        filters["search"] = search
    rows = await db.fetch(
        sql.readable_page(bool(search), page.after is not None),
        page_size=page.first + 1,
        **filters,
        **cursor_params(page.after),
    )
    items = _PROJECT.all(rows[: page.first])

    async def count() -> int:
        return int(await db.fetchval(sql.readable_count(bool(search)), **filters))

    return Page(items, [[p.entity_name, p.name] for p in items], len(rows) > page.first, count)
