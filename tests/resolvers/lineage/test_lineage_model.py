"""lineage() against a reference model: a random graph (seeded, so reproducible) with cycles,
deduplicated logs, cross-project uses and a private project, walked in Python from every
node, in every direction, at several depths and limits, for the owner and an outsider."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab

Node = tuple[str, str]  # ("run", runId) or ("art", name)


@dataclass
class Model:
    """The graph as built: node -> (project, visible to outsiders); directed edges."""

    public: dict[Node, bool] = field(default_factory=dict)
    out: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))  # data flow
    into: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))

    def add_edge(self, a: Node, b: Node) -> None:
        self.out[a].add(b)
        self.into[b].add(a)

    def walk(
        self, start: Node, direction: str, depth: int, sees: Callable[[Node], bool]
    ) -> tuple[dict[Node, int], bool]:
        """Distances of the nodes reached, and whether visible nodes lie beyond depth."""
        step = self.out if direction == "DOWNSTREAM" else self.into
        dist = {start: 0}
        frontier = [start]
        for d in range(1, depth + 1):
            frontier = [n for f in frontier for n in step[f] if sees(n) and n not in dist]
            for n in frontier:
                dist.setdefault(n, d)
            frontier = list(dict.fromkeys(frontier))
        beyond = any(sees(n) and n not in dist for f in frontier for n in step[f])
        return dist, beyond


async def build(api: Api, owner: Any, rng: random.Random) -> tuple[Model, Lab, Lab]:
    pub = await Lab.open(api, owner, "PUBLIC")
    priv = await Lab.open(api, owner, "PRIVATE")
    model = Model()
    runs: list[tuple[Lab, str]] = []
    arts: list[tuple[Lab, str]] = []
    for i in range(16):
        lab = priv if i % 4 == 3 else pub
        runs.append((lab, f"r{i}"))
        lab.run(f"r{i}")
        model.public[("run", f"r{i}")] = lab is pub
    for i in range(22):
        lab, run_id = rng.choice(runs)
        arts.append((lab, f"a{i}"))
        lab.log(run_id, f"a{i}", content=f"a{i}")
        model.public[("art", f"a{i}")] = lab is pub
        model.add_edge(("run", run_id), ("art", f"a{i}"))
    await pub.flush()
    await priv.flush()
    for _ in range(34):  # uses, cycles allowed; a run may use an artifact of either project
        (run_lab, run_id), (art_lab, name) = rng.choice(runs), rng.choice(arts)
        run_lab.use(run_id, art_lab.art(name))
        model.add_edge(("art", name), ("run", run_id))
    await pub.flush()
    await priv.flush()
    for _ in range(5):  # deduplicated logs: another run of the same project logs equal content
        lab, name = rng.choice(arts)
        run_id = rng.choice([r for rl, r in runs if rl is lab])
        (result,) = await lab.log(run_id, name, content=name).flush()
        assert result["deduplicated"] is True
        model.add_edge(("run", run_id), ("art", name))
    return model, pub, priv


def node_label(n: dict[str, Any]) -> Node:
    return ("run", n["runId"]) if n["__typename"] == "Run" else ("art", n["name"])


QUERY_NODE = "__typename ... on Run { runId } ... on Artifact { name }"


def lookup(pub: Lab, priv: Lab, model: Model, node: Node) -> str:
    """The GraphQL field that finds ``node`` by its path."""
    home = pub if model.public[node] else priv
    if node[0] == "run":
        return f'run(path: "{home.run_path(node[1])}")'
    return f'artifact(path: "{home.art(node[1])}")'


Case = tuple[Node, str, int, int]  # start, direction, depth, limit
GRAPH = f"truncated nodes {{ {QUERY_NODE} }} edges {{ kind source target }}"


async def run_lineages(
    pub: Lab, priv: Lab, model: Model, key: str | None, cases: list[Case]
) -> list[dict[str, Any]]:
    """Every case's lineage, all in one request."""
    fields = [
        f"x{i}: {lookup(pub, priv, model, node)} {{"
        f" lineage(direction: {direction}, depth: {depth}, limit: {limit}) {{ {GRAPH} }} }}"
        for i, (node, direction, depth, limit) in enumerate(cases)
    ]
    data = await pub.api.ok("query {" + " ".join(fields) + "}", key=key)
    nodes = list(model.public)
    ids = await pub.api.ok(
        "query {"
        + " ".join(f"i{j}: {lookup(pub, priv, model, n)} {{ id }}" for j, n in enumerate(nodes))
        + "}",
        key=pub.key,
    )
    by_id = {ids[f"i{j}"]["id"]: n for j, n in enumerate(nodes)}
    out = []
    for i in range(len(cases)):
        graph = data[f"x{i}"]["lineage"]
        graph["labels"] = [node_label(n) for n in graph["nodes"]]
        graph["edge_set"] = [
            (by_id[e["source"]], by_id[e["target"]], e["kind"]) for e in graph["edges"]
        ]
        out.append(graph)
    return out


def expected_edges(model: Model, nodes: set[Node]) -> set[tuple[Node, Node, str]]:
    return {
        (a, b, "LOGGED" if a[0] == "run" else "USED")
        for a in nodes
        for b in model.out[a]
        if b in nodes
    }


async def test_lineage_matches_a_reference_walk(api: Api, make_user: Any) -> None:
    rng = random.Random(20240611)
    owner, outsider = await make_user("own"), await make_user("out")
    model, pub, priv = await build(api, owner, rng)

    def everything(n: Node) -> bool:
        return True

    def public_only(n: Node) -> bool:
        return model.public[n]

    for key, sees in ((owner.key, everything), (outsider.key, public_only)):
        starts = [n for n in model.public if sees(n)]
        cases = [(n, d, rng.choice([0, 1, 2, 3, 6, 100]), rng.choice([1, 2, 3, 5, 8, 1000]))
                 for n in starts for d in ("DOWNSTREAM", "UPSTREAM", "BOTH")]  # fmt: skip
        results = await run_lineages(pub, priv, model, key, cases)
        for (start, direction, depth, limit), graph in zip(cases, results, strict=True):
            where = (start, direction, depth, limit)
            walks = [
                model.walk(start, d, depth, sees)
                for d in (("UPSTREAM", "DOWNSTREAM") if direction == "BOTH" else (direction,))
            ]
            full: set[Node] = set().union(*(set(dist) for dist, _ in walks))
            beyond = any(b for _, b in walks)
            got = graph["labels"]
            assert len(got) == len(set(got)), where
            assert got[0] == start, where
            assert set(got) <= full, where
            assert len(got) == min(limit, len(full)), where
            assert graph["truncated"] == (beyond or len(full) > limit), where
            if direction != "BOTH":  # a cut keeps the nearest nodes
                dist = walks[0][0]
                if set(got) != full:
                    assert max(dist[n] for n in got) <= min(dist[n] for n in full - set(got)), where
            assert len(graph["edge_set"]) == len(set(graph["edge_set"])), where
            assert set(graph["edge_set"]) == expected_edges(model, set(got)), where
