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
    if kind == "Run":
        entities = "JOIN entities e ON e.id = p.entity_id" if "entity_name" in read else ""
        return Statement(
            f"""SELECT {_select(_RUN_COLUMNS, read)}
                  FROM runs r JOIN projects p ON p.id = r.project_id {entities}
                 WHERE r.id = ANY(:ids::bigint[]) AND {READABLE}"""
        )
    if kind != "Artifact":
        raise ValueError(f"no node rows of {kind!r}")
    joins = "JOIN projects p ON p.id = v.project_id"
    if read & {"name", "type"}:
        joins += " JOIN artifact_collections c ON c.id = v.collection_id"
    if "entity_name" in read:
        joins += " JOIN entities e ON e.id = p.entity_id"
    return Statement(
        f"""SELECT {_select(_ARTIFACT_COLUMNS, read)} FROM artifact_versions v {joins}
             WHERE v.id = ANY(:ids::bigint[]) AND {READABLE}"""
    )
