"""n-hop lineage: the neighbourhood of a run or artifact as nodes plus edges.

A breadth-first walk with one batched query per hop (the whole frontier at once), the
visited set kept here, so cycles cannot loop and each node is reached once at its
shortest distance. Measured against a single recursive CTE in bench/lineage.py: the CTE
cannot stop at ``limit`` nodes or skip unreadable nodes without revisiting paths, and the
per-hop walk was as fast on the medium graph (numbers in the README).
Nodes the viewer may not read are never returned and the walk does not go through them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from server.db.database import Queryable
from server.domain import access
from server.domain.access import Viewer
from server.domain.sql import graph as sql
from server.errors import BadUserInput

MAX_DEPTH = 100
MAX_LIMIT = 10_000

RUN, ARTIFACT = "Run", "Artifact"
# (direction, kind of the frontier) -> (kind reached, kind of the edges followed)
_HOPS = {
    ("DOWNSTREAM", ARTIFACT): (RUN, "USED"),
    ("DOWNSTREAM", RUN): (ARTIFACT, "LOGGED"),
    ("UPSTREAM", ARTIFACT): (RUN, "LOGGED"),
    ("UPSTREAM", RUN): (ARTIFACT, "USED"),
}


NodeKey = tuple[str, int]  # (RUN or ARTIFACT, row id)
# (source, target, kind) oriented as data flows: run LOGGED artifact, artifact USED run.
# Plain tuples: a 10,000-node answer has as many edges, and a dataclass each cost 10 ms.
Edge = tuple[NodeKey, NodeKey, str]


@dataclass
class Graph:
    nodes: list[NodeKey]
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False


def check_bounds(depth: int, limit: int) -> None:
    if not 0 <= depth <= MAX_DEPTH:
        raise BadUserInput(f"depth must be between 0 and {MAX_DEPTH}, got {depth}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadUserInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")


async def _hop(
    db: Queryable, members: list[int], direction: str, kind: str, ids: list[int]
) -> tuple[str, list[tuple[int, int]], str]:
    """(kind reached, [(from id, to id)], edge kind) for one hop from ``ids``."""
    reached, edge_kind = _HOPS[(direction, kind)]
    rows = await db.fetch(sql.hop(edge_kind, kind), ids=ids, member_entity_ids=members)
    # records unpack as (from, to) pairs: no copy into tuples on the walk's hot path
    return reached, cast("list[tuple[int, int]]", rows), edge_kind


def _edges(
    from_kind: str, to_kind: str, kind: str, pairs: list[tuple[int, int]], keep: set[int]
) -> list[Edge]:
    """The hop's edges whose far end (an id of to_kind) is in keep, oriented as data flows."""
    forward = (kind == "LOGGED") == (from_kind == RUN)
    out: list[Edge] = []
    for a, b in pairs:
        if b in keep:
            near, far = (from_kind, a), (to_kind, b)
            out.append((near, far, kind) if forward else (far, near, kind))
    return out


class _Walk:
    """One breadth-first walk from ``start``: its state between hops.

    Every edge between two returned nodes is seen: each node is either expanded (its hop
    finds its edges in this direction) or among the last ones added, whose edges come
    from one more hop (``probe``); that hop also tells whether depth cut anything off."""

    def __init__(self, start: NodeKey, limit: int) -> None:
        self.limit = limit
        self.order = [start]
        self.seen: dict[str, set[int]] = {RUN: set(), ARTIFACT: set()}  # no tuple per pair
        self.seen[start[0]].add(start[1])
        self.edges: list[Edge] = []
        self.kind, self.frontier = start[0], [start[1]]
        self.truncated = False
        self.done = False

    def step(self, reached: str, pairs: list[tuple[int, int]], edge_kind: str) -> None:
        """Take in one hop within the depth."""
        known = self.seen[reached]
        fresh = [b for b in dict.fromkeys(b for _, b in pairs) if b not in known]
        room = self.limit - len(self.order)
        if len(fresh) > room:
            fresh, self.truncated = fresh[:room], True
        known.update(fresh)
        self.order += [(reached, b) for b in fresh]
        self.edges += _edges(self.kind, reached, edge_kind, pairs, known)
        self.kind, self.frontier = reached, fresh
        self.done = self.truncated or not self.frontier

    def probe(self, reached: str, pairs: list[tuple[int, int]], edge_kind: str) -> None:
        """Take in the hop one past the depth: edges among known nodes, and truncation."""
        known = self.seen[reached]
        self.edges += _edges(self.kind, reached, edge_kind, pairs, known)
        self.truncated = self.truncated or any(b not in known for _, b in pairs)

    def graph(self) -> Graph:
        return Graph(self.order, self.edges, self.truncated)


async def _hops(
    db: Queryable, members: list[int], direction: str, walks: list[_Walk]
) -> list[tuple[str, list[tuple[int, int]], str]]:
    """One hop from each walk's frontier: one query per frontier kind for all of them,
    each walk then keeping the pairs that start in its own frontier."""
    by_kind: dict[str, list[_Walk]] = defaultdict(list)
    for walk in walks:
        by_kind[walk.kind].append(walk)
    hops: dict[int, tuple[str, list[tuple[int, int]], str]] = {}
    for kind, group in by_kind.items():
        if len(group) == 1:  # the common case: one walk, its pairs as they come
            hops[id(group[0])] = await _hop(db, members, direction, kind, group[0].frontier)
            continue
        ids = sorted({i for walk in group for i in walk.frontier})
        reached, pairs, edge_kind = await _hop(db, members, direction, kind, ids)
        for walk in group:
            mine = set(walk.frontier)
            hops[id(walk)] = (reached, [p for p in pairs if p[0] in mine], edge_kind)
    return [hops[id(walk)] for walk in walks]


async def _walk_all(
    db: Queryable, members: list[int], walks: list[_Walk], direction: str, depth: int
) -> None:
    """Advance walks of one direction in step: a hop is one query for all of them."""
    for _ in range(depth):
        active = [walk for walk in walks if not walk.done]
        if not active:
            break
        for walk, hop in zip(active, await _hops(db, members, direction, active), strict=True):
            walk.step(*hop)
    probing = [walk for walk in walks if walk.frontier]
    if probing:
        for walk, hop in zip(probing, await _hops(db, members, direction, probing), strict=True):
            walk.probe(*hop)


async def _walk(
    db: Queryable,
    members: list[int],
    start: NodeKey,
    direction: str,
    depth: int,
    limit: int,
) -> Graph:
    """Breadth-first from start (one walk; bench/lineage_inprocess.py times it alone)."""
    walk = _Walk(start, limit)
    await _walk_all(db, members, [walk], direction, depth)
    return walk.graph()


@dataclass(frozen=True)
class LineageRequest:
    start: NodeKey
    direction: str
    depth: int
    limit: int


async def lineage(
    db: Queryable,
    viewer: Viewer | None,
    start: NodeKey,
    direction: str,
    depth: int,
    limit: int,
) -> Graph:
    check_bounds(depth, limit)
    return (await lineages(db, viewer, [LineageRequest(start, direction, depth, limit)]))[0]


async def lineages(
    db: Queryable, viewer: Viewer | None, requests: Sequence[LineageRequest]
) -> list[Graph]:
    """The graph of each request (bounds checked by the caller), the walks of equal depth
    and direction advancing together: the lineage of 20 runs costs the round trips of
    one. BOTH is the union of an UPSTREAM and a DOWNSTREAM walk."""
    members = access.member_entity_ids(viewer)
    walks: dict[tuple[str, int], list[tuple[LineageRequest, _Walk]]] = defaultdict(list)
    for request in requests:
        directions = (
            ("UPSTREAM", "DOWNSTREAM") if request.direction == "BOTH" else (request.direction,)
        )
        for direction in directions:
            walks[(direction, request.depth)].append((request, _Walk(request.start, request.limit)))
    for (direction, depth), group in walks.items():
        await _walk_all(db, members, [walk for _, walk in group], direction, depth)
    done: dict[tuple[LineageRequest, str], Graph] = {}
    for (direction, _), group in walks.items():
        for request, walk in group:
            done[(request, direction)] = walk.graph()
    both: list[tuple[LineageRequest, Graph]] = []
    for request in dict.fromkeys(requests):
        if request.direction != "BOTH":
            continue
        up, down = done[(request, "UPSTREAM")], done[(request, "DOWNSTREAM")]
        merged = list(dict.fromkeys(up.nodes + down.nodes))
        # edges between an upstream-only and a downstream-only node are in neither walk
        truncated = up.truncated or down.truncated or len(merged) > request.limit
        both.append((request, Graph(merged[: request.limit], truncated=truncated)))
    if both:
        edges = await _edges_between(db, [node for _, g in both for node in g.nodes])
        if len(both) == 1:
            both[0][1].edges = edges
        else:
            for _, g in both:
                present = set(g.nodes)
                g.edges = [e for e in edges if e[0] in present and e[1] in present]
        for request, g in both:
            done[(request, "BOTH")] = g
    return [done[(request, request.direction)] for request in requests]


async def _edges_between(db: Queryable, nodes: list[NodeKey]) -> list[Edge]:
    runs = [i for k, i in nodes if k == RUN]
    artifacts = [i for k, i in nodes if k == ARTIFACT]
    if not runs or not artifacts:
        return []
    rows = await db.fetch(sql.EDGES_BETWEEN, run_ids=runs, version_ids=artifacts)
    return [
        ((RUN, run), (ARTIFACT, version), "LOGGED")
        if kind == "LOGGED"
        else ((ARTIFACT, version), (RUN, run), "USED")
        for kind, run, version in rows
    ]
