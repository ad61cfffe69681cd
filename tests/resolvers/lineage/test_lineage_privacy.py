"""Privacy inside the graph (docs/semantics.md, "Access", "Lineage"): what a viewer may not read is absent
from one-hop connections (and their totalCount) and from lineage with its edges, and the
walk does not go through it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab, check_graph_shape, edge_labels, labels


@dataclass
class World:
    public: Lab  # the team's PUBLIC project
    private: Lab  # the team's PRIVATE project
    keys: dict[str, str | None]


@pytest.fixture
async def world(api: Api, make_user: Any) -> World:
    """
    A team (admin + member) owns a PUBLIC and a PRIVATE project; an outsider belongs to none.

        public:   prep -> ds ----------------------------> side -> side_out
                           |                               ^ (uses ds)
        private:           +-> hidden_run -> hidden_art
        public:                                  +-> after -> result

    "after" (public) used "hidden_art" (private): it is reachable from ds only through the
    private run and artifact.
    """
    admin, member, outsider = await make_user("adm"), await make_user("mem"), await make_user("out")
    team = await api.team_with(admin, member, prefix="team")
    public = await Lab.open(api, admin, "PUBLIC", entity=team)
    private = await Lab.open(api, admin, "PRIVATE", entity=team)
    public.run("prep", "after", "side").log("prep", "ds")
    await public.flush()
    private.run("hidden_run").use("hidden_run", public.art("ds")).log(
        "hidden_run", "hidden_art", type_="model"
    )
    await private.flush()
    public.use("after", private.art("hidden_art")).log("after", "result")
    public.use("side", public.art("ds")).log("side", "side_out")
    await public.flush()
    keys = {"anonymous": None, "outsider": outsider.key, "member": member.key, "admin": admin.key}
    return World(public, private, keys)


ALL_DOWN = {
    "art:ds:v0",
    "run:hidden_run",
    "art:hidden_art:v0",
    "run:after",
    "art:result:v0",
    "run:side",
    "art:side_out:v0",
}
VISIBLE_DOWN = {"art:ds:v0", "run:side", "art:side_out:v0"}

ONE_HOP = """query($ds: String!, $after: String!) {
  ds: artifact(path: $ds) { loggedBy { runId } usedBy { totalCount edges { node { runId } } } }
  after: run(path: $after) { usedArtifacts { totalCount edges { node { name } } }
                             loggedArtifacts { totalCount edges { node { name loggedBy { runId } } } } } }"""


@pytest.mark.parametrize("role", ["anonymous", "outsider"])
async def test_outsiders_see_no_private_node_no_edge_and_nothing_behind_it(
    world: World, role: str
) -> None:
    key = world.keys[role]
    pub = world.public
    down = await pub.lineage(pub.art("ds"), "DOWNSTREAM", depth=10, key=key)
    check_graph_shape(down)
    assert set(labels(down)) == VISIBLE_DOWN  # "after" and "result" lie only behind hidden nodes
    assert edge_labels(down) == {
        ("art:ds:v0", "USED", "run:side"),
        ("run:side", "LOGGED", "art:side_out:v0"),
    }
    assert down["truncated"] is False  # hidden nodes do not count as "more beyond"
    both = await pub.lineage(pub.art("ds"), "BOTH", depth=10, key=key)
    assert set(labels(both)) == VISIBLE_DOWN | {"run:prep"}
    assert len(both["edges"]) == 3

    # from the far side, the walk upstream stops at the hidden artifact
    up = await pub.lineage(pub.art("result"), "UPSTREAM", depth=10, key=key)
    assert set(labels(up)) == {"art:result:v0", "run:after"}
    assert len(up["edges"]) == 1
    assert up["truncated"] is False
    after = await pub.lineage(pub.run_path("after"), "BOTH", depth=10, key=key)
    assert set(labels(after)) == {"run:after", "art:result:v0"}
    # depth 0 with only hidden neighbours upstream: nothing more to see
    assert (await pub.lineage(pub.run_path("after"), "UPSTREAM", depth=0, key=key))[
        "truncated"
    ] is False
    # limits count visible nodes only
    cut = await pub.lineage(pub.art("ds"), "DOWNSTREAM", depth=10, limit=3, key=key)
    assert set(labels(cut)) == VISIBLE_DOWN
    assert cut["truncated"] is False

    data = await pub.api.ok(ONE_HOP, {"ds": pub.art("ds"), "after": pub.run_path("after")}, key)
    assert data["ds"]["loggedBy"] == {"runId": "prep"}
    assert data["ds"]["usedBy"] == {"totalCount": 1, "edges": [{"node": {"runId": "side"}}]}
    assert data["after"]["usedArtifacts"] == {"totalCount": 0, "edges": []}
    assert data["after"]["loggedArtifacts"]["edges"] == [
        {"node": {"name": "result", "loggedBy": {"runId": "after"}}}
    ]
    # the private nodes themselves are not found by path either
    hidden = await pub.api.ok(
        "query($r: String!, $a: String!) { run(path: $r) { id } artifact(path: $a) { id } }",
        {"r": world.private.run_path("hidden_run"), "a": world.private.art("hidden_art")},
        key,
    )
    assert hidden == {"run": None, "artifact": None}


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_members_see_the_whole_chain(world: World, role: str) -> None:
    key = world.keys[role]
    pub = world.public
    down = await pub.lineage(pub.art("ds"), "DOWNSTREAM", depth=10, key=key)
    check_graph_shape(down)
    assert set(labels(down)) == ALL_DOWN
    assert len(down["edges"]) == 6
    assert ("run:hidden_run", "LOGGED", "art:hidden_art:v0") in edge_labels(down)
    up = await pub.lineage(pub.art("result"), "UPSTREAM", depth=10, key=key)
    assert set(labels(up)) == {
        "art:result:v0",
        "run:after",
        "art:hidden_art:v0",
        "run:hidden_run",
        "art:ds:v0",
        "run:prep",
    }
    data = await pub.api.ok(ONE_HOP, {"ds": pub.art("ds"), "after": pub.run_path("after")}, key)
    assert data["ds"]["usedBy"] == {
        "totalCount": 2,
        "edges": [{"node": {"runId": "hidden_run"}}, {"node": {"runId": "side"}}],
    }
    assert data["after"]["usedArtifacts"] == {
        "totalCount": 1,
        "edges": [{"node": {"name": "hidden_art"}}],
    }


async def test_hidden_nodes_appear_once_their_project_is_made_public(world: World) -> None:
    pub, outsider = world.public, world.keys["outsider"]
    assert (
        set(labels(await pub.lineage(pub.art("ds"), "DOWNSTREAM", depth=10, key=outsider)))
        == VISIBLE_DOWN
    )
    await pub.api.ok(
        "mutation($e: String!, $n: String!) { updateProject(input: {entity: $e, name: $n, visibility: PUBLIC}) { id } }",
        {"e": world.private.entity, "n": world.private.project},
        world.keys["admin"],
    )
    down = await pub.lineage(pub.art("ds"), "DOWNSTREAM", depth=10, key=outsider)
    assert set(labels(down)) == ALL_DOWN
    assert len(down["edges"]) == 6


async def test_a_private_node_in_the_middle_hides_only_what_lies_solely_behind_it(
    api: Api, make_user: Any
) -> None:
    """The walk stops at a hidden node, but a node also reachable another way is kept."""
    alice, bob = await make_user("a"), await make_user("b")
    pub = await Lab.open(api, alice, "PUBLIC")
    priv = await Lab.open(api, alice, "PRIVATE")
    await pub.run("src", "shared", "tail").log("src", "x").flush()
    await priv.run("secret").use("secret", pub.art("x")).log("secret", "s").flush()
    # "shared" uses x directly AND the private s; "tail" uses shared's output
    await pub.use("shared", pub.art("x")).use("shared", priv.art("s")).log("shared", "y").flush()
    await pub.use("tail", pub.art("y")).flush()
    for key, expected in ((alice.key, 6), (bob.key, 4), (None, 4)):
        graph = await pub.lineage(pub.art("x"), "DOWNSTREAM", depth=10, key=key)
        check_graph_shape(graph)
        assert len(graph["nodes"]) == expected
        assert {"art:x:v0", "run:shared", "art:y:v0", "run:tail"} <= set(labels(graph))
        assert ("run:secret" in labels(graph)) == (key == alice.key)
        # shared's use of the hidden s is an edge only for alice
        assert (("art:s:v0", "USED", "run:shared") in edge_labels(graph)) == (key == alice.key)
    up = await pub.lineage(pub.art("y"), "UPSTREAM", depth=10, key=bob.key)
    assert set(labels(up)) == {"art:y:v0", "run:shared", "art:x:v0", "run:src"}
