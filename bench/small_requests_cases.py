"""The request table of bench/small_requests.py: the query shapes it sends, the bare SQL
each answer needs (the floor), and one case's measurement, alternating between servers."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import lineage_queries as lq
from _common import percentile

RUN_FIELDS = "id runId name"
Q1 = f"""query Q1($path: String!) {{
  artifact(path: $path) {{
    id
    loggedBy {{ {RUN_FIELDS} }}
    usedBy(first: 50) {{ edges {{ node {{ {RUN_FIELDS} }} }} }}
  }}
}}"""
Q1_OUTPUTS = f"""query Q1o($path: String!) {{
  artifact(path: $path) {{
    id
    loggedBy {{ {RUN_FIELDS} }}
    usedBy(first: 50) {{ edges {{ node {{ {RUN_FIELDS}
      loggedArtifacts(first: 10) {{ edges {{ node {{ id name version }} }} }} }} }} }}
  }}
}}"""
LINEAGE = """query L($path: String!, $direction: LineageDirection!, $depth: Int!, $limit: Int!) {
  artifact(path: $path) {
    lineage(direction: $direction, depth: $depth, limit: $limit) {
      truncated
      nodes { __typename ... on Run { id runId } ... on Artifact { id name version } }
      edges { source target kind }
    }
  }
}"""

# -- the floors: the bare SQL each answer needs ------------------------------------------

_RESOLVE = f"""
SELECT v.id, r.id AS run_pk, r.run_id, r.name
  FROM entities e
  JOIN projects p ON p.entity_id = e.id AND p.name = $2
  JOIN artifact_collections c ON c.project_id = p.id AND c.name = $3
  JOIN artifact_versions v ON v.collection_id = c.id AND v.version_index = $4
  LEFT JOIN (runs r JOIN projects rp ON rp.id = r.project_id AND {lq.readable("rp", 5)})
         ON r.id = v.logged_by
 WHERE e.name = $1 AND {lq.readable("p", 5)}"""

_USED_BY = f"""
SELECT r.id, r.run_id, r.name FROM artifact_uses u
  JOIN runs r ON r.id = u.run_id JOIN projects p ON p.id = u.run_project_id
 WHERE u.version_id = $1 AND {lq.readable("p", 2)}
 ORDER BY u.seq LIMIT 50"""

_LOGGED = f"""
SELECT k.run, x.* FROM unnest($1::bigint[]) AS k(run) CROSS JOIN LATERAL (
    SELECT v.id, c.name, v.version_index FROM artifact_logs l
      JOIN artifact_versions v ON v.id = l.version_id
      JOIN artifact_collections c ON c.id = v.collection_id
      JOIN projects p ON p.id = v.project_id
     WHERE l.run_id = k.run AND {lq.readable("p", 2)}
     ORDER BY l.seq LIMIT 10) x"""


async def q1_floor(conn: asyncpg.Connection, s: lq.Start, members: list[int]) -> int:
    row = await conn.fetchrow(_RESOLVE, s.entity, s.project, s.name, s.index, members)
    assert row is not None
    users = await conn.fetch(_USED_BY, row["id"], members)
    return 1 + (row["run_pk"] is not None) + len(users)


async def q1_outputs_floor(conn: asyncpg.Connection, s: lq.Start, members: list[int]) -> int:
    row = await conn.fetchrow(_RESOLVE, s.entity, s.project, s.name, s.index, members)
    assert row is not None
    users = await conn.fetch(_USED_BY, row["id"], members)
    logged = await conn.fetch(_LOGGED, [u["id"] for u in users], members)
    return 1 + (row["run_pk"] is not None) + len(users) + len(logged)


async def lineage_floor(conn: asyncpg.Connection, s: lq.Start, members: list[int]) -> int:
    """Path -> version, the recursive CTE (depth in edges, as the service counts it), the
    edges among the nodes, the nodes' rows."""
    row = await conn.fetchrow(_RESOLVE, s.entity, s.project, s.name, s.index, members)
    assert row is not None
    nodes = await conn.fetch(lq.lineage_cte("DOWNSTREAM"), row["id"], 20, 10_000, members)
    runs, artifacts = lq.split_nodes(nodes)
    await conn.fetch(lq.EDGES_BETWEEN, runs, artifacts)
    await conn.fetch(lq.HYDRATE_RUNS, runs)
    await conn.fetch(lq.HYDRATE_ARTIFACTS, artifacts)
    return len(nodes)


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Series:
    seconds: list[float] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)

    def p(self, pct: float) -> float:
        return percentile(self.seconds, pct) * 1000


def apq_body(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {
        "variables": variables,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
    }


def count_nodes(data: dict[str, Any]) -> int:
    artifact = data["artifact"]
    if "lineage" in artifact:
        return len(artifact["lineage"]["nodes"])
    nodes = 1 + (artifact["loggedBy"] is not None)
    for edge in artifact["usedBy"]["edges"]:
        nodes += 1
        if "loggedArtifacts" in edge["node"]:
            nodes += len(edge["node"]["loggedArtifacts"]["edges"])
    return nodes


async def post(http: httpx.AsyncClient, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """Seconds until the whole body is in, and the decoded data (decoded untimed)."""
    started = time.perf_counter()
    response = await http.post("/graphql", json=body)
    elapsed = time.perf_counter() - started
    decoded = response.json()
    if response.status_code != 200 or decoded.get("errors"):
        raise RuntimeError(f"{response.status_code}: {str(decoded)[:500]}")
    return elapsed, decoded["data"]


@dataclass
class Case:
    name: str
    query: str
    starts: list[lq.Start]
    variables: Callable[[lq.Start], dict[str, Any]]
    floor: Callable[[asyncpg.Connection, lq.Start, list[int]], Awaitable[int]]
    apq: bool = False


async def measure_case(
    case: Case,
    https: dict[str, httpx.AsyncClient],
    conn: asyncpg.Connection,
    members: list[int],
    passes: int,
) -> tuple[dict[str, Series], Series]:
    ours = {label: Series() for label in https}
    floor = Series()

    def body(s: lq.Start, label: str = "this") -> dict[str, Any]:
        variables = case.variables(s)
        if case.apq and label == "this":  # a baseline may predate persisted queries
            return apq_body(case.query, variables)
        return {"query": case.query, "variables": variables}

    if case.apq:  # register the document once, as a client's first miss would
        await post(
            https["this"],
            {"query": case.query, **apq_body(case.query, case.variables(case.starts[0]))},
        )
    for s in case.starts[:5]:  # warm-up
        for label, http in https.items():
            await post(http, body(s, label))
        await case.floor(conn, s, members)
    for n in range(passes):
        for s in case.starts:
            # alternate who goes first, so drift and caches favour neither
            order = list(https.items()) if n % 2 == 0 else list(reversed(https.items()))
            for label, http in order:
                seconds, data = await post(http, body(s, label))
                ours[label].seconds.append(seconds)
                ours[label].nodes.append(count_nodes(data))
            started = time.perf_counter()
            nodes = await case.floor(conn, s, members)
            floor.seconds.append(time.perf_counter() - started)
            floor.nodes.append(nodes)
    for label, series in ours.items():
        if series.nodes != floor.nodes:
            print(
                f"  warning: {case.name} [{label}]: node counts differ from the floor",
                file=sys.stderr,
            )
    return ours, floor
