"""Statements of server/domain/graph.py: whole lineage walks and the edges between nodes."""

from __future__ import annotations

from functools import cache

from server.db.statements import Statement
from server.domain.access import READABLE

# Every walk of a request in one statement: lineage_walk (migration 0007) for each
# (kind, id, direction, depth, limit), one row per walk in the order given.
WALKS = Statement(
    """SELECT w.nodes, w.hop_ends, w.edge_near, w.edge_far, w.edge_ends, w.truncated
         FROM unnest(:kinds::text[], :ids::bigint[], :directions::text[], :depths::int[],
                     :limits::int[]) WITH ORDINALITY AS s(kind, id, direction, depth, lim, n)
        CROSS JOIN LATERAL lineage_walk(s.kind, s.id, s.direction, s.depth, s.lim,
                                        :member_entity_ids::bigint[]) w
        ORDER BY s.n"""
)


# Every edge between runs :run_ids and versions :version_ids. IN (SELECT unnest(..))
# rather than = ANY for the second list: after five runs Postgres switches to a generic
# plan that checks = ANY row by row (136 ms against 17 ms for 10,000 nodes, measured by
# bench/lineage_bench.py). Ordered: the same answer whatever plan Postgres picks (a
# generic plan returned the rows in another order than the first custom ones).
EDGES_BETWEEN = Statement(
    """SELECT 'LOGGED' AS kind, run_id, version_id FROM artifact_logs
        WHERE run_id = ANY(:run_ids::bigint[])
          AND version_id IN (SELECT unnest(:version_ids::bigint[]))
       UNION ALL
       SELECT 'USED', run_id, version_id FROM artifact_uses
        WHERE run_id = ANY(:run_ids::bigint[])
          AND version_id IN (SELECT unnest(:version_ids::bigint[]))
       ORDER BY 1, 2, 3"""
)


# The rows of a lineage answer's nodes, each column read only when the query needs it
# (server/domain/graph.py node_rows): a 10,000-node answer decoding every column of
# every row spent about as long on that as on the walk. Columns not read are typed
# NULLs, so the rows keep their shape (server/db/rows.py builds them by name).
_RUN_COLUMNS = {  # RunRow's fields, in order: expression, type
    "id": ("r.id", "bigint"),
    "project_id": ("r.project_id", "bigint"),
    "entity_name": ("e.name", "text"),
    "project_name": ("p.name", "text"),
    "run_id": ("r.run_id", "text"),
    "name": ("r.name", "text"),
    "state": ("r.state", "text"),
    "config": ("r.config", "jsonb"),
    "summary": ("r.summary", "jsonb"),
    "sweep_id": ("r.sweep_id", "bigint"),
    "created_at": ("r.created_at", "timestamptz"),
    "updated_at": ("r.updated_at", "timestamptz"),
}
_ARTIFACT_COLUMNS = {  # ArtifactRow's fields, in order
    "entity_id": ("p.entity_id", "bigint"),
    "visibility": ("p.visibility", "text"),
    "id": ("v.id", "bigint"),
    "collection_id": ("v.collection_id", "bigint"),
    "project_id": ("v.project_id", "bigint"),
    "entity_name": ("e.name", "text"),
    "project_name": ("p.name", "text"),
    "name": ("c.name", "text"),
    "type": ("c.type", "text"),
    "version_index": ("v.version_index", "integer"),
    "state": ("v.state", "text"),
    "digest": ("v.digest", "text"),
    "description": ("v.description", "text"),
    "metadata": ("v.metadata", "jsonb"),
    "size": ("v.size", "bigint"),
    "file_count": ("v.file_count", "integer"),
    "ttl_seconds": ("v.ttl_seconds", "integer"),
    "expires_at": ("v.expires_at", "timestamptz"),
    "created_at": ("v.created_at", "timestamptz"),
    "logged_by": ("v.logged_by", "bigint"),
}
# always read: the key, and what an access decision on the row needs
_ALWAYS = frozenset({"id", "project_id", "entity_id", "visibility"})
NODE_COLUMNS = {"Run": tuple(_RUN_COLUMNS), "Artifact": tuple(_ARTIFACT_COLUMNS)}


def _select(columns: dict[str, tuple[str, str]], read: frozenset[str]) -> str:
    return ", ".join(
        f"{expression} AS {name}" if name in read or name in _ALWAYS else f"NULL::{type_} AS {name}"
        for name, (expression, type_) in columns.items()
    )


@cache
def node_rows(kind: str, read: frozenset[str]) -> Statement:
    """Readable runs (``kind`` "Run") or artifact versions of ``:ids`` with the row fields
    in ``read`` (and the key and access columns); the others NULL."""
    if kind not in ("Run", "Artifact"):
        raise ValueError(f"no node rows of {kind!r}")
    columns, key = (_RUN_COLUMNS, "r.id") if kind == "Run" else (_ARTIFACT_COLUMNS, "v.id")
    return Statement(
        f"""SELECT {_select(columns, read)} FROM {_node_joins(kind, read)}
             WHERE {key} = ANY(:ids::bigint[]) AND {READABLE}"""
    )


def _node_joins(kind: str, read: frozenset[str]) -> str:
    """FROM and JOINs of the rows of ``kind`` reading the fields ``read``."""
    if kind == "Run":
        entities = " JOIN entities e ON e.id = p.entity_id" if "entity_name" in read else ""
        return f"runs r JOIN projects p ON p.id = r.project_id{entities}"
    joins = "artifact_versions v JOIN projects p ON p.id = v.project_id"
    if read & {"name", "type"}:
        joins += " JOIN artifact_collections c ON c.id = v.collection_id"
    if "entity_name" in read:
        joins += " JOIN entities e ON e.id = p.entity_id"
    return joins


def node_array_columns(kind: str, read: frozenset[str]) -> tuple[str, ...]:
    """The row fields of ``kind`` that walks_with_rows returns (as ``<kind>__<field>``
    arrays): those in ``read`` and the key and access ones, in the row's order."""
    columns = _RUN_COLUMNS if kind == "Run" else _ARTIFACT_COLUMNS
    return tuple(name for name in columns if name in read or name in _ALWAYS)


# the walks of walks_with_rows: every one of a request (WALKS), or a single one, whose
# scalar parameters let Postgres keep one generic plan (planning the whole statement took
# 0.4 ms, as long as running it for a small answer). With arrays it never does: the
# generic plan guesses 10 walks where the custom plans see 1, and so looks dearer.
_MANY_WALKS = """SELECT s.n, s.kind AS start_kind, w.*
      FROM unnest(:kinds::text[], :ids::bigint[], :directions::text[], :depths::int[],
                  :limits::int[]) WITH ORDINALITY AS s(kind, id, direction, depth, lim, n)
     CROSS JOIN LATERAL lineage_walk(s.kind, s.id, s.direction, s.depth, s.lim,
                                     :member_entity_ids::bigint[]) w"""
_ONE_WALK = """SELECT 1 AS n, :kind::text AS start_kind, w.*
      FROM lineage_walk(:kind::text, :id::bigint, :direction::text, :depth::int, :lim::int,
                        :member_entity_ids::bigint[]) w"""


@cache
def walks_with_rows(
    run_read: frozenset[str], artifact_read: frozenset[str], single: bool
) -> Statement:
    """WALKS (with ``single``, the one walk of scalar parameters ``:kind``, ``:id``,
    ``:direction``, ``:depth``, ``:lim``), and in the same round trip the readable rows of every node they found: the
    first walk's row also holds, for each field node_array_columns names, the array
    ``Run__<field>`` of the runs' values (one element a run, in the same order across
    fields), and ``Artifact__<field>`` likewise; the other rows hold NULLs there. Only
    when the walks found at most ``:rows_up_to`` nodes (``rows_included``): for big
    answers the rows cost Postgres more this way (aggregating, then the arrays) than
    as the plain rows of a query per kind. Arrays
    of columns decode in one go, where a record a node cost as long as the walk did.

    Hop h of a walk (1-based in hop_ends) reached the start's kind when h is odd; its
    nodes are nodes[hop_ends[h-1] + 1 .. hop_ends[h]]."""
    aggregates = []
    for kind, read, alias in (("Run", run_read, "r"), ("Artifact", artifact_read, "a")):
        columns = _RUN_COLUMNS if kind == "Run" else _ARTIFACT_COLUMNS
        select = ", ".join(
            f'array_agg({columns[name][0]}) AS "{kind}__{name}"'
            for name in node_array_columns(kind, read)
        )
        key, which = ("r.id", "is_run") if kind == "Run" else ("v.id", "NOT is_run")
        aggregates.append(
            f"""{alias} AS (SELECT {select} FROM {_node_joins(kind, read)}
                 WHERE {key} = ANY(ARRAY(SELECT id FROM found WHERE {which}))
                   AND {READABLE})"""
        )
    return Statement(
        f"""WITH w AS MATERIALIZED ({_ONE_WALK if single else _MANY_WALKS}),
            small AS (SELECT sum(cardinality(w.nodes)) <= :rows_up_to AS rows_included FROM w),
            found AS MATERIALIZED (
              SELECT (h % 2 = 1) = (w.start_kind = 'Run') AS is_run, x.id
                FROM w CROSS JOIN LATERAL generate_subscripts(w.hop_ends, 1) h
               CROSS JOIN LATERAL
                     unnest(w.nodes[coalesce(w.hop_ends[h - 1], 0) + 1 : w.hop_ends[h]]) x(id)
               WHERE (SELECT rows_included FROM small)),
            {aggregates[0]},
            {aggregates[1]}
            SELECT w.nodes, w.hop_ends, w.edge_near, w.edge_far, w.edge_ends, w.truncated,
                   (SELECT rows_included FROM small), ra.*
              FROM w LEFT JOIN (SELECT * FROM r CROSS JOIN a) ra ON w.n = 1
             ORDER BY w.n"""
    )
