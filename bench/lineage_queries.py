"""The benchmark's GraphQL queries, how it sends them, and their floors: the bare SQL the same answers need.

Every floor applies the same read rule as the service (a node in a PRIVATE project of an
entity the viewer is not a member of is left out, and a walk does not go through it), so
ours and the floor return the same nodes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from asyncpg.pool import PoolConnectionProxy

RUN_FIELDS = "id runId state"
ARTIFACT_FIELDS = "id name version type state"

Q1 = f"""query Q1($path: String!) {{
  artifact(path: $path) {{
    {ARTIFACT_FIELDS}
    loggedBy {{ {RUN_FIELDS} }}
    usedBy(first: 50) {{ edges {{ node {{ {RUN_FIELDS}
      loggedArtifacts(first: 10) {{ edges {{ node {{ {ARTIFACT_FIELDS} }} }} }} }} }} }}
  }}
}}"""

Q2 = """query Q2($path: String!, $direction: LineageDirection!) {
  artifact(path: $path) {
    lineage(direction: $direction, depth: 10, limit: 10000) {
      truncated
      nodes { __typename ... on Run { id runId runState: state }
               ... on Artifact { id name version type artifactState: state } }
      edges { source target kind }
    }
  }
}"""

# Q2 without node or edge fields: what the resolvers cost before GraphQL completes 20,000 objects
Q2_RESOLVER_ONLY = """query Q2($path: String!, $direction: LineageDirection!) {
  artifact(path: $path) { lineage(direction: $direction, depth: 10, limit: 10000) { truncated } }
}"""

Q3 = """query Q3($path: String!) {
  artifact(path: $path) {
    id loggedBy { id runId } usedBy(first: 10) { edges { node { id runId } } }
  }
}"""

# a connection of its own or one lent by a pool: the queries take either
Conn = asyncpg.Connection | PoolConnectionProxy


async def graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    """Seconds until the whole response body is in, and the parsed body (parsed untimed)."""
    started = time.perf_counter()
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    elapsed = time.perf_counter() - started
    body: dict[str, Any] = response.json()
    if (
        response.status_code != 200
        or body.get("errors")
        or not body.get("data", {}).get("artifact")
    ):
        raise RuntimeError(f"{response.status_code}: {str(body)[:500]}")
    return elapsed, body["data"]["artifact"]


@dataclass(frozen=True)
class Start:
    """A start node: artifact version id and its path parts."""

    version_id: int
    entity: str
    project: str
    name: str
    index: int
    uses: int

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}:v{self.index}"


def readable(alias: str, param: int) -> str:
    return f"({alias}.visibility <> 'PRIVATE' OR {alias}.entity_id = ANY(${param}::bigint[]))"


_RESOLVE = f"""
SELECT v.id, c.name, v.version_index, c.type, v.state,
       r.id AS run_pk, r.run_id, r.state AS run_state
  FROM entities e
  JOIN projects p ON p.entity_id = e.id AND p.name = $2
  JOIN artifact_collections c ON c.project_id = p.id AND c.name = $3
  JOIN artifact_versions v ON v.collection_id = c.id AND v.version_index = $4
  LEFT JOIN (runs r JOIN projects rp ON rp.id = r.project_id AND {readable("rp", 5)})
         ON r.id = v.logged_by
 WHERE e.name = $1 AND {readable("p", 5)}"""

_USED_BY = f"""
SELECT r.id, r.run_id, r.state FROM artifact_uses u
  JOIN runs r ON r.id = u.run_id JOIN projects p ON p.id = u.run_project_id
 WHERE u.version_id = $1 AND {readable("p", 2)}
 ORDER BY u.seq LIMIT $3"""

_LOGGED_ARTIFACTS = f"""
SELECT k.run, x.* FROM unnest($1::bigint[]) AS k(run) CROSS JOIN LATERAL (
    SELECT v.id, c.name, v.version_index, c.type, v.state FROM artifact_logs l
      JOIN artifact_versions v ON v.id = l.version_id
      JOIN artifact_collections c ON c.id = v.collection_id
      JOIN projects p ON p.id = v.project_id
     WHERE l.run_id = k.run AND {readable("p", 2)}
     ORDER BY l.seq LIMIT 10) x"""


async def q1_floor(conn: Conn, start: Start, members: list[int]) -> int:
    """Artifact + loggedBy, usedBy(50), each run's loggedArtifacts(10): nodes returned."""
    row = await conn.fetchrow(
        _RESOLVE, start.entity, start.project, start.name, start.index, members
    )
    assert row is not None
    users = await conn.fetch(_USED_BY, row["id"], members, 50)
    logged = await conn.fetch(_LOGGED_ARTIFACTS, [u["id"] for u in users], members)
    return 1 + (row["run_pk"] is not None) + len(users) + len(logged)


async def q3_floor(conn: Conn, start: Start, members: list[int]) -> int:
    row = await conn.fetchrow(
        _RESOLVE, start.entity, start.project, start.name, start.index, members
    )
    assert row is not None
    users = await conn.fetch(_USED_BY, row["id"], members, 10)
    return 1 + (row["run_pk"] is not None) + len(users)


# (direction) -> the hop from an artifact ('A') to runs and from a run ('R') to artifacts
_CTE_HOPS = {
    "DOWNSTREAM": ("artifact_uses", "artifact_logs"),
    "UPSTREAM": ("artifact_logs", "artifact_uses"),
}


def lineage_cte(direction: str, with_access: bool = True) -> str:
    """Nodes within $2 hops of artifact $1, at most $3, nearest first (ties by id).

    UNION dedups (kind, id, depth) rows; a node met again at another depth is walked
    again, which the depth bound keeps finite. With ``with_access`` unreadable nodes are
    neither returned nor walked through ($4: the viewer's entity ids)."""
    to_run, to_artifact = _CTE_HOPS[direction]
    run_access = f"JOIN projects p ON p.id = e.run_project_id AND {readable('p', 4)}"
    artifact_access = f"JOIN projects p ON p.id = e.version_project_id AND {readable('p', 4)}"
    if not with_access:
        run_access = artifact_access = ""
    return f"""
WITH RECURSIVE walk(kind, id, depth) AS (
    SELECT 'A'::"char", $1::bigint, 0
  UNION
    SELECT x.kind, x.id, w.depth + 1 FROM walk w CROSS JOIN LATERAL (
        SELECT 'R'::"char" AS kind, e.run_id AS id FROM {to_run} e {run_access}
         WHERE w.kind = 'A' AND e.version_id = w.id
        UNION ALL
        SELECT 'A'::"char", e.version_id FROM {to_artifact} e {artifact_access}
         WHERE w.kind = 'R' AND e.run_id = w.id
    ) x
     WHERE w.depth < $2)
SELECT kind, id FROM walk GROUP BY kind, id ORDER BY min(depth), kind, id LIMIT $3"""


# The edges among the returned nodes. Not the server's form (``version_id = ANY($2)`` as a
# filter): after five executions on a connection Postgres switches that prepared statement
# to its generic plan, which scans by run and checks each row against the whole version
# array (~130 ms instead of ~20 ms for 10,000 nodes). The semi-join stays fast in any plan.
EDGES_BETWEEN = """
SELECT 'LOGGED' AS kind, run_id, version_id FROM artifact_logs
 WHERE run_id = ANY($1::bigint[]) AND version_id IN (SELECT unnest($2::bigint[]))
UNION ALL
SELECT 'USED', run_id, version_id FROM artifact_uses
 WHERE run_id = ANY($1::bigint[]) AND version_id IN (SELECT unnest($2::bigint[]))"""

HYDRATE_RUNS = "SELECT id, run_id, state FROM runs WHERE id = ANY($1::bigint[])"
HYDRATE_ARTIFACTS = """
SELECT v.id, c.name, v.version_index, c.type, v.state FROM artifact_versions v
  JOIN artifact_collections c ON c.id = v.collection_id WHERE v.id = ANY($1::bigint[])"""


def split_nodes(rows: list[Any]) -> tuple[list[int], list[int]]:
    runs = [r["id"] for r in rows if r["kind"] == b"R" or r["kind"] == "R"]
    artifacts = [r["id"] for r in rows if r["kind"] == b"A" or r["kind"] == "A"]
    return runs, artifacts


async def q2_floor(conn: Conn, start: Start, direction: str, members: list[int]) -> int:
    """Path -> version, the CTE walk, the edges between the nodes, the rows: nodes returned."""
    row = await conn.fetchrow(
        _RESOLVE, start.entity, start.project, start.name, start.index, members
    )
    assert row is not None
    nodes = await conn.fetch(lineage_cte(direction), row["id"], 10, 10_000, members)
    runs, artifacts = split_nodes(nodes)
    await conn.fetch(EDGES_BETWEEN, runs, artifacts)
    await conn.fetch(HYDRATE_RUNS, runs)
    await conn.fetch(HYDRATE_ARTIFACTS, artifacts)
    return len(nodes)
