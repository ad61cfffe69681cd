"""The walk's order and its batching: nodes come hop by hop (a limit keeps the nearest
ones), and many lineage fields in one request (different directions, depths and limits,
walked in one statement) answer as each would alone."""

from __future__ import annotations

from typing import Any

from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import GRAPH, Lab, check_graph_shape, labels
from tests.resolvers.lineage.test_lineage_graph import pipeline


async def fan(api: Api, user: Any) -> Lab:
    """src -> r0..r5 (each uses src) -> out0..out5 (each logged by its run) -> u0..u5."""
    lab = await Lab.open(api, user)
    lab.run("maker", *(f"r{i}" for i in range(6)), *(f"u{i}" for i in range(6)))
    lab.log("maker", "src")
    for i in range(6):
        lab.use(f"r{i}", lab.art("src")).log(f"r{i}", f"out{i}").use(f"u{i}", lab.art(f"out{i}"))
    await lab.flush()
    return lab


def distance(label: str) -> int:
    return 0 if label == "art:src:v0" else 1 if label.startswith("run:r") else (
        2 if label.startswith("art:out") else 3)  # fmt: skip


async def test_nodes_come_hop_by_hop_and_a_limit_keeps_the_nearest(
    api: Api, make_user: Any
) -> None:
    lab = await fan(api, await make_user("w"))
    whole = await lab.lineage(lab.art("src"), "DOWNSTREAM", depth=10, limit=10_000)
    distances = [distance(label) for label in labels(whole)]
    assert distances == sorted(distances)
    assert distances.count(1) == distances.count(2) == distances.count(3) == 6
    assert whole["truncated"] is False
    for limit in (1, 4, 7, 8, 12, 13, 18, 19):
        cut = await lab.lineage(lab.art("src"), "DOWNSTREAM", depth=10, limit=limit)
        kept = [distance(label) for label in labels(cut)]
        assert len(kept) == limit
        assert kept == distances[:limit], limit  # nothing farther while a nearer one is left
        assert cut["truncated"] is (limit < 19)
        check_graph_shape(cut)
        # every edge between kept nodes is there, also those into the level that was cut
        expected = sum(1 for d in kept if d > 0)
        assert len(cut["edges"]) == expected, limit


async def test_a_limit_reached_exactly_at_the_last_hop_is_not_truncated(
    api: Api, make_user: Any
) -> None:
    lab = await fan(api, await make_user("x"))
    # depth 2 holds src, 6 runs and 6 outputs: 13 nodes; the consumers lie beyond depth
    exact = await lab.lineage(lab.art("src"), "DOWNSTREAM", depth=2, limit=13)
    assert len(exact["nodes"]) == 13
    assert len(exact["edges"]) == 12
    assert exact["truncated"] is True  # u0..u5 lie one hop further
    # depth 3 with room for all 19: exactly full, nothing beyond
    full = await lab.lineage(lab.art("src"), "DOWNSTREAM", depth=3, limit=19)
    assert len(full["nodes"]) == 19
    assert full["truncated"] is False
    # the same 19 with one node of room too little
    short = await lab.lineage(lab.art("src"), "DOWNSTREAM", depth=3, limit=18)
    assert len(short["nodes"]) == 18
    assert short["truncated"] is True


LISTED = """query($p: String!) { project(entity: $e, name: $p) { runs(first: 50) { edges { node {
  runId
  down: lineage(direction: DOWNSTREAM, depth: 3, limit: 4) { %(g)s }
  up: lineage(direction: UPSTREAM, depth: 2) { %(g)s }
  both: lineage(direction: BOTH, depth: 1, limit: 3) { %(g)s }
  deep: lineage(direction: DOWNSTREAM, depth: 100) { %(g)s }
} } } } }""".replace("$e", '"%(e)s"')


async def test_many_walks_in_one_request_answer_as_each_alone(api: Api, make_user: Any) -> None:
    user = await make_user("m")
    lab = await pipeline(api, user)
    query = LISTED.replace("%(e)s", lab.entity) % {"g": GRAPH}
    data = await api.ok(query, {"p": lab.project}, user.key)
    runs = [edge["node"] for edge in data["project"]["runs"]["edges"]]
    assert len(runs) == 7
    shapes = {
        "down": ("DOWNSTREAM", 3, 4),
        "up": ("UPSTREAM", 2, 1000),
        "both": ("BOTH", 1, 3),
        "deep": ("DOWNSTREAM", 100, 1000),
    }
    for run in runs:
        for field, (direction, depth, limit) in shapes.items():
            alone = await lab.lineage(lab.run_path(run["runId"]), direction, depth, limit)
            assert run[field] == alone, (run["runId"], field)
    # and the batch really holds different answers, not one repeated
    train = next(r for r in runs if r["runId"] == "train")
    assert labels(train["deep"])[0] == "run:train"
    assert len(train["deep"]["nodes"]) == 5
    assert train["down"]["truncated"] is True
    assert len(train["down"]["nodes"]) == 4
