"""Statements of server/domain/runs.py; the run columns lineage reuses."""

from __future__ import annotations

from functools import cache

from server.db.statements import Statement
from server.domain.access import READABLE
from server.domain.sql.pagination import by_parent, keyset_after

_RUN_HEAD = """r.id, r.project_id, e.name AS entity_name, p.name AS project_name, r.run_id,
               r.name, r.state"""
_RUN_TAIL = "r.sweep_id, r.created_at, r.updated_at, p.entity_id, p.visibility"
# What server.domain.runs.RunRow holds, in its field order (one slice builds it, as
# sql/artifacts.py ARTIFACT_COLUMNS tells), then the project's access columns.
RUN_COLUMNS = f"{_RUN_HEAD}, r.config, r.summary, {_RUN_TAIL}"
# Without the JSON documents, which have no size bound: for callers that know nobody
# will read them (a 10,000-run lineage answer that does not select them); the row then
# holds None there, which GraphQL would refuse loudly for these non-null fields.
RUN_COLUMNS_WITHOUT_DOCUMENTS = (
    f"{_RUN_HEAD}, NULL::jsonb AS config, NULL::jsonb AS summary, {_RUN_TAIL}"
)
RUN_FROM = """FROM runs r JOIN projects p ON p.id = r.project_id
              JOIN entities e ON e.id = p.entity_id"""
SELECT_RUN = f"SELECT {RUN_COLUMNS} {RUN_FROM}"

RUN_BY_ID = Statement(f"{SELECT_RUN} WHERE r.id = :id")

READABLE_RUN_BY_PATH = Statement(
    f"""{SELECT_RUN} WHERE e.name = :entity AND p.name = :project AND r.run_id = :run_id
          AND {READABLE}"""
)


@cache
def readable_runs_by_ids(documents: bool) -> Statement:
    columns = RUN_COLUMNS if documents else RUN_COLUMNS_WITHOUT_DOCUMENTS
    return Statement(f"SELECT {columns} {RUN_FROM} WHERE r.id = ANY(:ids::bigint[]) AND {READABLE}")


SWEEP_IN_PROJECT = Statement(
    "SELECT id FROM sweeps WHERE project_id = :project_id AND sweep_id = :sweep_id"
)

# No row when the project has a run of that id already.
INSERT_RUN = Statement(
    """INSERT INTO runs (project_id, run_id, name, config, sweep_id)
       VALUES (:project_id, :run_id, :name, coalesce(:config::jsonb, '{}'), :sweep_id)
       ON CONFLICT (project_id, run_id) DO NOTHING RETURNING id"""
)


def _merged(column: str, document: str) -> str:
    """``column`` with the keys of the JSON object ``:document`` set on it, and those
    set to null there removed; ``column`` as it is when ``:document`` is NULL."""
    return f"""CASE WHEN :{document}::jsonb IS NULL THEN {column}
                    ELSE ({column} || :{document}::jsonb)
                         - ARRAY(SELECT key FROM jsonb_each(:{document}::jsonb)
                                  WHERE value = 'null'::jsonb) END"""


# resume: the run back to RUNNING; NULL arguments leave their column as it was
RESUME_RUN = Statement(
    f"""UPDATE runs SET state = 'RUNNING', updated_at = clock_timestamp(),
               name = coalesce(:name, name),
               config = {_merged("config", "config")},
               sweep_id = coalesce(:sweep_id, sweep_id)
         WHERE project_id = :project_id AND run_id = :run_id RETURNING id"""
)

UPDATE_RUN = Statement(
    f"""UPDATE runs SET updated_at = clock_timestamp(),
               config = {_merged("config", "config")},
               summary = {_merged("summary", "summary")},
               state = coalesce(:state, state)
         WHERE id = :id"""
)

# What a run list is scoped by: a project's runs or a sweep's.
SCOPE_COLUMNS = {"project": "r.project_id", "sweep": "r.sweep_id"}
DIRECTIONS = ("ASC", "DESC")
JSON_COLUMNS = ("config", "summary")


def _json_sort_keys(column: str) -> str:
    """Sort keys for the value at the path ``:json_path`` in the run's ``column``:
    numbers first (by value), then strings, booleans, objects and arrays (by text, in
    byte order), then runs without a value there."""
    value = f"(r.{column} #> :json_path::text[])"
    return f"""
        CASE jsonb_typeof({value}) WHEN 'number' THEN 0 WHEN 'null' THEN 2 ELSE
             CASE WHEN {value} IS NULL THEN 2 ELSE 1 END END AS k_group,
        CASE WHEN jsonb_typeof({value}) = 'number' THEN {value}::numeric ELSE 0 END AS k_num,
        (CASE WHEN jsonb_typeof({value}) = 'string' THEN {value} #>> '{{}}'
              WHEN jsonb_typeof({value}) IN ('boolean', 'object', 'array') THEN {value}::text
              ELSE '' END) COLLATE "C" AS k_text"""


def run_order_keys(json_column: str | None) -> list[str]:
    """The output columns a run page is ordered by, which make its cursor."""
    by_time = ["created_at", "id"]
    return by_time if json_column is None else ["k_group", "k_num", "k_text", *by_time]


@cache
def run_page(scope: str, json_column: str | None, direction: str, after: bool) -> Statement:
    """Runs of each project or sweep (``scope``), newest or oldest first, or by the value
    at ``:json_path`` in their ``json_column`` (ties by creation)."""
    if scope not in SCOPE_COLUMNS or direction not in DIRECTIONS:
        raise ValueError(f"no run page by {scope!r}, {direction!r}")
    if json_column is not None and json_column not in JSON_COLUMNS:
        raise ValueError(f"runs are not ordered by {json_column!r}")
    keys = "" if json_column is None else f", {_json_sort_keys(json_column)}"
    # nothing sorts before the group of numbers, so it is ascending in both directions
    columns = [
        (f"s.{k}", "ASC" if k == "k_group" else direction) for k in run_order_keys(json_column)
    ]
    return by_parent(
        f"SELECT {RUN_COLUMNS}{keys} {RUN_FROM} WHERE {SCOPE_COLUMNS[scope]} = k.parent",
        ", ".join(f"{c} {d}" for c, d in columns),
        keyset_after(columns) if after else None,
    )


@cache
def run_counts(scope: str) -> Statement:
    column = SCOPE_COLUMNS[scope]
    return Statement(
        f"""SELECT {column} AS parent, count(*) AS n FROM runs r
             WHERE {column} = ANY(:parents::bigint[]) GROUP BY 1"""
    )


@cache
def best_runs(goal: str) -> Statement:
    """The best run of each sweep of ``:sweep_ids`` by the number at ``:metric`` in its
    summary: the highest (MAXIMIZE) or lowest (MINIMIZE); runs without one are ignored."""
    direction = {"MAXIMIZE": "DESC", "MINIMIZE": "ASC"}[goal]
    return Statement(
        f"""SELECT DISTINCT ON (r.sweep_id) {RUN_COLUMNS} {RUN_FROM}
             WHERE r.sweep_id = ANY(:sweep_ids::bigint[])
               AND jsonb_typeof(r.summary #> :metric::text[]) = 'number'
             ORDER BY r.sweep_id, (r.summary #> :metric::text[])::numeric {direction},
                      r.created_at, r.id"""
    )
