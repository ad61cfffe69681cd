-- lineage_walk (migrations 0007, 0008) with a cheaper statement per hop: the same
-- answers (same nodes in the same order, hop_ends, edges in the same order, edge_ends,
-- truncated), found with less work. Each hop used to run one statement of four UNION ALL
-- branches (one of them live) and five steps over the hop's edges: materialize them,
-- hash them against every node seen (EXCEPT), sort and number the new nodes (a window),
-- hash the dropped ones again to filter the edges (anti join), then sort the edges once
-- for each of the two arrays made of them. Now each hop runs the one statement of its
-- (direction, kind), which looks the edges up, marks those to nodes seen before (a hash
-- join against the nodes seen of that kind), sorts them once by (far, near) and makes
-- every array of the hop from that one sort: the edges, the marks and the new nodes in
-- id order. Only a hop that finds more new nodes than the room left filters its edges
-- again: a slice when no edge of the hop reaches a node seen before (its edges are sorted
-- by far end, so those kept are a prefix), otherwise one pass over the arrays.
CREATE OR REPLACE FUNCTION lineage_walk(
    start_kind text, start_id bigint, direction text, max_depth integer,
    node_limit integer, member_entity_ids bigint[],
    OUT nodes bigint[], OUT hop_ends integer[], OUT edge_near bigint[],
    OUT edge_far bigint[], OUT edge_ends integer[], OUT truncated boolean)
LANGUAGE plpgsql STABLE
-- One generic plan per statement, made once per connection, and hash joins whatever the
-- sizes (migration 0007 says why: a custom plan per hop costs milliseconds, and a nested
-- loop on the generic plan's guess of 10 nodes seen would compare every pair).
SET plan_cache_mode = force_generic_plan
SET enable_nestloop = off
AS $$
DECLARE
    kind text := start_kind;          -- the kind of the frontier's nodes
    downstream boolean := direction = 'DOWNSTREAM';
    frontier bigint[] := ARRAY[start_id];
    seen_runs bigint[] := '{}';
    seen_versions bigint[] := '{}';
    known bigint[];                   -- the nodes seen of the kind this hop reaches
    found bigint[];                   -- the hop's new nodes, in id order
    near bigint[];                    -- the hop's edges, sorted by (far, near)
    far bigint[];
    fresh boolean[];                  -- per edge: its far end is new
    old bigint;                       -- how many edges reach a node seen before
    cut bigint;                       -- the last new node kept
    room integer;
    hop integer := 0;
    last boolean;
BEGIN
    IF direction NOT IN ('DOWNSTREAM', 'UPSTREAM') OR start_kind NOT IN ('Run', 'Artifact') THEN
        RAISE EXCEPTION 'lineage_walk: no walk % from a %', direction, start_kind;
    END IF;
    nodes := frontier;
    hop_ends := ARRAY[1];
    edge_near := '{}';
    edge_far := '{}';
    edge_ends := '{}';
    truncated := false;
    IF kind = 'Run' THEN seen_runs := frontier; ELSE seen_versions := frontier; END IF;
    WHILE cardinality(frontier) > 0 LOOP
        last := truncated OR hop >= max_depth;
        -- (never below 0: a limit of 0 or less keeps the start alone, as 0008 did)
        room := CASE WHEN last THEN 0 ELSE greatest(node_limit - cardinality(nodes), 0) END;
        known := CASE WHEN kind = 'Run' THEN seen_versions ELSE seen_runs END;
        -- (a: frontier node, b: the readable node one edge away, k: b when seen before);
        -- the four statements differ only in the table and columns they read. The
        -- aggregates share one sort by (b, a) (Postgres sorts once for them all).
        IF downstream AND kind = 'Artifact' THEN
            SELECT coalesce(array_agg(a ORDER BY b, a), '{}'),
                   coalesce(array_agg(b ORDER BY b, a), '{}'),
                   array_agg(k IS NULL ORDER BY b, a),
                   coalesce(array_agg(DISTINCT b ORDER BY b) FILTER (WHERE k IS NULL), '{}'),
                   count(k)
              INTO near, far, fresh, found, old
              FROM (SELECT e.version_id AS a, e.run_id AS b, s.k
                      FROM artifact_uses e JOIN projects p ON p.id = e.run_project_id
                      LEFT JOIN unnest(known) s(k) ON s.k = e.run_id
                     WHERE e.version_id = ANY(frontier)
                       AND (p.visibility <> 'PRIVATE' OR p.entity_id = ANY(member_entity_ids))) h;
        ELSIF downstream THEN
            SELECT coalesce(array_agg(a ORDER BY b, a), '{}'),
                   coalesce(array_agg(b ORDER BY b, a), '{}'),
                   array_agg(k IS NULL ORDER BY b, a),
                   coalesce(array_agg(DISTINCT b ORDER BY b) FILTER (WHERE k IS NULL), '{}'),
                   count(k)
              INTO near, far, fresh, found, old
              FROM (SELECT e.run_id AS a, e.version_id AS b, s.k
                      FROM artifact_logs e JOIN projects p ON p.id = e.version_project_id
                      LEFT JOIN unnest(known) s(k) ON s.k = e.version_id
                     WHERE e.run_id = ANY(frontier)
                       AND (p.visibility <> 'PRIVATE' OR p.entity_id = ANY(member_entity_ids))) h;
        ELSIF kind = 'Artifact' THEN
            SELECT coalesce(array_agg(a ORDER BY b, a), '{}'),
                   coalesce(array_agg(b ORDER BY b, a), '{}'),
                   array_agg(k IS NULL ORDER BY b, a),
                   coalesce(array_agg(DISTINCT b ORDER BY b) FILTER (WHERE k IS NULL), '{}'),
                   count(k)
              INTO near, far, fresh, found, old
              FROM (SELECT e.version_id AS a, e.run_id AS b, s.k
                      FROM artifact_logs e JOIN projects p ON p.id = e.run_project_id
                      LEFT JOIN unnest(known) s(k) ON s.k = e.run_id
                     WHERE e.version_id = ANY(frontier)
                       AND (p.visibility <> 'PRIVATE' OR p.entity_id = ANY(member_entity_ids))) h;
        ELSE
            SELECT coalesce(array_agg(a ORDER BY b, a), '{}'),
                   coalesce(array_agg(b ORDER BY b, a), '{}'),
                   array_agg(k IS NULL ORDER BY b, a),
                   coalesce(array_agg(DISTINCT b ORDER BY b) FILTER (WHERE k IS NULL), '{}'),
                   count(k)
              INTO near, far, fresh, found, old
              FROM (SELECT e.run_id AS a, e.version_id AS b, s.k
                      FROM artifact_uses e JOIN projects p ON p.id = e.version_project_id
                      LEFT JOIN unnest(known) s(k) ON s.k = e.version_id
                     WHERE e.run_id = ANY(frontier)
                       AND (p.visibility <> 'PRIVATE' OR p.entity_id = ANY(member_entity_ids))) h;
        END IF;
        IF cardinality(found) > room THEN  -- the first `room` new nodes kept, in id order
            truncated := true;
            IF room = 0 AND old = 0 THEN
                near := '{}';
                far := '{}';
            ELSIF old = 0 THEN
                -- the edges kept are those up to the last node kept: a prefix
                cut := found[room];
                near := near[1:width_bucket(cut, far)];
                far := far[1:cardinality(near)];
            ELSE
                -- the edges to nodes seen before, and to the new nodes kept
                cut := found[room];  -- NULL when room is 0
                SELECT coalesce(array_agg(u.a), '{}'), coalesce(array_agg(u.b), '{}')
                  INTO near, far
                  FROM unnest(near, far, fresh) u(a, b, f)
                 WHERE NOT u.f OR u.b <= cut;
            END IF;
            found := found[1:room];
        END IF;
        edge_near := edge_near || near;
        edge_far := edge_far || far;
        edge_ends := edge_ends || cardinality(edge_near);
        EXIT WHEN last;
        nodes := nodes || found;
        hop_ends := hop_ends || cardinality(nodes);
        IF kind = 'Run' THEN
            seen_versions := seen_versions || found;
            kind := 'Artifact';
        ELSE
            seen_runs := seen_runs || found;
            kind := 'Run';
        END IF;
        frontier := found;
        hop := hop + 1;
    END LOOP;
END
$$;

-- The edges' indexes by either end also carry the other end and its project: a hop of the
-- walk (and a page of one-hop connections, server/domain/sql/lineage.py) reads
-- every column it needs from the index (an index-only scan) instead of visiting a table
-- page per edge: 4,659 uses of one popular version lie on ~1,000 pages. Same keys, same
-- number of indexes to keep up on each write, entries 8-16 bytes wider.
CREATE INDEX artifact_uses_by_version_wide ON artifact_uses (version_id, seq)
    INCLUDE (run_id, run_project_id);
CREATE INDEX artifact_uses_by_run_wide ON artifact_uses (run_id, seq)
    INCLUDE (version_id, version_project_id);
CREATE INDEX artifact_logs_by_version_wide ON artifact_logs (version_id, run_id)
    INCLUDE (run_project_id);
CREATE INDEX artifact_logs_by_run_wide ON artifact_logs (run_id, seq)
    INCLUDE (version_id, version_project_id);
DROP INDEX artifact_uses_by_version, artifact_uses_by_run, artifact_logs_by_version,
    artifact_logs_by_run;
ALTER INDEX artifact_uses_by_version_wide RENAME TO artifact_uses_by_version;
ALTER INDEX artifact_uses_by_run_wide RENAME TO artifact_uses_by_run;
ALTER INDEX artifact_logs_by_version_wide RENAME TO artifact_logs_by_version;
ALTER INDEX artifact_logs_by_run_wide RENAME TO artifact_logs_by_run;
