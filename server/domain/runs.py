"""Runs: upsert with resume modes, config/summary merging, ordered listing."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import asyncpg

from server.db.database import Queryable
from server.domain import access
from server.domain.access import Viewer
from server.domain.ids import encode_id
from server.domain.names import check_name, check_text, generate_id, parse_object_path
from server.domain.pagination import (
    OnePage,
    PageArgs,
    PageKey,
    Slice,
    check_cursor_shape,
    keyset_after,
    pages_by_parent,
)
from server.domain.projects import writable_project
from server.errors import BadUserInput, Conflict, NotFound

RUN_STATES = ("RUNNING", "FINISHED", "FAILED", "CRASHED")
MAX_JSON_BYTES = 1 << 20


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


RUN_COLUMNS = "r.*, e.name AS entity_name, p.name AS project_name, p.entity_id, p.visibility"
RUN_FROM = """FROM runs r JOIN projects p ON p.id = r.project_id
               JOIN entities e ON e.id = p.entity_id"""
_SELECT = f"SELECT {RUN_COLUMNS} {RUN_FROM}"
# Without the JSON documents, which have no size bound: for callers that know nobody
# will read them (a 10,000-run lineage answer that does not select them); the row then
# holds None there, which GraphQL would refuse loudly for these non-null fields.
RUN_COLUMNS_WITHOUT_DOCUMENTS = RUN_COLUMNS.replace(
    "r.*",
    "r.id, r.project_id, r.run_id, r.name, r.state, NULL::jsonb AS config,"
    " NULL::jsonb AS summary, r.sweep_id, r.created_at, r.updated_at",
    1,
)
_SELECT_WITHOUT_DOCUMENTS = f"SELECT {RUN_COLUMNS_WITHOUT_DOCUMENTS} {RUN_FROM}"


def run_row(r: asyncpg.Record) -> RunRow:
    """A RunRow from a record with RUN_COLUMNS (by name: others may come along)."""
    return RunRow(
        r["id"], r["project_id"], r["entity_name"], r["project_name"], r["run_id"], r["name"],
        r["state"], r["config"], r["summary"], r["sweep_id"], r["created_at"], r["updated_at"],
    )  # fmt: skip


def check_json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadUserInput(f"{what} must be a JSON object, got {type(value).__name__}")
    _check_storable(value, what)
    if len(json.dumps(value)) > MAX_JSON_BYTES:
        raise BadUserInput(f"{what} is larger than 1 MiB encoded; store big data as an artifact")
    return value


def _check_storable(value: Any, what: str) -> None:
    """Refuse what jsonb cannot hold: NUL characters, NaN and infinities."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            raise BadUserInput(f"{what} contains a NUL character, which Postgres cannot store")
        elif isinstance(item, float) and not math.isfinite(item):
            raise BadUserInput(f"{what} contains {item}: JSON numbers must be finite")


async def runs_by_ids(
    db: Queryable, viewer: Viewer | None, ids: Sequence[int], *, documents: bool = True
) -> dict[int, RunRow]:
    """Readable runs by id; ``documents=False`` leaves config and summary out (None)."""
    select = _SELECT if documents else _SELECT_WITHOUT_DOCUMENTS
    rows = await db.fetch(
        f"{select} WHERE r.id = ANY($1::bigint[]) AND {access.readable_sql('p', 2)}",
        list(ids),
        access.member_entity_ids(viewer),
    )
    return {r["id"]: run_row(r) for r in rows}


async def _readable_run_record(
    db: Queryable, viewer: Viewer | None, path: str
) -> asyncpg.Record | None:
    parsed = parse_object_path(path, "run")
    return await db.fetchrow(
        f"{_SELECT} WHERE e.name = $1 AND p.name = $2 AND r.run_id = $3"
        f" AND {access.readable_sql('p', 4)}",
        parsed.entity, parsed.project, parsed.key, access.member_entity_ids(viewer),
    )  # fmt: skip


async def find_run(db: Queryable, viewer: Viewer | None, path: str) -> RunRow | None:
    row = await _readable_run_record(db, viewer, path)
    return run_row(row) if row else None


async def writable_run(db: Queryable, viewer: Viewer | None, path: str) -> RunRow:
    """The run at ``path`` if the viewer may write to it (one statement: run and project)."""
    access.require_signed_in(viewer)
    row = await _readable_run_record(db, viewer, path)
    if row is None:
        raise NotFound(f"run {path} not found")
    project = access.ProjectAccess(row["entity_id"], row["visibility"])
    access.require_write(viewer, project, f"run {path}")
    return run_row(row)


_MERGE = "(({col} || ${n}::jsonb) - ARRAY(SELECT key FROM jsonb_each(${n}::jsonb) WHERE value = 'null'::jsonb))"


async def upsert_run(
    db: Queryable,
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
    proj = await writable_project(db, viewer, entity, project, create=resume != "MUST")
    sweep_pk = None
    if sweep is not None:
        check_name(sweep, "sweep id")
        sweep_pk = await db.fetchval(
            "SELECT id FROM sweeps WHERE project_id = $1 AND sweep_id = $2", proj.id, sweep
        )
        if sweep_pk is None:
            raise NotFound(f"sweep {entity}/{project}/{sweep} not found")

    if resume != "MUST":
        for _ in range(5):
            new_id = run_id or generate_id()
            pk = await db.fetchval(
                """INSERT INTO runs (project_id, run_id, name, config, sweep_id)
                   VALUES ($1, $2, $3, coalesce($4::jsonb, '{}'), $5)
                   ON CONFLICT (project_id, run_id) DO NOTHING RETURNING id""",
                proj.id, new_id, name, _strip_nulls(config), sweep_pk,
            )  # fmt: skip
            if pk is not None:
                return await _get(db, pk)
            if run_id is None:
                continue  # a generated id collided: draw another
            if resume == "NEVER":
                raise Conflict(
                    f"run {entity}/{project}/{run_id} exists: pass resume: ALLOW to continue it"
                )
            break
        else:
            raise Conflict("could not generate a free run id; try again")

    pk = await db.fetchval(
        f"""UPDATE runs SET state = 'RUNNING', updated_at = clock_timestamp(),
                   name = coalesce($3, name),
                   config = CASE WHEN $4::jsonb IS NULL THEN config ELSE {_MERGE.format(col="config", n=4)} END,
                   sweep_id = coalesce($5, sweep_id)
             WHERE project_id = $1 AND run_id = $2 RETURNING id""",
        proj.id, run_id, name, config, sweep_pk,
    )  # fmt: skip
    if pk is None:
        raise NotFound(
            f"run {entity}/{project}/{run_id} not found: resume: MUST needs an existing run"
        )
    return await _get(db, pk)


def _strip_nulls(config: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if config is None else {k: v for k, v in config.items() if v is not None}


async def update_run(
    db: Queryable,
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
    run = await writable_run(db, viewer, path)
    await db.execute(
        f"""UPDATE runs SET updated_at = clock_timestamp(),
               config = CASE WHEN $2::jsonb IS NULL THEN config ELSE {_MERGE.format(col="config", n=2)} END,
               summary = CASE WHEN $3::jsonb IS NULL THEN summary ELSE {_MERGE.format(col="summary", n=3)} END,
               state = coalesce($4, state)
             WHERE id = $1""",
        run.id, config, summary, state,
    )  # fmt: skip
    return await _get(db, run.id)


async def _get(db: Queryable, pk: int) -> RunRow:
    row = await db.fetchrow(f"{_SELECT} WHERE r.id = $1", pk)
    assert row is not None
    return run_row(row)


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


# What a run list is scoped by: a project's runs or a sweep's.
RUN_SCOPES = {"project": "r.project_id", "sweep": "r.sweep_id"}
_DEFAULT_ORDER = RunOrder("createdAt", "DESC")


def run_page_key(scope: str, parent: int, order: RunOrder | None, page: PageArgs) -> PageKey:
    """The page request for ``run_pages``, its order and cursor checked."""
    order = order or _DEFAULT_ORDER
    by_json = _json_path(order.field) is not None
    after = _restore_key(page.after, by_json) if page.after is not None else None
    return PageKey(parent, page.first, tuple(after) if after else None, (scope, order))


async def run_pages(db: Queryable, keys: Sequence[PageKey]) -> list[Slice[RunRow]]:
    """Runs of projects or sweeps (already checked readable), each in its key's order."""

    def one_page(key: PageKey, param: int) -> OnePage:
        scope, order = cast(tuple[str, RunOrder], key.shape)
        direction = order.direction
        json_path = _json_path(order.field)
        args: list[Any] = []
        if json_path is None:
            select_keys = ""
            columns = [("s.created_at", direction), ("s.id", direction)]
        else:
            column, keys_ = json_path
            args.append(keys_)
            value = f"(r.{column} #> ${param}::text[])"
            select_keys = f""",
                CASE jsonb_typeof({value}) WHEN 'number' THEN 0 WHEN 'null' THEN 2 ELSE
                     CASE WHEN {value} IS NULL THEN 2 ELSE 1 END END AS k_group,
                CASE WHEN jsonb_typeof({value}) = 'number' THEN {value}::numeric ELSE 0 END AS k_num,
                (CASE WHEN jsonb_typeof({value}) = 'string' THEN {value} #>> '{{}}'
                      WHEN jsonb_typeof({value}) IN ('boolean', 'object', 'array') THEN {value}::text
                      ELSE '' END) COLLATE "C" AS k_text"""
            columns = [("s.k_group", "ASC"), ("s.k_num", direction), ("s.k_text", direction),
                       ("s.created_at", direction), ("s.id", direction)]  # fmt: skip
        after = None
        if key.after is not None:
            after = keyset_after(columns, param + len(args))
            args += key.after
        select = _SELECT.replace("SELECT r.*", "SELECT r.*" + select_keys, 1)
        return OnePage(
            f"{select} WHERE {RUN_SCOPES[scope]} = k.parent",
            ", ".join(f"{c} {d}" for c, d in columns),
            after,
            args,
        )

    slices = []
    for key, (rows, has_next) in zip(keys, await pages_by_parent(db, keys, one_page), strict=True):
        _, order = cast(tuple[str, RunOrder], key.shape)
        names = ["created_at", "id"]
        if _json_path(order.field) is not None:
            names = ["k_group", "k_num", "k_text", *names]
        items = [run_row(r) for r in rows]
        cursor_keys: list[Sequence[Any]] = [[_key_value(r[c]) for c in names] for r in rows]
        slices.append(Slice(items, cursor_keys, has_next))
    return slices


async def run_counts(db: Queryable, scope: str, parents: Sequence[int]) -> dict[int, int]:
    column = RUN_SCOPES[scope]
    rows = await db.fetch(
        f"SELECT {column} AS parent, count(*) AS n FROM runs r"
        f" WHERE {column} = ANY($1::bigint[]) GROUP BY 1",
        list(parents),
    )
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
        direction = "DESC" if goal == "MAXIMIZE" else "ASC"
        rows = await db.fetch(
            f"""SELECT DISTINCT ON (r.sweep_id) {RUN_COLUMNS} {RUN_FROM}
                 WHERE r.sweep_id = ANY($1::bigint[])
                   AND jsonb_typeof(r.summary #> $2::text[]) = 'number'
                 ORDER BY r.sweep_id, (r.summary #> $2::text[])::numeric {direction},
                          r.created_at, r.id""",
            sorted(set(sweeps)), check_metric(metric),
        )  # fmt: skip
        for r in rows:
            found[(r["sweep_id"], metric, goal)] = run_row(r)
    return found
