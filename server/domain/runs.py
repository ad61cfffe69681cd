"""Runs: upsert with resume modes, config/summary merging, ordered listing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import asyncpg

from server.db.database import Database, Queryable
from server.db.rows import RowBuilder
from server.domain import access
from server.domain.access import Viewer
from server.domain.ids import encode_id
from server.domain.json_documents import check_json_object
from server.domain.names import check_name, check_text, generate_id, parse_object_path
from server.domain.pagination import (
    OnePage,
    PageArgs,
    PageKey,
    Slice,
    check_cursor_shape,
    cursor_params,
    pages_by_parent,
)
from server.domain.projects import writable_project
from server.domain.sql import runs as sql
from server.errors import BadUserInput, Conflict, NotFound

RUN_STATES = ("RUNNING", "FINISHED", "FAILED", "CRASHED")


@dataclass(slots=True)
class RunRow:
    id: int
    project_id: int
    entity_name: str
    project_name: str
    run_id: str
    name: str | None
    state: str
    config: dict[str, Any]
    summary: dict[str, Any]
    sweep_id: int | None
    created_at: datetime
    updated_at: datetime
    _global_id: str | None = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> str:
        return f"{self.entity_name}/{self.project_name}/{self.run_id}"

    @property
    def global_id(self) -> str:
        # kept: a lineage answer needs it for the node and again for each of its edges
        if self._global_id is None:
            self._global_id = encode_id("Run", self.id)
        return self._global_id


# by name: lineage builds thousands of these from its own statements' records
RUN_ROW = RowBuilder(RunRow)


async def runs_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int], *, documents: bool = True
) -> dict[int, RunRow]:
    """Readable runs by id; ``documents=False`` leaves config and summary out (None)."""
    rows = await db.fetch(
        sql.readable_runs_by_ids(documents),
        ids=list(ids),
        member_entity_ids=access.member_entity_ids(viewer),
    )
    return {r.id: r for r in RUN_ROW.all(rows)}


async def _readable_run_record(
    db: Queryable, viewer: Viewer | None, path: str
) -> asyncpg.Record | None:
    parsed = parse_object_path(path, "run")
    return await db.fetchrow(
        sql.READABLE_RUN_BY_PATH,
        entity=parsed.entity,
        project=parsed.project,
        run_id=parsed.key,
        member_entity_ids=access.member_entity_ids(viewer),
    )


async def find_run(db: Queryable, viewer: Viewer | None, path: str) -> RunRow | None:
    row = await _readable_run_record(db, viewer, path)
    return RUN_ROW.one(row) if row else None


async def writable_run(db: Queryable, viewer: Viewer | None, path: str) -> RunRow:
    """The run at ``path`` if the viewer may write to it (one statement: run and project)."""
    access.require_signed_in(viewer)
    row = await _readable_run_record(db, viewer, path)
    if row is None:
        raise NotFound(f"run {path} not found")
    project = access.ProjectAccess(row["entity_id"], row["visibility"])
    access.require_write(viewer, project, f"run {path}")
    return RUN_ROW.one(row)


async def upsert_run(
    db: Database,
    viewer: Viewer | None,
    *,
    entity: str | None,
    project: str,
    run_id: str | None,
    name: str | None,
    config: Any,
    sweep: str | None,
    resume: str,
) -> RunRow:
    signed_in = access.require_signed_in(viewer)
    entity = entity if entity is not None else signed_in.username
    if run_id is not None:
        check_name(run_id, "run id")
    check_text(name, "run name")
    if config is not None:
        check_json_object(config, "config")
    if resume == "MUST" and run_id is None:
        raise BadUserInput("resume: MUST needs the runId of the run to resume")
    async with db.transaction() as conn:
        proj = await writable_project(conn, viewer, entity, project, create=resume != "MUST")
        sweep_pk = None
        if sweep is not None:
            check_name(sweep, "sweep id")
            sweep_pk = await conn.fetchval(sql.SWEEP_IN_PROJECT, project_id=proj.id, sweep_id=sweep)
            if sweep_pk is None:
                raise NotFound(f"sweep {entity}/{project}/{sweep} not found")

        if resume != "MUST":
            for _ in range(5):
                new_id = run_id or generate_id()
                pk = await conn.fetchval(
                    sql.INSERT_RUN, project_id=proj.id, run_id=new_id, name=name,
                    config=_strip_nulls(config), sweep_id=sweep_pk,
                )  # fmt: skip
                if pk is not None:
                    return await _get(conn, pk)
                if run_id is None:
                    continue  # a generated id collided: draw another
                if resume == "NEVER":
                    raise Conflict(
                        f"run {entity}/{project}/{run_id} exists: pass resume: ALLOW to continue it"
                    )
                break
            else:
                raise Conflict("could not generate a free run id; try again")

        pk = await conn.fetchval(
            sql.RESUME_RUN, project_id=proj.id, run_id=run_id, name=name, config=config,
            sweep_id=sweep_pk,
        )  # fmt: skip
        if pk is None:
            raise NotFound(
                f"run {entity}/{project}/{run_id} not found: resume: MUST needs an existing run"
            )
        return await _get(conn, pk)


def _strip_nulls(config: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if config is None else {k: v for k, v in config.items() if v is not None}


async def update_run(
    db: Database,
    viewer: Viewer | None,
    path: str,
    *,
    config: Any,
    summary: Any,
    state: str | None,
) -> RunRow:
    if config is not None:
        check_json_object(config, "config")
    if summary is not None:
        check_json_object(summary, "summary")
    async with db.transaction() as conn:
        run = await writable_run(conn, viewer, path)
        await conn.execute(sql.UPDATE_RUN, id=run.id, config=config, summary=summary, state=state)
        return await _get(conn, run.id)


async def _get(db: Queryable, pk: int) -> RunRow:
    row = await db.fetchrow(sql.RUN_BY_ID, id=pk)
    assert row is not None
    return RUN_ROW.one(row)


# ---- ordered listing -------------------------------------------------------------------


@dataclass(frozen=True)
class RunOrder:
    field: str
    direction: str


def _json_path(field: str) -> tuple[str, list[str]] | None:
    """("summary"|"config", keys) for a dotted field, None for createdAt."""
    if field == "createdAt":
        return None
    column, _, dotted = field.partition(".")
    keys = dotted.split(".")
    if column not in ("summary", "config") or not dotted or not all(keys) or len(field) > 512:
        raise BadUserInput(
            f"cannot order runs by {field!r}: use 'createdAt', 'summary.<key>' or 'config.<key>'"
        )
    return column, keys


_DEFAULT_ORDER = RunOrder("createdAt", "DESC")


def run_page_key(scope: str, parent: int, order: RunOrder | None, page: PageArgs) -> PageKey:
    """The page request for ``run_pages`` (``scope`` "project" or "sweep"), its order and
    cursor checked."""
    order = order or _DEFAULT_ORDER
    by_json = _json_path(order.field) is not None
    after = _restore_key(page.after, by_json) if page.after is not None else None
    return PageKey(parent, page.first, tuple(after) if after else None, (scope, order))


async def run_pages(db: Queryable, keys: Sequence[PageKey]) -> list[Slice[RunRow]]:
    """Runs of projects or sweeps (already checked readable), each in its key's order."""

    def one_page(key: PageKey) -> OnePage:
        scope, order = cast(tuple[str, RunOrder], key.shape)
        json_path = _json_path(order.field)
        json_column = json_path[0] if json_path else None
        params = cursor_params(key.after)
        if json_path is not None:
            params["json_path"] = json_path[1]
        statement = sql.run_page(scope, json_column, order.direction, key.after is not None)
        return OnePage(statement, params)

    slices = []
    for key, (rows, has_next) in zip(keys, await pages_by_parent(db, keys, one_page), strict=True):
        _, order = cast(tuple[str, RunOrder], key.shape)
        json_path = _json_path(order.field)
        names = sql.run_order_keys(json_path[0] if json_path else None)
        cursor_keys: list[Sequence[Any]] = [[_key_value(r[c]) for c in names] for r in rows]
        slices.append(Slice(RUN_ROW.all(rows), cursor_keys, has_next))
    return slices


async def run_counts(db: Queryable, scope: str, parents: Sequence[int]) -> dict[int, int]:
    rows = await db.fetch(sql.run_counts(scope), parents=list(parents))
    return {r["parent"]: r["n"] for r in rows}


def _key_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _restore_key(after: list[Any], by_json: bool) -> list[Any]:
    if by_json:
        check_cursor_shape(after, [int, str, str, datetime, int])
        invalid = BadUserInput("invalid cursor: pass an endCursor from an earlier page")
        try:
            number = Decimal(after[1])
        except ArithmeticError:
            raise invalid from None
        # only what a numeric column can hold: the server never hands out anything else
        if (
            after[0] not in (0, 1, 2)
            or not number.is_finite()
            or int(number.as_tuple().exponent) < -16383
            or number.adjusted() > 131071
        ):
            raise invalid
        return [after[0], number, *after[2:]]
    check_cursor_shape(after, [datetime, int])
    return after


def check_metric(metric: str) -> list[str]:
    keys = metric.split(".")
    if not metric or not all(keys) or len(metric) > 512:
        raise BadUserInput(f"invalid metric {metric!r}: use a dotted summary key like 'val.acc'")
    return keys


async def best_runs(
    db: Queryable, keys: Sequence[tuple[int, str, str]]
) -> dict[tuple[int, str, str], RunRow]:
    """The best run of each (sweep id, metric, goal): the highest (MAXIMIZE) or lowest
    number at the summary's dotted ``metric``; runs without a number there are ignored."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for sweep, metric, goal in keys:
        groups[(metric, goal)].append(sweep)
    found: dict[tuple[int, str, str], RunRow] = {}
    for (metric, goal), sweeps in groups.items():
        rows = await db.fetch(
            sql.best_runs(goal), sweep_ids=sorted(set(sweeps)), metric=check_metric(metric)
        )
        for run in RUN_ROW.all(rows):
            assert run.sweep_id is not None
            found[(run.sweep_id, metric, goal)] = run
    return found
