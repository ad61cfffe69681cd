"""Sweeps: groups of runs in one project."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from server.db.database import Queryable
from server.domain import access
from server.domain.access import Viewer
from server.domain.names import check_name, check_text, generate_id, parse_object_path
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
from server.domain.projects import writable_project
from server.domain.runs import check_json_object
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


_SELECT = """SELECT s.*, e.name AS entity_name, p.name AS project_name
               FROM sweeps s JOIN projects p ON p.id = s.project_id
               JOIN entities e ON e.id = p.entity_id"""


def _sweep(r: asyncpg.Record) -> SweepRow:
    return SweepRow(
        r["id"], r["project_id"], r["entity_name"], r["project_name"], r["sweep_id"], r["name"],
        r["config"], r["created_at"],
    )  # fmt: skip


async def sweeps_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int]
) -> dict[int, SweepRow]:
    rows = await db.fetch(
        f"{_SELECT} WHERE s.id = ANY($1::bigint[]) AND {access.readable_sql('p', 2)}",
        list(ids),
        access.member_entity_ids(viewer),
    )
    return {r["id"]: _sweep(r) for r in rows}


async def find_sweep(db: Queryable, viewer: Viewer | None, path: str) -> SweepRow | None:
    parsed = parse_object_path(path, "sweep")
    row = await db.fetchrow(
        f"{_SELECT} WHERE e.name = $1 AND p.name = $2 AND s.sweep_id = $3"
        f" AND {access.readable_sql('p', 4)}",
        parsed.entity, parsed.project, parsed.key, access.member_entity_ids(viewer),
    )  # fmt: skip
    return _sweep(row) if row else None


async def create_sweep(
    db: Queryable,
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
    proj = await writable_project(db, viewer, entity, project, create=True)
    for _ in range(5):
        new_id = sweep_id or generate_id()
        pk = await db.fetchval(
            """INSERT INTO sweeps (project_id, sweep_id, name, config)
               VALUES ($1, $2, $3, coalesce($4::jsonb, '{}'))
               ON CONFLICT (project_id, sweep_id) DO NOTHING RETURNING id""",
            proj.id, new_id, name, config,
        )  # fmt: skip
        if pk is not None:
            row = await db.fetchrow(f"{_SELECT} WHERE s.id = $1", pk)
            assert row is not None
            return _sweep(row)
        if sweep_id is not None:
            raise Conflict(f"sweep {entity}/{project}/{sweep_id} exists already")
    raise Conflict("could not generate a free sweep id; try again")


def sweep_page_key(project_id: int, page: PageArgs) -> PageKey:
    check_cursor_shape(page.after, [datetime, int])
    return page_key(project_id, page)


async def sweep_pages(db: Queryable, keys: Sequence[PageKey]) -> list[Slice[SweepRow]]:
    """Sweeps of (readable) projects, oldest first."""

    def one_page(key: PageKey, param: int) -> OnePage:
        columns = [("s.created_at", "ASC"), ("s.id", "ASC")]
        after = keyset_after(columns, param) if key.after else None
        return OnePage(
            f"{_SELECT} WHERE s.project_id = k.parent",
            "s.created_at, s.id",
            after,
            list(key.after or ()),
        )

    slices = []
    for rows, has_next in await pages_by_parent(db, keys, one_page):
        items = [_sweep(r) for r in rows]
        slices.append(Slice(items, [[w.created_at, w.id] for w in items], has_next))
    return slices


async def sweep_counts(db: Queryable, project_ids: Sequence[int]) -> dict[int, int]:
    rows = await db.fetch(
        "SELECT project_id, count(*) AS n FROM sweeps WHERE project_id = ANY($1::bigint[])"
        " GROUP BY 1",
        list(project_ids),
    )
    return {r["project_id"]: r["n"] for r in rows}
