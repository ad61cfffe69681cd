"""n-hop lineage: the neighbourhood of a run or artifact as nodes plus edges.

A breadth-first walk, hop by hop, each node reached once at its shortest distance, so
cycles cannot loop. The walk runs inside Postgres (the PL/pgSQL function lineage_walk of
migration 0007), every walk of a request in one statement: one round trip whatever the
depth. It walked from here before, one query per hop, which cost a round trip per hop
(4x the SQL for deep, narrow answers; numbers in the README). A single recursive CTE
cannot stop at ``limit`` nodes or skip unreadable nodes without revisiting paths.
Nodes the viewer may not read are never returned and the walk does not go through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from asyncpg import Record

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


# A walk's edges of one hop as it returned them: (source kind, target kind, edge kind,
# source ids, target ids), oriented as data flows. A 10,000-node answer maps these ids
# straight to its nodes' global ids; making a tuple of NodeKeys per edge first, and
# looking them up by those tuples, cost it about 2.5 ms more.
EdgeHop = tuple[str, str, str, list[int], list[int]]


# A walk's nodes of one hop: their kind and row ids, in the walk's order. A 10,000-node
# answer read its nodes' rows by hop; a (kind, id) tuple a node, made and then taken
# apart again, cost it ~2 ms (and the cyclic collector more).
NodeHop = tuple[str, list[int]]


@dataclass
class Graph:
    _nodes: list[NodeKey] | None = field(default=None, repr=False)
    _edges: list[Edge] | None = field(default=None, repr=False)
    truncated: bool = False
    # the edges by hop, when the graph is one walk's (a BOTH graph has none): ``edges``
    # is made from them when first asked for
    edge_hops: list[EdgeHop] | None = field(default=None, repr=False)
    # the nodes by hop, likewise: ``nodes`` is made from them when first asked for
    node_hops: list[NodeHop] | None = field(default=None, repr=False)
    # the global id of every node, by kind and row id, when made ahead: a big walk's,
    # made while Postgres reads its nodes' rows (artifact_lineage.find_artifact_with_lineage)
    global_ids: dict[str, dict[int, str]] | None = field(default=None, repr=False)
    # its edges as (source, target, kind) global ids and kind names, made with global_ids
    # (global_edges_of): what the answer's edges are when no node's row vanished
    global_edges: list[tuple[str, str, str]] | None = field(default=None, repr=False)

    @property
    def nodes(self) -> list[NodeKey]:
        if self._nodes is None:
            self._nodes = [(kind, i) for kind, ids in self.node_hops or () for i in ids]
        return self._nodes

    def node_groups(self) -> list[NodeHop]:
        """The nodes in order, as runs of one kind: the walk's hops, or for a graph of
        other nodes, its nodes side by side of one kind."""
        if self._nodes is None:
            return self.node_hops or []
        groups: list[NodeHop] = []
        for kind, i in self._nodes:
            if groups and groups[-1][0] == kind:
                groups[-1][1].append(i)
            else:
                groups.append((kind, [i]))
        return groups

    def ids_of(self, kind: str) -> list[int]:
        """The row ids of the nodes of ``kind``, in order."""
        found: list[int] = []
        for kind_of, ids in self.node_groups():
            if kind_of == kind:
                found += ids
        return found

    @property
    def edges(self) -> list[Edge]:
        if self._edges is None:
            self._edges = [
                ((source, a), (target, b), kind)
                for source, target, kind, sources, targets in self.edge_hops or ()
                for a, b in zip(sources, targets, strict=True)
            ]
        return self._edges

    @edges.setter
    def edges(self, edges: list[Edge]) -> None:
        self._edges = edges
        self.edge_hops = None


def check_bounds(depth: int, limit: int) -> None:
    if not 0 <= depth <= MAX_DEPTH:
        raise BadUserInput(f"depth must be between 0 and {MAX_DEPTH}, got {depth}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadUserInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")


_OTHER = {RUN: ARTIFACT, ARTIFACT: RUN}


def walk_graph(start: NodeKey, direction: str, row: Record) -> Graph:
    """The Graph of one lineage_walk row: node ids by hop (kinds alternate from the
    start's), edges as (near, far) id pairs by hop, oriented here as data flows."""
    kinds = (start[0], _OTHER[start[0]])
    ids: list[int] = row["nodes"]
    nodes: list[NodeHop] = []
    begin = 0
    for hop, end in enumerate(row["hop_ends"]):
        if begin < end:
            nodes.append((kinds[hop % 2], ids[begin:end]))
        begin = end
    near_ids: list[int] = row["edge_near"]
    far_ids: list[int] = row["edge_far"]
    hops: list[EdgeHop] = []
    begin = 0
    for hop, end in enumerate(row["edge_ends"]):
        near = kinds[hop % 2]
        far, kind = _HOPS[(direction, near)]
        if begin < end:
            if (kind == "LOGGED") == (near == RUN):  # the walk goes as data flows
                hops.append((near, far, kind, near_ids[begin:end], far_ids[begin:end]))
            else:
                hops.append((far, near, kind, far_ids[begin:end], near_ids[begin:end]))
        begin = end
    return Graph(truncated=row["truncated"], edge_hops=hops, node_hops=nodes)


async def _walks(
    db: Queryable, members: list[int], walks: Sequence[tuple[NodeKey, str, int, int]]
) -> list[Graph]:
    """Each (start, direction, depth, limit) walk, all of them in one statement."""
    rows = await db.fetch(
        sql.WALKS,
        kinds=[start[0] for start, _, _, _ in walks],
        ids=[start[1] for start, _, _, _ in walks],
        directions=[direction for _, direction, _, _ in walks],
        depths=[depth for _, _, depth, _ in walks],
        limits=[limit for _, _, _, limit in walks],
        member_entity_ids=members,
    )
    return [
        walk_graph(start, direction, row)
        for (start, direction, _, _), row in zip(walks, rows, strict=True)
    ]


async def _walk(
    db: Queryable,
    members: list[int],
    start: NodeKey,
    direction: str,
    depth: int,
    limit: int,
) -> Graph:
    """Breadth-first from start (one walk; bench/lineage_inprocess.py times it alone)."""
    return (await _walks(db, members, [(start, direction, depth, limit)]))[0]


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


def _directions(request: LineageRequest) -> tuple[str, ...]:
    return ("UPSTREAM", "DOWNSTREAM") if request.direction == "BOTH" else (request.direction,)


async def lineages(
    db: Queryable, viewer: Viewer | None, requests: Sequence[LineageRequest]
) -> list[Graph]:
    """The graph of each request (bounds checked by the caller), every walk in one
    statement: the lineage of 20 runs costs the round trips of one. BOTH is the union of
    an UPSTREAM and a DOWNSTREAM walk."""
    members = access.member_entity_ids(viewer)
    unique = list(dict.fromkeys(requests))
    walks = [(r.start, d, r.depth, r.limit) for r in unique for d in _directions(r)]
    graphs = iter(await _walks(db, members, walks))
    done = {(r, d): next(graphs) for r in unique for d in _directions(r)}
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
