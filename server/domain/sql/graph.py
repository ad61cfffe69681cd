"""Statements of server/domain/graph.py: whole lineage walks and the edges between nodes."""

from __future__ import annotations

from functools import cache

from server.db.statements import Statement
from server.domain.access import READABLE
from server.domain.sql.accounts import as_key_holder
from server.domain.sql.artifacts import artifact_by_path_source

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
# every row spent about as long on that as on the walk. Columns not read are not
# selected: their fields are None in the rows built (node_rows.rows_of_arrays).
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
    "name": ("v.name", "text"),
    "type": ("v.type", "text"),
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


def _run_from(read: frozenset[str]) -> str:
    entities = " JOIN entities e ON e.id = p.entity_id" if "entity_name" in read else ""
    return f"runs r JOIN projects p ON p.id = r.project_id{entities}"


def _artifact_from(read: frozenset[str]) -> str:
    joins = "artifact_versions v JOIN projects p ON p.id = v.project_id"
    if "entity_name" in read:
        joins += " JOIN entities e ON e.id = p.entity_id"
    return joins


@cache
def node_rows(kind: str, read: frozenset[str]) -> Statement:
    """Readable runs (``kind`` "Run") or artifact versions of ``:ids``, as one row of
    arrays: for each field node_array_columns names (those in ``read``, the key and the
    access ones), the array of its values, one element a node, in the same order across
    fields (all NULL when no node is readable). A row a node, padded with typed NULLs,
    cost a 10,000-node answer more to decode and build (its runs 0.79x in process)."""
    if kind not in NODE_COLUMNS:
        raise ValueError(f"no node rows of {kind!r}")
    columns = _RUN_COLUMNS if kind == "Run" else _ARTIFACT_COLUMNS
    select = ", ".join(
        f"array_agg({columns[name][0]}) AS {name}"
        for name in columns
        if name in node_array_columns(kind, read)
    )
    if kind == "Run":
        return Statement(
            f"""SELECT {select} FROM {_run_from(read)}
                 WHERE r.id = ANY(:ids::bigint[]) AND {READABLE}"""
        )
    return Statement(
        f"""SELECT {select} FROM {_artifact_from(read)}
             WHERE v.id = ANY(:ids::bigint[]) AND {READABLE}"""
    )


# A walk of at most this many nodes comes with its nodes' rows (artifact_with_lineage);
# a bigger one's rows follow in a query per kind (node_rows).
ROWS_WITH_WALK = 500


# One hop's edges from the frontier s.found (of runs when s.runs) as (a: frontier node, b:
# the node one edge away, p: b's project), for each direction: lineage_walk's statements,
# two branches behind one-time filters (one runs). The direction is fixed in the text: with
# four branches a statement's plan took longer to set up than the walk saved.
def _hop_edges(from_versions: str, from_runs: str) -> str:
    """A hop's edges: ``from_versions`` holds the edges a version reaches runs by,
    ``from_runs`` those a run reaches versions by."""
    return f"""
      SELECT e.version_id AS a, e.run_id AS b, e.run_project_id AS p FROM {from_versions} e
       WHERE NOT s.runs AND e.version_id = ANY(s.found)
      UNION ALL
      SELECT e.run_id, e.version_id, e.version_project_id FROM {from_runs} e
       WHERE s.runs AND e.run_id = ANY(s.found)"""


_HOP_EDGES = {
    "DOWNSTREAM": _hop_edges("artifact_uses", "artifact_logs"),
    "UPSTREAM": _hop_edges("artifact_logs", "artifact_uses"),
}


def small_walk(start: str, direction: str) -> str:
    """The body of a CTE holding lineage_walk's answer from ``start`` (a query of one row:
    ``id``, the node, and ``runs``, whether it is a run) for ``direction``, ``:depth``,
    ``:lim`` and the viewer ``:member_entity_ids``, walked by the statement itself (a
    recursive CTE, one row a hop, its plan set up once) instead of by the PL/pgSQL
    function, which sets up an executor for each hop's statement and its own expressions
    on every call (perf on the backend: a third of the statement's CPU for walks of up to
    17 nodes, a quarter of that ExecutorStart). One row: lineage_walk's columns and
    ``bail``.

    It walks only what is cheap and certain. When the start has ROWS_WITH_WALK edges or
    more the way it goes (counted first: a popular version's first hop cost a millisecond
    to sort and aggregate for nothing), or as soon as a hop would take the nodes and edges
    of the walk past ROWS_WITH_WALK, reaches more new nodes than the limit leaves room for,
    or reaches a project the viewer may not read, it stops with ``bail`` set, and its row
    holds the walk as it was before that hop, for lineage_walk_from (migration 0013) to go
    on with: ``hop``, the hop to walk next (0-based), ``runs``, whether its frontier
    ``found`` holds runs, ``seen_runs`` and ``seen_versions``, and the answer's columns so
    far (the caller's answer is then the function's, exactly; it used to walk again from
    the start, which cost walks of 800-3,000 nodes about a millisecond of the database's
    CPU for hops already walked). Otherwise the answer is the function's: each hop's edges
    sorted by (far end, near end), its new nodes in id order, and the hop at the depth
    bound keeps only the edges to nodes seen before and sets truncated when it reaches new
    ones, as lineage_walk's last hop. Which nodes were seen is checked with ``<> ALL`` on
    arrays of at most ROWS_WITH_WALK ids, cheap at this size (lineage_walk hash-joins).
    A hop is one aggregate over its edges (new nodes, kept edges and the projects not
    yet known readable as FILTERed aggregates, no subquery per hop); only projects no
    earlier hop reached are looked up, so a walk within one project looks once."""
    edges = _HOP_EDGES[direction]
    known = "CASE WHEN s.runs THEN s.seen_versions ELSE s.seen_runs END"
    last = "s.hop + 1 >= :depth::int"
    kept = f"NOT {last} OR x.b = ANY({known})"  # the depth bound's hop: edges back only
    return f"""
    WITH RECURSIVE s AS (
        SELECT -1 AS hop, s.runs, s.found,
               CASE WHEN s.runs THEN s.found ELSE '{{}}'::bigint[] END AS seen_runs,
               CASE WHEN s.runs THEN '{{}}'::bigint[] ELSE s.found END AS seen_versions,
               '{{}}'::bigint[] AS readable, s.found AS nodes, ARRAY[1] AS hop_ends,
               '{{}}'::bigint[] AS edge_near, '{{}}'::bigint[] AS edge_far,
               '{{}}'::int[] AS edge_ends, false AS last, false AS truncated,
               (SELECT count(*) FROM (SELECT FROM ({edges}) e LIMIT {ROWS_WITH_WALK}) x)
               >= {ROWS_WITH_WALK} AS bail
          FROM (SELECT u.runs, ARRAY[u.id] AS found FROM ({start}) u) s
        UNION ALL
        SELECT CASE WHEN n.bail THEN s.hop ELSE s.hop + 1 END,
               CASE WHEN n.bail THEN s.runs ELSE NOT s.runs END,
               CASE WHEN n.bail THEN s.found ELSE n.found END,
               CASE WHEN n.bail OR s.runs THEN s.seen_runs ELSE s.seen_runs || n.found END,
               CASE WHEN n.bail OR NOT s.runs THEN s.seen_versions
                    ELSE s.seen_versions || n.found END,
               s.readable || n.unknown,
               CASE WHEN n.bail THEN s.nodes ELSE s.nodes || n.found END,
               CASE WHEN n.bail OR n.last THEN s.hop_ends
                    ELSE s.hop_ends || cardinality(s.nodes) + cardinality(n.found) END,
               CASE WHEN n.bail THEN s.edge_near ELSE s.edge_near || n.near END,
               CASE WHEN n.bail THEN s.edge_far ELSE s.edge_far || n.far END,
               CASE WHEN n.bail THEN s.edge_ends
                    ELSE s.edge_ends || cardinality(s.edge_near) + cardinality(n.near) END,
               n.last AND NOT n.bail, n.last AND NOT n.bail AND cardinality(n.new) > 0, n.bail
          FROM s CROSS JOIN LATERAL (
            SELECT {last} AS last, h.near, h.far, h.new, h.unknown,
                   CASE WHEN {last} THEN '{{}}'::bigint[] ELSE h.new END AS found,
                   h.edges > {ROWS_WITH_WALK} - cardinality(s.nodes)
                   OR cardinality(h.unknown) > 0
                      AND EXISTS (SELECT FROM projects q WHERE q.id = ANY(h.unknown)
                                    AND (q.visibility <> 'PRIVATE'
                                         OR q.entity_id = ANY(:member_entity_ids::bigint[]))
                                        IS NOT TRUE)
                   OR NOT {last}
                      AND cardinality(h.new) > greatest(:lim::int - cardinality(s.nodes), 0)
                   AS bail
              FROM (SELECT count(*) AS edges,
                           coalesce(array_agg(x.a ORDER BY x.b, x.a) FILTER (WHERE {kept}),
                                    '{{}}') AS near,
                           coalesce(array_agg(x.b ORDER BY x.b, x.a) FILTER (WHERE {kept}),
                                    '{{}}') AS far,
                           coalesce(array_agg(DISTINCT x.b ORDER BY x.b)
                                      FILTER (WHERE x.b <> ALL({known})), '{{}}') AS new,
                           coalesce(array_agg(DISTINCT x.p)
                                      FILTER (WHERE x.p <> ALL(s.readable)), '{{}}') AS unknown
                      FROM ({edges} LIMIT {ROWS_WITH_WALK + 1}) x) h
             OFFSET 0) n
         WHERE NOT s.last AND NOT s.bail AND cardinality(s.found) > 0)
    SELECT s.nodes, s.hop_ends, s.edge_near, s.edge_far, s.edge_ends, s.truncated, s.bail,
           s.hop, s.runs, s.found, s.seen_runs, s.seen_versions
      FROM s WHERE s.last OR s.bail OR cardinality(s.found) = 0"""


# lineage_walk's answer from :start (a :start_kind, 'Run' or 'Artifact') in each direction,
# by small_walk, with ``bail``
SMALL_WALK = {
    direction: Statement(
        f"""WITH w AS ({
            small_walk("SELECT :start::bigint AS id, :start_kind::text = 'Run' AS runs", direction)
        })
            SELECT * FROM w"""
    )
    for direction in ("DOWNSTREAM", "UPSTREAM")
}

# the prefixes of the node rows' arrays in artifact_with_lineage
RUN_PREFIX, ARTIFACT_PREFIX = "r_", "n_"


def node_array_columns(kind: str, read: frozenset[str]) -> frozenset[str]:
    """The row fields of ``kind`` whose values artifact_with_lineage returns as arrays:
    those in ``read``, and the key and access ones."""
    columns = _RUN_COLUMNS if kind == "Run" else _ARTIFACT_COLUMNS
    return frozenset(name for name in columns if name in read or name in _ALWAYS)


@cache
def artifact_with_lineage(
    spec_kind: str,
    producer: bool,
    run_read: frozenset[str],
    artifact_read: frozenset[str],
    key_holder: bool,
    direction: str,
) -> Statement:
    """artifact(path) (sql.artifacts' readable_artifact_by_path) and, in the same
    statement, its lineage walk (from the version, ``direction``, ``:depth``, ``:lim``:
    small_walk's, continued by lineage_walk_from where small_walk bails) and, when the
    walk found at most ROWS_WITH_WALK nodes, the readable rows of its nodes as node_rows
    reads them (the fields in ``run_read`` and ``artifact_read``): a small lineage costs
    one round trip instead of four.

    Two rows (a FULL JOIN ON false, as sql.lineage's artifact_with_hops): the version's,
    whose ``id`` is set, and the walk's (WALKS' columns, and ``rows_included``, whether
    the nodes' rows came), which also holds, for each field node_array_columns names, the
    array ``r_<field>`` of the runs' values (one element a run, in the same order across
    fields) and ``n_<field>`` of the artifact versions'. Arrays of columns decode in one
    go: a record a node, padded with every other part's columns, took longer (upstream
    ordinary starts 0.79-0.84x in process). With ``key_holder``, run as the holder of the
    API key ``:key_hash`` (accounts' as_key_holder), and no walk for a wrong key."""
    if direction not in _HOP_EDGES:
        raise ValueError(f"no walk {direction!r}")
    gate = "WHERE EXISTS (SELECT FROM viewer)" if key_holder else ""
    aggregates = []
    for kind, read, prefix, where in (
        ("Run", run_read, RUN_PREFIX, "r.id = ANY(ARRAY(SELECT id FROM found WHERE is_run))"),
        (
            "Artifact",
            artifact_read,
            ARTIFACT_PREFIX,
            "v.id = ANY(ARRAY(SELECT id FROM found WHERE NOT is_run))",
        ),
    ):
        columns = _RUN_COLUMNS if kind == "Run" else _ARTIFACT_COLUMNS
        select = ", ".join(
            f"array_agg({columns[name][0]}) AS {prefix}{name}"
            for name in columns
            if name in node_array_columns(kind, read)
        )
        source = _run_from(read) if kind == "Run" else _artifact_from(read)
        aggregates.append(f"SELECT {select} FROM {source} WHERE {where} AND {READABLE}")
    # hop h (1-based) of a walk from an artifact reached artifacts when h is odd
    source = f"""WITH a AS ({artifact_by_path_source(spec_kind, producer)}),
        sw AS MATERIALIZED ({small_walk(f"SELECT a.id, false AS runs FROM a {gate}", direction)}),
        w AS MATERIALIZED (
            SELECT x.nodes, x.hop_ends, x.edge_near, x.edge_far, x.edge_ends, x.truncated,
                   cardinality(x.nodes) <= {ROWS_WITH_WALK} AS rows_included
              FROM (SELECT sw.nodes, sw.hop_ends, sw.edge_near, sw.edge_far, sw.edge_ends,
                           sw.truncated
                      FROM sw WHERE NOT sw.bail
                    UNION ALL
                    SELECT y.* FROM sw CROSS JOIN LATERAL lineage_walk_from('Artifact',
                           sw.nodes[1], '{direction}', :depth::int, :lim::int,
                           :member_entity_ids::bigint[], sw.hop + 1, sw.runs, sw.found,
                           sw.seen_runs, sw.seen_versions, sw.nodes, sw.hop_ends,
                           sw.edge_near, sw.edge_far, sw.edge_ends) y WHERE sw.bail) x),
        found AS MATERIALIZED (
            SELECT h % 2 = 0 AS is_run, x.id
              FROM w CROSS JOIN LATERAL generate_subscripts(w.hop_ends, 1) h
             CROSS JOIN LATERAL
                   unnest(w.nodes[coalesce(w.hop_ends[h - 1], 0) + 1 : w.hop_ends[h]]) x(id)
             WHERE w.rows_included),
        rr AS ({aggregates[0]}),
        aa AS ({aggregates[1]})
        SELECT * FROM a FULL JOIN (w CROSS JOIN rr CROSS JOIN aa) ON false"""
    return Statement(as_key_holder(source) if key_holder else source)
