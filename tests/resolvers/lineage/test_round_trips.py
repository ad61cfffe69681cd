"""No N+1: SQL round trips per request are bounded by nesting depth, not by node count.

The count is the app's own ``lineage_sql_queries_total`` (every Database round trip) read
from GET /metrics before and after one GraphQL request; tests in a session run one at a
time, so the difference is that request's queries.
"""

from __future__ import annotations

import re
from typing import Any

from server.domain.sql.graph import ROWS_WITH_WALK
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab

_COUNTER = re.compile(r"^lineage_sql_queries_total (\S+)$", re.M)


async def sql_queries(api: Api) -> int:
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    match = _COUNTER.search(response.text)
    assert match, response.text
    return int(float(match[1]))


async def count_queries(
    api: Api, query: str, variables: dict[str, Any], key: str
) -> tuple[int, dict[str, Any]]:
    before = await sql_queries(api)
    data = await api.ok(query, variables, key)
    return await sql_queries(api) - before, data


NESTED = """query($p: String!) { run(path: $p) {
  loggedArtifacts(first: 100) { totalCount edges { node { name
    usedBy(first: 10) { totalCount edges { node { runId
      loggedArtifacts(first: 10) { totalCount edges { cursor node { name } } } } } } } } } } }"""

# 1 authenticate the API key, 1 find the run by path, then for each of the three nested
# connections: 1 page with its children's rows (LATERAL join over all parents) + 1
# totalCount (GROUP BY over all parents).
NESTED_ROUND_TRIPS = 1 + 1 + 3 * 2

LINEAGE = """query($p: String!) { run(path: $p) { lineage(direction: DOWNSTREAM, depth: 3, limit: 10000) {
  truncated edges { source target kind }
  nodes { __typename ... on Run { runId } ... on Artifact { name usedBy(first: 5) { totalCount } } } } } }"""

# 1 authenticate, 1 find the run, 1 walk (every hop inside Postgres: lineage_walk, whose
# rows are the edges too; it was 3 hops + 1 probe before), 1 hydration per node type
# (runs, artifacts), and the artifacts' usedBy: 1 page with the runs' rows + 1 count, for
# all of them.
LINEAGE_ROUND_TRIPS = 1 + 1 + 1 + 2 + 2


# The same walk from an artifact: artifact(path) reads a lineage field right under it
# ahead, so the key, the version, the walk and (up to sql.graph.ROWS_WITH_WALK nodes) the
# nodes' rows are one statement; past that, the rows follow, one query per kind.
ARTIFACT_LINEAGE = """query($p: String!) { artifact(path: $p) {
  lineage(direction: DOWNSTREAM, depth: 20, limit: 10000) { truncated edges { source target kind }
  nodes { __typename ... on Run { runId } ... on Artifact { name } } } } }"""
ARTIFACT_LINEAGE_ROUND_TRIPS = {"small": 1, "big": 1 + 2}


async def grow_fan_out(lab: Lab, outputs: range) -> None:
    """Run "root" logs one artifact per index; each is used by 5 runs; each of those logs 2."""
    for i in outputs:  # in root's log order, so out0, out1, ... are oldest first
        lab.log("root", f"out{i}")
    await lab.flush()
    for i in outputs:
        lab.run(*(f"r{i}-{j}" for j in range(5)))
    await lab.flush(parallel=True)
    for i in outputs:
        for j in range(5):
            lab.use(f"r{i}-{j}", lab.art(f"out{i}"))
            lab.log(f"r{i}-{j}", f"m{i}-{j}-a").log(f"r{i}-{j}", f"m{i}-{j}-b", type_="model")
    await lab.flush(parallel=True)


async def test_round_trips_depend_on_nesting_not_on_graph_size(api: Api, make_user: Any) -> None:
    user = await make_user("n1")
    lab = await Lab.open(api, user)
    await lab.run("root", "maker").log("maker", "seed").flush()
    await lab.use("root", lab.art("seed")).flush()  # upstream of root: no change below
    # 32 outputs: 513 nodes in the lineage; then 64 outputs (twice as big): 1025 nodes
    for outputs in (range(0, 32), range(32, 64)):
        await grow_fan_out(lab, outputs)
        size = outputs.stop
        n, data = await count_queries(api, NESTED, {"p": lab.run_path("root")}, user.key)
        logged = data["run"]["loggedArtifacts"]
        assert logged["totalCount"] == size
        assert len(logged["edges"]) == size
        for edge in logged["edges"]:
            used_by = edge["node"]["usedBy"]
            assert used_by["totalCount"] == 5
            assert len(used_by["edges"]) == 5
            for run in used_by["edges"]:
                assert run["node"]["loggedArtifacts"]["totalCount"] == 2
                assert len(run["node"]["loggedArtifacts"]["edges"]) == 2
        assert n == NESTED_ROUND_TRIPS, (size, n)

        n, data = await count_queries(api, LINEAGE, {"p": lab.run_path("root")}, user.key)
        lineage = data["run"]["lineage"]
        assert len(lineage["nodes"]) == 1 + size + 5 * size + 10 * size
        assert len(lineage["edges"]) == size + 5 * size + 10 * size
        assert lineage["truncated"] is False
        used_by = [
            n["usedBy"]["totalCount"] for n in lineage["nodes"] if n["__typename"] == "Artifact"
        ]
        assert sorted(set(used_by)) == [0, 5]
        assert n == LINEAGE_ROUND_TRIPS, (size, n)

        # from one of root's outputs (1 + 5 + 10 nodes): one statement
        start = lab.art(f"out{outputs.start}")
        n, data = await count_queries(api, ARTIFACT_LINEAGE, {"p": start}, user.key)
        assert len(data["artifact"]["lineage"]["nodes"]) == 1 + 5 + 10
        assert n == ARTIFACT_LINEAGE_ROUND_TRIPS["small"], (size, n)
        # from seed, which root used: root's lineage and seed, past ROWS_WITH_WALK
        n, data = await count_queries(api, ARTIFACT_LINEAGE, {"p": lab.art("seed")}, user.key)
        assert len(data["artifact"]["lineage"]["nodes"]) == 1 + len(lineage["nodes"])
        assert len(data["artifact"]["lineage"]["nodes"]) > ROWS_WITH_WALK
        assert n == ARTIFACT_LINEAGE_ROUND_TRIPS["big"], (size, n)
