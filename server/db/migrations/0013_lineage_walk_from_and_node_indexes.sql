-- lineage_walk_from: lineage_walk (migration 0010) continued from a walk already begun, so
-- that the walk artifact(path) makes inside its own statement (server/domain/sql/graph.py
-- small_walk) hands what it walked to the function when it stops (a hop past its size
-- bound, a hop cut by the limit, a project the viewer may not read) instead of the
-- function walking again from the start: walks of 800-3,000 nodes paid the small walk's
-- hops twice. The walk so far is the state lineage_walk holds at the top of its loop
-- before hop `from_hop` (0: the start alone): the nodes, hop ends, edges and edge ends
-- found so far, the nodes seen of each kind, and the frontier (runs when `from_runs`).
-- Same loop, same statements and settings as 0010's; lineage_walk itself is unchanged.
-- From the start's state (from_hop 0, the frontier and nodes the start alone, no edges) it
-- answers as lineage_walk does, exactly.
-- (Then, at the end of this file, indexes for reading the nodes' rows.)
CREATE OR REPLACE FUNCTION lineage_walk_from(
    start_kind text, start_id bigint, direction text, max_depth integer,
    node_limit integer, member_entity_ids bigint[],
    from_hop integer, from_runs boolean, from_frontier bigint[],
    from_seen_runs bigint[], from_seen_versions bigint[],
    INOUT nodes bigint[], INOUT hop_ends integer[], INOUT edge_near bigint[],
    INOUT edge_far bigint[], INOUT edge_ends integer[], OUT truncated boolean)
LANGUAGE plpgsql STABLE
-- One generic plan per statement, made once per connection, and hash joins whatever the
-- sizes (migration 0007 says why: a custom plan per hop costs milliseconds, and a nested
-- loop on the generic plan's guess of 10 nodes seen would compare every pair).
SET plan_cache_mode = force_generic_plan
SET enable_nestloop = off
AS $$
DECLARE
    kind text := CASE WHEN from_runs THEN 'Run' ELSE 'Artifact' END;  -- the frontier's
    downstream boolean := direction = 'DOWNSTREAM';
    frontier bigint[] := from_frontier;
    seen_runs bigint[] := from_seen_runs;
    seen_versions bigint[] := from_seen_versions;
    known bigint[];                   -- the nodes seen of the kind this hop reaches
    found bigint[];                   -- the hop's new nodes, in id order
    near bigint[];                    -- the hop's edges, sorted by (far, near)
    far bigint[];
    fresh boolean[];                  -- per edge: its far end is new
    old bigint;                       -- how many edges reach a node seen before
    cut bigint;                       -- the last new node kept
    room integer;
    hop integer := from_hop;
    last boolean;
    home bigint;                      -- the start, when this hop reaches its kind
    owners bigint[];                  -- per edge: the project of its far end
    hidden bigint[];                  -- the projects of the hop the viewer may not read
BEGIN
    IF direction NOT IN ('DOWNSTREAM', 'UPSTREAM') OR start_kind NOT IN ('Run', 'Artifact') THEN
        RAISE EXCEPTION 'lineage_walk: no walk % from a %', direction, start_kind;
    END IF;
    truncated := false;  -- a walk handed over was never cut: it would have ended
    WHILE cardinality(frontier) > 0 LOOP
        last := truncated OR hop >= max_depth;
        -- (never below 0: a limit of 0 or less keeps the start alone, as 0008 did)
        room := CASE WHEN last THEN 0 ELSE greatest(node_limit - cardinality(nodes), 0) END;
        known := CASE WHEN kind = 'Run' THEN seen_versions ELSE seen_runs END;
        -- (a: frontier node, b: the node one edge away, p: b's project, k: b when seen
        -- before); the four statements differ only in the table and columns they read.
        -- The aggregates share one sort by (b, a) (Postgres sorts once for them all).
        -- `hidden` looks up, by id, the projects of the new nodes (and of the start, which
        -- the caller may not be able to read) and keeps those the viewer may not read: the
        -- nodes seen before were read through an edge of their own project. The ids are
        -- made distinct first: where `projects` is small enough for Postgres to scan it
        -- instead of its index, each row is compared with every id of the array (a hop of
        -- 4,659 edges took 1.4x as long as 0009's among 101 projects, 1.03x distinct).
        home := CASE WHEN (kind = 'Run') = (start_kind = 'Run') THEN NULL ELSE start_id END;
        IF downstream AND kind = 'Artifact' THEN
            SELECT coalesce(array_agg(a ORDER BY b, a), '{}'),
                   coalesce(array_agg(b ORDER BY b, a), '{}'),
                   array_agg(k IS NULL ORDER BY b, a),
                   coalesce(array_agg(DISTINCT b ORDER BY b) FILTER (WHERE k IS NULL), '{}'),
                   count(k),
                   array_agg(p ORDER BY b, a),
                   ARRAY(SELECT q.id FROM projects q
                          WHERE q.id = ANY(array_agg(DISTINCT p) FILTER (WHERE k IS NULL OR b = home))
                            AND (q.visibility <> 'PRIVATE'
                                 OR q.entity_id = ANY(member_entity_ids)) IS NOT TRUE)
              INTO near, far, fresh, found, old, owners, hidden
              FROM (SELECT e.version_id AS a, e.run_id AS b, e.run_project_id AS p, s.k
                      FROM artifact_uses e LEFT JOIN unnest(known) s(k) ON s.k = e.run_id
                     WHERE e.version_id = ANY(frontier)) h;
        ELSIF downstream THEN
            SELECT coalesce(array_agg(a ORDER BY b, a), '{}'),
                   coalesce(array_agg(b ORDER BY b, a), '{}'),
                   array_agg(k IS NULL ORDER BY b, a),
                   coalesce(array_agg(DISTINCT b ORDER BY b) FILTER (WHERE k IS NULL), '{}'),
                   count(k),
                   array_agg(p ORDER BY b, a),
                   ARRAY(SELECT q.id FROM projects q
                          WHERE q.id = ANY(array_agg(DISTINCT p) FILTER (WHERE k IS NULL OR b = home))
                            AND (q.visibility <> 'PRIVATE'
                                 OR q.entity_id = ANY(member_entity_ids)) IS NOT TRUE)
              INTO near, far, fresh, found, old, owners, hidden
              FROM (SELECT e.run_id AS a, e.version_id AS b, e.version_project_id AS p, s.k
                      FROM artifact_logs e LEFT JOIN unnest(known) s(k) ON s.k = e.version_id
                     WHERE e.run_id = ANY(frontier)) h;
        ELSIF kind = 'Artifact' THEN
            SELECT coalesce(array_agg(a ORDER BY b, a), '{}'),
                   coalesce(array_agg(b ORDER BY b, a), '{}'),
                   array_agg(k IS NULL ORDER BY b, a),
                   coalesce(array_agg(DISTINCT b ORDER BY b) FILTER (WHERE k IS NULL), '{}'),
                   count(k),
                   array_agg(p ORDER BY b, a),
                   ARRAY(SELECT q.id FROM projects q
                          WHERE q.id = ANY(array_agg(DISTINCT p) FILTER (WHERE k IS NULL OR b = home))
                            AND (q.visibility <> 'PRIVATE'
                                 OR q.entity_id = ANY(member_entity_ids)) IS NOT TRUE)
              INTO near, far, fresh, found, old, owners, hidden
              FROM (SELECT e.version_id AS a, e.run_id AS b, e.run_project_id AS p, s.k
                      FROM artifact_logs e LEFT JOIN unnest(known) s(k) ON s.k = e.run_id
                     WHERE e.version_id = ANY(frontier)) h;
        ELSE
            SELECT coalesce(array_agg(a ORDER BY b, a), '{}'),
                   coalesce(array_agg(b ORDER BY b, a), '{}'),
                   array_agg(k IS NULL ORDER BY b, a),
                   coalesce(array_agg(DISTINCT b ORDER BY b) FILTER (WHERE k IS NULL), '{}'),
                   count(k),
                   array_agg(p ORDER BY b, a),
                   ARRAY(SELECT q.id FROM projects q
                          WHERE q.id = ANY(array_agg(DISTINCT p) FILTER (WHERE k IS NULL OR b = home))
                            AND (q.visibility <> 'PRIVATE'
                                 OR q.entity_id = ANY(member_entity_ids)) IS NOT TRUE)
              INTO near, far, fresh, found, old, owners, hidden
              FROM (SELECT e.run_id AS a, e.version_id AS b, e.version_project_id AS p, s.k
                      FROM artifact_uses e LEFT JOIN unnest(known) s(k) ON s.k = e.version_id
                     WHERE e.run_id = ANY(frontier)) h;
        END IF;
        IF cardinality(hidden) > 0 THEN  -- the edges to nodes the viewer may not read dropped
            SELECT coalesce(array_agg(u.a), '{}'), coalesce(array_agg(u.b), '{}'),
                   coalesce(array_agg(u.f), '{}'),
                   coalesce(array_agg(DISTINCT u.b ORDER BY u.b) FILTER (WHERE u.f), '{}'),
                   count(*) FILTER (WHERE NOT u.f)
              INTO near, far, fresh, found, old
              FROM unnest(near, far, fresh, owners) u(a, b, f, p)
             WHERE NOT u.p = ANY(hidden);
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

-- lineage_walk is now lineage_walk_from from the start's state: one loop to keep, not two.
-- Same signature and answers as 0010's (its loop was the one above, line for line); the
-- call through a SQL function costs microseconds against a walk's milliseconds.
CREATE OR REPLACE FUNCTION lineage_walk(
    start_kind text, start_id bigint, direction text, max_depth integer,
    node_limit integer, member_entity_ids bigint[],
    OUT nodes bigint[], OUT hop_ends integer[], OUT edge_near bigint[],
    OUT edge_far bigint[], OUT edge_ends integer[], OUT truncated boolean)
LANGUAGE sql STABLE
AS $$
    SELECT w.nodes, w.hop_ends, w.edge_near, w.edge_far, w.edge_ends, w.truncated
      FROM lineage_walk_from(
               start_kind, start_id, direction, max_depth, node_limit, member_entity_ids,
               0, start_kind = 'Run', ARRAY[start_id],
               CASE WHEN start_kind = 'Run' THEN ARRAY[start_id] ELSE '{}' END,
               CASE WHEN start_kind = 'Run' THEN '{}' ELSE ARRAY[start_id] END,
               ARRAY[start_id], ARRAY[1], '{}', '{}', '{}') w
$$;

-- The rows of a lineage answer's nodes (server/domain/sql/graph.py node_rows, and the
-- rows artifact_with_lineage reads with a small walk) read by id, for thousands of ids at
-- a time: each row fetched from the table after its index entry cost more than finding
-- it (a 10,000-node walk: 2 x ~5,000 heap fetches). These indexes hold, beside the id,
-- the columns a lineage's nodes are usually shown by (a run: its project, run id and
-- name; a version: its project, name, version index and type), so that reading only those
-- is an index-only scan. These columns do not change after a run is created or a version
-- committed, so updates of the others (a run's state, config and summary) stay HOT. Where
-- a node's page was written since the last (auto)vacuum, Postgres reads the row from the
-- table, as before. Upgrade: two index builds under a SHARE lock (writes to runs and
-- artifact_versions wait; reads go on): on the medium graph (20k runs, 40k versions)
-- 0.07 s, and 1.1 + 2.7 MB of index.
CREATE INDEX IF NOT EXISTS runs_node_columns ON runs (id) INCLUDE (project_id, run_id, name);
CREATE INDEX IF NOT EXISTS artifact_versions_node_columns
    ON artifact_versions (id) INCLUDE (project_id, name, version_index, type);
