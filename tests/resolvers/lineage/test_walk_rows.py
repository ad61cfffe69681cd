"""The rows a lineage walk brings in its own statement (graph.lineages_with_rows) are the
rows the separate per-kind query (graph.node_rows) gives for the same nodes: every field
read or only some, for the owner and for a viewer who may read only part of the graph,
one walk or several overlapping ones, BOTH included."""

from __future__ import annotations

from typing import Any

import pytest

from server.db.database import Database
from server.domain import artifacts, graph
from server.domain.accounts import authenticate
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab
from tests.resolvers.lineage.test_node_columns import seeded

EVERYTHING = (graph.NODE_FIELDS[graph.RUN], graph.NODE_FIELDS[graph.ARTIFACT])
SOME = (frozenset({"run_id"}), frozenset({"name", "version_index", "metadata"}))
NOTHING = (frozenset[str](), frozenset[str]())


async def _id(db: Database, viewer: Any, path: str) -> int:
    found = await artifacts.find_artifact(db, viewer, path)
    assert found is not None
    return found.id


async def check(db: Database, viewer: Any, requests: list[graph.LineageRequest]) -> int:
    """Compares both ways for each selection of fields; the number of rows found."""
    rows = 0
    for read in (EVERYTHING, SOME, NOTHING):
        graphs, with_walk = await graph.lineages_with_rows(db, viewer, requests, *read)
        assert graphs == await graph.lineages(db, viewer, requests)
        ids = {kind: sorted({i for g in graphs for k, i in g.nodes if k == kind})
               for kind in (graph.RUN, graph.ARTIFACT)}  # fmt: skip
        separate_runs = await graph.node_rows(db, viewer, graph.RUN, ids[graph.RUN], read[0])
        separate_artifacts = await graph.node_rows(
            db, viewer, graph.ARTIFACT, ids[graph.ARTIFACT], read[1]
        )
        assert with_walk.runs == separate_runs
        assert with_walk.artifacts == separate_artifacts
        rows = len(separate_runs) + len(separate_artifacts)
    return rows


@pytest.mark.parametrize("rows_with_walk", [graph.ROWS_WITH_WALK, 1])
async def test_rows_with_the_walk_are_the_rows_of_the_nodes(
    api: Api, db: Database, make_user: Any, monkeypatch: pytest.MonkeyPatch, rows_with_walk: int
) -> None:
    """Whether the rows come with the walk or (more nodes than ROWS_WITH_WALK) from a
    query per kind after it."""
    monkeypatch.setattr(graph, "ROWS_WITH_WALK", rows_with_walk)
    owner = await make_user("wr")
    lab = await seeded(api, owner)
    # a public project's run uses the private dataset and logs a public artifact
    public = await Lab.open(api, owner, visibility="PUBLIC")
    public.run("reader").use("reader", lab.art("ds"), run=public.run_path("reader"))
    public.log("reader", "report")
    await public.flush()
    stranger = await authenticate(db, f"Bearer {(await make_user('st')).key}")
    viewer = await authenticate(db, f"Bearer {owner.key}")
    ds = ("Artifact", await _id(db, viewer, lab.art("ds")))
    report = ("Artifact", await _id(db, viewer, public.art("report")))
    one = [graph.LineageRequest(ds, "DOWNSTREAM", 5, 100)]
    several = [
        graph.LineageRequest(ds, "BOTH", 5, 100),
        graph.LineageRequest(ds, "UPSTREAM", 5, 100),
        graph.LineageRequest(report, "UPSTREAM", 5, 3),
        graph.LineageRequest(report, "BOTH", 5, 100),
    ]
    # ds, train, model, reader, report; and upstream of ds, prep
    assert await check(db, viewer, one) == 5
    assert await check(db, viewer, several) == 6
    # the stranger reads only the public project's run and artifact (the walk starts at
    # the private ds, whose row is not theirs)
    assert await check(db, stranger, [graph.LineageRequest(report, "UPSTREAM", 5, 100)]) == 2
    assert await check(db, stranger, one) == 2


RUNS = "runs: lineage(direction: BOTH, depth: 5) { nodes { ... on Run { runId name state } } }"
ARTIFACTS = """arts: lineage(direction: DOWNSTREAM, depth: 5) {
  nodes { __typename ... on Artifact { name digest metadata } } edges { kind } }"""
QUERY = "query($p: String!) { artifact(path: $p) { %s } }"


async def test_lineage_fields_reading_different_columns_share_one_statement(
    api: Api, make_user: Any
) -> None:
    """Two lineage fields in one request are walked in one statement whose rows hold the
    columns either reads; each answers as it does alone."""
    user = await make_user("ts")
    lab = await seeded(api, user)
    both = (await api.ok(QUERY % f"{RUNS} {ARTIFACTS}", {"p": lab.art("ds")}, user.key))["artifact"]
    assert sorted(n["runId"] for n in both["runs"]["nodes"] if n) == ["prep", "train"]
    arts = [n for n in both["arts"]["nodes"] if n["__typename"] == "Artifact"]
    assert [n["name"] for n in arts] == ["ds", "model"]
    assert arts[0]["metadata"] == {"rows": 3}
    assert all(n["digest"] for n in arts)
    for alias, field in (("runs", RUNS), ("arts", ARTIFACTS)):
        alone = await api.ok(QUERY % field, {"p": lab.art("ds")}, user.key)
        assert alone["artifact"][alias] == both[alias], alias
