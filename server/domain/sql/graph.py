"""Statements of server/domain/graph.py: whole lineage walks and the edges between nodes."""

from __future__ import annotations

from server.db.statements import Statement

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
# bench/lineage.py).
EDGES_BETWEEN = Statement(
    """SELECT 'LOGGED' AS kind, run_id, version_id FROM artifact_logs
        WHERE run_id = ANY(:run_ids::bigint[])
          AND version_id IN (SELECT unnest(:version_ids::bigint[]))
       UNION ALL
       SELECT 'USED', run_id, version_id FROM artifact_uses
        WHERE run_id = ANY(:run_ids::bigint[])
          AND version_id IN (SELECT unnest(:version_ids::bigint[]))"""
)
