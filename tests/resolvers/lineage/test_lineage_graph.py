"""n-hop lineage (docs/semantics.md, "Lineage"): Run.lineage and Artifact.lineage with each direction,
depth and limit; BOTH as the union of two directed walks; truncation; cycles; bounds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab, check_graph_shape, edge_labels, labels


async def pipeline(api: Api, user: Any) -> Lab:
    """
        maker -> extra ----------+------------> other -> other_out
                                 v
        prep  -> raw  -> train -> model -> eval -> report
                                         \\-> audit
    train uses raw and extra (siblings); "other" uses extra too; "audit" uses model.
    """
    lab = await Lab.open(api, user)
    lab.run("maker", "prep", "train", "eval", "other", "audit", "lonely")
    lab.log("maker", "extra").log("prep", "raw")
    lab.use("train", lab.art("raw")).use("train", lab.art("extra")).log(
        "train", "model", type_="model"
    )
    lab.use("eval", lab.art("model")).log("eval", "report").use("audit", lab.art("model"))
    lab.use("other", lab.art("extra")).log("other", "other_out")
    await lab.flush()
    return lab


@pytest.fixture
async def lab(api: Api, make_user: Any) -> Lab:
    return await pipeline(api, await make_user("g"))


def as_set(graph: dict[str, Any]) -> set[str]:
    check_graph_shape(graph)
    return set(labels(graph))


async def test_directions_are_directed_walks_and_both_is_their_union(lab: Lab) -> None:
    raw = lab.art("raw")
    down = await lab.lineage(raw, "DOWNSTREAM", depth=10)
    # the sibling input "extra" of train (and what hangs off it) is not downstream of raw
    assert as_set(down) == {
        "art:raw:v0",
        "run:train",
        "art:model:v0",
        "run:eval",
        "run:audit",
        "art:report:v0",
    }
    assert labels(down)[0] == "art:raw:v0"  # the start node first
    up = await lab.lineage(raw, "UPSTREAM", depth=10)
    assert as_set(up) == {"art:raw:v0", "run:prep"}
    both = await lab.lineage(raw, "BOTH", depth=10)
    assert as_set(both) == as_set(down) | as_set(up)
    # an undirected walk from raw would reach extra, maker, other and other_out
    assert not as_set(both) & {"art:extra:v0", "run:maker", "run:other", "art:other_out:v0"}
    assert edge_labels(both) == {
        ("run:prep", "LOGGED", "art:raw:v0"),
        ("art:raw:v0", "USED", "run:train"),
        ("run:train", "LOGGED", "art:model:v0"),
        ("art:model:v0", "USED", "run:eval"),
        ("art:model:v0", "USED", "run:audit"),
        ("run:eval", "LOGGED", "art:report:v0"),
    }
    assert not both["truncated"]
    assert not down["truncated"]
    assert not up["truncated"]

    # from the model, upstream reaches both inputs of train but not extra's other user
    model_up = await lab.lineage(lab.art("model"), "UPSTREAM", depth=10)
    assert as_set(model_up) == {
        "art:model:v0",
        "run:train",
        "art:raw:v0",
        "art:extra:v0",
        "run:prep",
        "run:maker",
    }
    # the sibling input's edge into train is there (both ends returned); other's is not
    assert ("art:extra:v0", "USED", "run:train") in edge_labels(model_up)
    assert len(model_up["edges"]) == 5

    # from a run: DOWNSTREAM is its outputs and on, UPSTREAM its inputs and back
    train_down = await lab.lineage(lab.run_path("train"), "DOWNSTREAM", depth=10)
    assert as_set(train_down) == {
        "run:train",
        "art:model:v0",
        "run:eval",
        "run:audit",
        "art:report:v0",
    }
    train_up = await lab.lineage(lab.run_path("train"), "UPSTREAM", depth=10)
    assert as_set(train_up) == {"run:train", "art:raw:v0", "art:extra:v0", "run:prep", "run:maker"}
    train_both = await lab.lineage(lab.run_path("train"), "BOTH", depth=10)
    assert as_set(train_both) == as_set(train_down) | as_set(train_up)
    assert "run:other" not in as_set(train_both)
    assert len(train_both["edges"]) == 8


async def test_depth_bounds_the_walk_and_truncated_says_whether_more_lies_beyond(lab: Lab) -> None:
    raw = lab.art("raw")
    expected = {
        0: ["art:raw:v0"],
        1: ["art:raw:v0", "run:train"],
        2: ["art:raw:v0", "run:train", "art:model:v0"],
        3: ["art:raw:v0", "run:train", "art:model:v0", "run:audit", "run:eval"],
    }
    for depth, nodes in expected.items():
        graph = await lab.lineage(raw, "DOWNSTREAM", depth=depth)
        assert sorted(labels(graph)) == sorted(nodes), depth
        assert labels(graph)[0] == "art:raw:v0"
        assert graph["truncated"] is True, depth  # report lies beyond
        check_graph_shape(graph)
    assert len((await lab.lineage(raw, "DOWNSTREAM", depth=0))["edges"]) == 0
    # depth 4 reaches the end exactly: nothing beyond, so not truncated
    full = await lab.lineage(raw, "DOWNSTREAM", depth=4)
    assert len(full["nodes"]) == 6
    assert full["truncated"] is False
    assert (await lab.lineage(raw, "DOWNSTREAM", depth=100))["truncated"] is False
    # depth 0 is the start node only; it is truncated only if it has neighbours that way
    assert (await lab.lineage(raw, "UPSTREAM", depth=0))["truncated"] is True
    lonely = await lab.lineage(lab.run_path("lonely"), "BOTH", depth=0)
    assert labels(lonely) == ["run:lonely"]
    assert lonely["edges"] == []
    assert lonely["truncated"] is False
    assert (await lab.lineage(lab.run_path("lonely"), "BOTH", depth=5))["truncated"] is False
    # BOTH at depth 0 is the start node once
    zero = await lab.lineage(raw, "BOTH", depth=0)
    assert labels(zero) == ["art:raw:v0"]
    assert zero["truncated"] is True


async def test_limit_cuts_the_node_count_and_sets_truncated(lab: Lab) -> None:
    raw = lab.art("raw")
    for limit in (1, 2, 3, 5):
        graph = await lab.lineage(raw, "DOWNSTREAM", depth=10, limit=limit)
        assert len(graph["nodes"]) == limit, limit
        assert graph["truncated"] is True, limit
        assert labels(graph)[0] == "art:raw:v0"
        check_graph_shape(graph)  # edges only between the nodes kept
    assert len((await lab.lineage(raw, "DOWNSTREAM", depth=10, limit=3))["edges"]) == 2
    exact = await lab.lineage(raw, "DOWNSTREAM", depth=10, limit=6)
    assert len(exact["nodes"]) == 6
    assert exact["truncated"] is False
    # BOTH: 6 downstream (start included) + 1 upstream; the union is what the limit counts
    both = await lab.lineage(raw, "BOTH", depth=10, limit=6)
    assert len(both["nodes"]) == 6
    assert both["truncated"] is True
    check_graph_shape(both)
    both = await lab.lineage(raw, "BOTH", depth=10, limit=7)
    assert len(both["nodes"]) == 7
    assert both["truncated"] is False


async def test_defaults_are_both_depth_1_limit_1000(lab: Lab) -> None:
    data = await lab.api.ok(
        "query($p: String!) { artifact(path: $p) { lineage { truncated nodes { __typename ... on Run { runId } } } } }",
        {"p": lab.art("model")},
        lab.key,
    )
    runs = [n["runId"] for n in data["artifact"]["lineage"]["nodes"] if n["__typename"] == "Run"]
    assert sorted(runs) == ["audit", "eval", "train"]
    assert data["artifact"]["lineage"]["truncated"] is True


async def test_cycles_terminate_and_each_node_appears_once(api: Api, make_user: Any) -> None:
    lab = await Lab.open(api, await make_user("c"))
    # self loop: a run uses what it logged; long loop: a1 -> r2 -> a2 -> r3 -> a3 -> r1 -> a1
    lab.run("self", "r1", "r2", "r3").log("self", "s").use("self", lab.art("s"))
    lab.log("r1", "a1").use("r2", lab.art("a1")).log("r2", "a2").use("r3", lab.art("a2"))
    lab.log("r3", "a3").use("r1", lab.art("a3"))
    await lab.flush()

    for direction in ("DOWNSTREAM", "UPSTREAM", "BOTH"):
        loop = await lab.lineage(lab.run_path("self"), direction, depth=100)
        assert sorted(labels(loop)) == ["art:s:v0", "run:self"]
        assert loop["truncated"] is False
        assert edge_labels(loop) == {
            ("run:self", "LOGGED", "art:s:v0"),
            ("art:s:v0", "USED", "run:self"),
        }

        ring = await lab.lineage(lab.art("a1"), direction, depth=100, limit=10000)
        assert as_set(ring) == {"art:a1:v0", "run:r2", "art:a2:v0", "run:r3", "art:a3:v0", "run:r1"}
        assert len(ring["edges"]) == 6
        assert ring["truncated"] is False
    # depth 5 reaches every ring node; one hop more only comes back to the start
    assert (await lab.lineage(lab.art("a1"), "DOWNSTREAM", depth=5))["truncated"] is False
    assert (await lab.lineage(lab.art("a1"), "DOWNSTREAM", depth=4))["truncated"] is True


async def test_lineage_keeps_tombstones(api: Api, make_user: Any) -> None:
    lab = await Lab.open(api, await make_user("t"))
    await (
        lab.run("a", "b", "c")
        .log("a", "x")
        .use("b", lab.art("x"))
        .log("b", "y")
        .use("c", lab.art("y"))
        .flush()
    )
    ids = await lab.ids(lab.art("x"), lab.art("y"))
    deleted = await api.ok(
        "mutation($id: ID!) { deleteArtifact(id: $id) { state } }",
        {"id": ids[lab.art("y")]},
        lab.key,
    )
    assert deleted["deleteArtifact"]["state"] == "DELETED"
    graph = await lab.lineage(lab.art("x"), "DOWNSTREAM", depth=10)
    assert labels(graph) == ["art:x:v0", "run:b", "art:y:v0", "run:c"]
    assert [n.get("state") for n in graph["nodes"] if n["__typename"] == "Artifact"] == [
        "COMMITTED",
        "DELETED",
    ]
    assert ("run:b", "LOGGED", "art:y:v0") in edge_labels(graph)
    assert ("art:y:v0", "USED", "run:c") in edge_labels(graph)
    data = await api.ok(
        """query($b: String!, $c: String!) { b: run(path: $b) { loggedArtifacts { totalCount edges { node { state } } } }
             c: run(path: $c) { usedArtifacts { totalCount edges { node { state usedBy { totalCount } } } } } }""",
        {"b": lab.run_path("b"), "c": lab.run_path("c")},
        lab.key,
    )
    assert data["b"]["loggedArtifacts"]["edges"] == [{"node": {"state": "DELETED"}}]
    assert data["c"]["usedArtifacts"]["edges"] == [
        {"node": {"state": "DELETED", "usedBy": {"totalCount": 1}}}
    ]


@pytest.mark.parametrize(
    ("depth", "limit"),
    [
        (101, 10),
        (-1, 10),
        (1, 10001),
        (1, 0),
        (1, -5),
        (1000000, 1),
        (1, 500001),
    ],
)
async def test_out_of_range_depth_or_limit_is_bad_user_input(
    lab: Lab, depth: int, limit: int
) -> None:
    for kind, path in (("run", lab.run_path("train")), ("artifact", lab.art("raw"))):
        query = f"""query($p: String!, $d: Int!, $l: Int!) {{ {kind}(path: $p) {{
            lineage(depth: $d, limit: $l) {{ truncated }} }} }}"""
        assert (
            await lab.api.error(query, {"p": path, "d": depth, "l": limit}, lab.key)
            == "BAD_USER_INPUT"
        )


async def test_largest_bounds_are_accepted(lab: Lab) -> None:
    graph = await lab.lineage(lab.art("raw"), "BOTH", depth=100, limit=10000)
    assert len(graph["nodes"]) == 7
    assert graph["truncated"] is False


async def test_edge_ends_are_global_ids_of_the_returned_nodes(lab: Lab) -> None:
    graph = await lab.lineage(lab.art("model"), "BOTH", depth=2)
    check_graph_shape(graph)
    ends = sorted({e["source"] for e in graph["edges"]} | {e["target"] for e in graph["edges"]})
    fields = " ".join(f'n{i}: node(id: "{id_}") {{ __typename id }}' for i, id_ in enumerate(ends))
    data = await lab.api.ok("query {" + fields + "}", key=lab.key)
    kinds = {n["id"]: n["__typename"] for n in graph["nodes"]}
    assert {data[f"n{i}"]["id"]: data[f"n{i}"]["__typename"] for i in range(len(ends))} == {
        i: kinds[i] for i in ends
    }


DOCUMENT_QUERIES = {
    "inline fragments": """query($p: String!) { run(path: $p) { lineage(direction: DOWNSTREAM, depth: 2) {
        nodes { ... on Run { runId config summary } ... on Artifact { name metadata } } } } }""",
    "named fragments": """fragment R on Run { runId config summary }
        fragment N on LineageNode { ... on Artifact { name metadata } ...R }
        query($p: String!) { run(path: $p) { lineage(direction: DOWNSTREAM, depth: 2) { nodes { ...N } } } }""",
}


@pytest.fixture
async def documented(api: Api, make_user: Any) -> Lab:
    """prep (with config and summary) logs raw (with metadata), which fit uses."""
    lab = await Lab.open(api, await make_user("d"))
    lab.run("prep", "fit")
    await lab.flush()
    await api.ok(
        """mutation($r: String!) { updateRun(input: {run: $r, config: {lr: 0.1, layers: [1, 2]},
             summary: {acc: 0.9}}) { id } }""",
        {"r": lab.run_path("prep")},
        lab.key,
    )
    await api.ok(
        """mutation($r: String!) { logArtifact(input: {run: $r, name: "raw", type: "dataset",
             metadata: {rows: 3, note: "ünïcode"},
             entries: [{path: "f", ref: "s3://lab/x", checksum: false}]}) { artifact { id } } }""",
        {"r": lab.run_path("prep")},
        lab.key,
    )
    await lab.use("fit", lab.art("raw")).flush()
    return lab


PREP = {"runId": "prep", "config": {"lr": 0.1, "layers": [1, 2]}, "summary": {"acc": 0.9}}
RAW = {"name": "raw", "metadata": {"rows": 3, "note": "ünïcode"}}


@pytest.mark.parametrize("query", DOCUMENT_QUERIES)
async def test_json_documents_come_with_graph_nodes_when_selected(
    api: Api, documented: Lab, query: str
) -> None:
    """A graph's nodes are loaded without config, summary and metadata unless the query
    selects them (they have no size bound): selected through any fragment, they are there."""
    lab = documented
    data = await api.ok(DOCUMENT_QUERIES[query], {"p": lab.run_path("prep")}, lab.key)
    nodes = sorted(data["run"]["lineage"]["nodes"], key=lambda n: n.get("runId", ""))
    assert nodes == [RAW, {"runId": "fit", "config": {}, "summary": {}}, PREP]
    # and without them selected, the same nodes come (loaded without the documents)
    plain = await lab.lineage(lab.run_path("prep"), "DOWNSTREAM", depth=2)
    assert sorted(labels(plain)) == ["art:raw:v0", "run:fit", "run:prep"]


async def test_json_documents_come_with_one_hop_nodes_when_selected(
    api: Api, documented: Lab
) -> None:
    lab = documented
    query = """fragment R on Run { runId config summary }
      query($p: String!, $a: String!) {
        run(path: $p) { loggedArtifacts { edges { node { name metadata } } }
                        plain: loggedArtifacts { edges { node { name } } } }
        artifact(path: $a) { usedBy { edges { node { ...R } } } loggedBy { ...R } } }"""
    data = await api.ok(query, {"p": lab.run_path("prep"), "a": lab.art("raw")}, lab.key)
    assert data["run"]["loggedArtifacts"]["edges"] == [{"node": RAW}]
    assert data["run"]["plain"]["edges"] == [{"node": {"name": "raw"}}]
    assert data["artifact"]["usedBy"]["edges"] == [
        {"node": {"runId": "fit", "config": {}, "summary": {}}}
    ]
    assert data["artifact"]["loggedBy"] == PREP
