"""Sweeps: groups of runs in one project."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.db.database import Database, Queryable
from server.db.rows import RowBuilder
from server.domain import access
from server.domain.access import Viewer
from server.domain.json_documents import check_json_object
from server.domain.names import check_name, check_text, generate_id, parse_object_path
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
from server.domain.projects import writable_project
from server.domain.sql import sweeps as sql
from server.errors import Conflict


@dataclass(frozen=True)
class SweepRow:
    id: int
    project_id: int
    entity_name: str
    project_name: str
    sweep_id: str
    name: str | None
    config: dict[str, Any]
    created_at: datetime

    @property
    def path(self) -> str:
        return f"{self.entity_name}/{self.project_name}/{self.sweep_id}"


_SWEEP = RowBuilder(SweepRow)


async def sweeps_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int]
) -> dict[int, SweepRow]:
    rows = await db.fetch(
        sql.READABLE_SWEEPS_BY_IDS,
        ids=list(ids),
        member_entity_ids=access.member_entity_ids(viewer),
    )
    return {w.id: w for w in _SWEEP.all(rows)}


async def find_sweep(db: Queryable, viewer: Viewer | None, path: str) -> SweepRow | None:
    parsed = parse_object_path(path, "sweep")
    row = await db.fetchrow(
        sql.READABLE_SWEEP_BY_PATH,
        entity=parsed.entity,
        project=parsed.project,
        sweep_id=parsed.key,
        member_entity_ids=access.member_entity_ids(viewer),
    )
    return _SWEEP.one(row) if row else None


async def create_sweep(
    db: Database,
    viewer: Viewer | None,
    *,
    entity: str | None,
    project: str,
    sweep_id: str | None,
    name: str | None,
    config: Any,
) -> SweepRow:
    signed_in = access.require_signed_in(viewer)
    entity = entity if entity is not None else signed_in.username
    if sweep_id is not None:
        check_name(sweep_id, "sweep id")
    check_text(name, "sweep name")
    if config is not None:
        check_json_object(config, "config")
    async with db.transaction() as conn:
        proj = await writable_project(conn, viewer, entity, project, create=True)
        for _ in range(5):
            new_id = sweep_id or generate_id()
            pk = await conn.fetchval(
                sql.INSERT, project_id=proj.id, sweep_id=new_id, name=name, config=config
            )
            if pk is not None:
                row = await conn.fetchrow(sql.SWEEP_BY_ID, id=pk)
                assert row is not None
                return _SWEEP.one(row)
            if sweep_id is not None:
                raise Conflict(f"sweep {entity}/{project}/{sweep_id} exists already")
        raise Conflict("could not generate a free sweep id; try again")


def sweep_page_key(project_id: int, page: PageArgs) -> PageKey:
    check_cursor_shape(page.after, [datetime, int])
    return page_key(project_id, page)


async def sweep_pages(db: Queryable, keys: Sequence[PageKey]) -> list[Slice[SweepRow]]:
    """Sweeps of (readable) projects, oldest first."""

    def one_page(key: PageKey) -> OnePage:
        return OnePage(sql.page_by_project(key.after is not None), cursor_params(key.after))

    slices = []
    for rows, has_next in await pages_by_parent(db, keys, one_page):
        items = _SWEEP.all(rows)
        slices.append(Slice(items, [[w.created_at, w.id] for w in items], has_next))
    return slices


async def sweep_counts(db: Queryable, project_ids: Sequence[int]) -> dict[int, int]:
    rows = await db.fetch(sql.COUNTS_BY_PROJECT, project_ids=list(project_ids))
    return {r["project_id"]: r["n"] for r in rows}
