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

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from itertools import repeat
from typing import Any

from asyncpg import Record

from server.db.database import Queryable
from server.domain import access, accounts, artifacts, runs
from server.domain.access import Viewer
from server.domain.ids import encode_id
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
    # made while Postgres reads its nodes' rows (find_artifact_with_lineage)
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


def _graph(start: NodeKey, direction: str, row: Record) -> Graph:
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
        _graph(start, direction, row)
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


# every field of a node's row (node_rows reads only those asked for)
NODE_FIELDS = {kind: frozenset(names) for kind, names in sql.NODE_COLUMNS.items()}


async def node_rows(
    db: Queryable,
    viewer: Viewer | None,
    kind: str,
    ids: Sequence[int],
    read: frozenset[str],
    global_ids: dict[str, dict[int, str]] | None = None,
) -> dict[int, Any]:
    """The readable runs (``kind`` RUN) or artifact versions (ARTIFACT) of ``ids`` by id,
    as RunRow / ArtifactRow holding the fields in ``read`` (sql.NODE_COLUMNS names them),
    their key and access fields; the others None. When ``global_ids`` holds ``kind`` by
    the time the rows come (the global id of every one of ``ids``), the rows carry them."""
    if not ids:
        return {}
    record = await db.fetchrow(
        sql.node_rows(kind, read), ids=list(ids), member_entity_ids=access.member_entity_ids(viewer)
    )
    assert record is not None  # an aggregate's one row
    return _rows_of_arrays(record, kind, read, "", (global_ids or {}).get(kind))


def global_ids_of(kind: str, ids: Sequence[int]) -> dict[int, str]:
    """The global ids of the nodes of ``kind`` with row ids ``ids``, by row id."""
    return {i: encode_id(kind, i) for i in ids}


def global_edges_of(graph: Graph, ids: dict[str, dict[int, str]]) -> list[tuple[str, str, str]]:
    """The edges of ``graph`` between nodes in ``ids`` (global ids by kind and row id), as
    (source, target, kind) global ids and kind names; an edge with an end not in ``ids``
    (its row vanished) is left out."""
    edges: list[tuple[str, str, str]] = []
    if graph.edge_hops is None:  # not one walk's graph (BOTH): its edges one by one
        return [
            (a, b, edge_kind)
            for (sk, s), (tk, t), edge_kind in graph.edges
            if (a := ids[sk].get(s)) is not None and (b := ids[tk].get(t)) is not None
        ]
    for source_kind, target_kind, edge_kind, sources, targets in graph.edge_hops:
        near: list[str | None] = list(map(ids[source_kind].get, sources))
        far: list[str | None] = list(map(ids[target_kind].get, targets))
        if None in near or None in far:  # an end vanished: not an edge of the answer
            edges += [
                (s, t, edge_kind)
                for s, t in zip(near, far, strict=True)
                if s is not None and t is not None
            ]
        else:  # every end found: the edge tuples made in C
            edges += zip(near, far, repeat(edge_kind))  # type: ignore[arg-type]
    return edges


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


@dataclass
class ArtifactLineage:
    """A version found by path, its readable producer (when asked for), and one lineage
    walk from it with the readable rows of its nodes (node_rows' rows by id)."""

    artifact: artifacts.ArtifactRow | None
    producer: runs.RunRow | None = None
    graph: Graph | None = None
    runs: dict[int, runs.RunRow] = field(default_factory=dict)
    artifacts: dict[int, artifacts.ArtifactRow] = field(default_factory=dict)
    # with a key_hash: the key's holder, None for a wrong or revoked key
    viewer: Viewer | None = None


async def find_artifact_with_lineage(
    db: Queryable,
    viewer: Viewer | None,
    path: str,
    *,
    producer: bool,
    direction: str,
    depth: int,
    limit: int,
    run_read: frozenset[str],
    artifact_read: frozenset[str],
    key_hash: bytes | None = None,
) -> ArtifactLineage:
    """artifacts.find_artifact(_and_producer) and lineage() of the version it finds
    (UPSTREAM or DOWNSTREAM; bounds checked by the caller) with node_rows of its nodes
    (``run_read`` / ``artifact_read``): one round trip for a walk of up to
    sql.ROWS_WITH_WALK nodes, two (the rows of both kinds side by side) past that.

    With ``key_hash`` (and no viewer), for the holder of that API key, looked up in the
    same statement: the answer's ``viewer`` is the holder, None for a wrong or revoked
    key (and then nothing else is found). ``path`` must then name its entity."""
    if direction not in ("UPSTREAM", "DOWNSTREAM"):
        raise ValueError(f"one walk goes UPSTREAM or DOWNSTREAM, not {direction!r}")
    named = artifacts.path_params(viewer, path)
    if named is None:
        if key_hash is None:
            return ArtifactLineage(None)
        return ArtifactLineage(None, viewer=await accounts.viewer_by_key_hash_or_none(db, key_hash))
    kind, params = named
    if key_hash is not None:
        del params["member_entity_ids"]  # the key's holder's, read in the statement
        params["key_hash"] = key_hash
    records = await db.fetch(
        sql.artifact_with_lineage(
            kind, producer, run_read, artifact_read, key_hash is not None, direction
        ),
        depth=depth,
        lim=limit,
        **params,
    )
    holder = None
    if key_hash is not None:
        holder, records = accounts.split_key_holder(records)
        if holder is None:
            return ArtifactLineage(None)
        viewer = holder
    if not records:
        return ArtifactLineage(None, viewer=holder)
    version = walk = None
    for r in records:
        if r["id"] is not None:
            version = r
        else:
            walk = r
    if version is None or walk is None:
        return ArtifactLineage(None, viewer=holder)
    found = artifacts.ARTIFACT_ROW.one(version)
    producer_found = None
    if producer and version["producer_id"] is not None:
        producer_found = artifacts.PRODUCER_ROW.one(version)
    walked = _graph((ARTIFACT, found.id), direction, walk)
    if walk["rows_included"]:
        run_rows = _array_rows(walk, RUN, run_read)
        artifact_rows = _array_rows(walk, ARTIFACT, artifact_read)
    else:  # a big walk: its rows as the lineage loader reads them, both kinds at once
        run_rows, artifact_rows = await _big_walk_rows(db, viewer, walked, run_read, artifact_read)
    return ArtifactLineage(found, producer_found, walked, run_rows, artifact_rows, holder)


async def _big_walk_rows(
    db: Queryable,
    viewer: Viewer | None,
    walked: Graph,
    run_read: frozenset[str],
    artifact_read: frozenset[str],
) -> tuple[dict[int, Any], dict[int, Any]]:
    """node_rows of both kinds of a walk's nodes, side by side, and the nodes' global ids
    (``walked.global_ids``, which the rows carry too) and the edges made of them
    (``walked.global_edges``), made while Postgres reads the rows: a 10,000-node answer
    spent ~3 ms encoding ids and ~1 ms making edges after the rows came, with nothing
    else to do while it waited for them."""
    ids = {RUN: walked.ids_of(RUN), ARTIFACT: walked.ids_of(ARTIFACT)}
    global_ids: dict[str, dict[int, str]] = {}
    reads = [
        asyncio.ensure_future(node_rows(db, viewer, kind, ids[kind], read, global_ids))
        for kind, read in ((RUN, run_read), (ARTIFACT, artifact_read))
    ]
    try:
        # both statements sent (each task runs until it waits for its answer), then the
        # global ids made, which each task finds when its rows come
        await asyncio.sleep(0)
        for kind, of_kind in ids.items():
            global_ids[kind] = global_ids_of(kind, of_kind)
        walked.global_ids = global_ids
        walked.global_edges = global_edges_of(walked, global_ids)
        run_rows, artifact_rows = await asyncio.gather(*reads)
    except BaseException:
        for read in reads:
            read.cancel()
        raise
    return run_rows, artifact_rows


def _array_rows(record: Record, kind: str, read: frozenset[str]) -> dict[int, Any]:
    """The rows of ``kind`` by id from sql.artifact_with_lineage's arrays (the fields not
    read None, as node_rows leaves them)."""
    return _rows_of_arrays(
        record, kind, read, sql.RUN_PREFIX if kind == RUN else sql.ARTIFACT_PREFIX
    )


# _rows_of_arrays gives a row its global id by position, after the fields RowBuilder names
for _made, _builder in (
    (runs.RunRow, runs.RUN_ROW),
    (artifacts.ArtifactRow, artifacts.ARTIFACT_ROW),
):
    if [f.name for f in fields(_made) if f.init] != [*_builder.fields, "_global_id"]:
        raise RuntimeError(f"{_made.__name__}'s fields are not its RowBuilder's and _global_id")


def _rows_of_arrays(
    record: Record,
    kind: str,
    read: frozenset[str],
    prefix: str,
    global_ids: dict[int, str] | None = None,
) -> dict[int, Any]:
    """The rows of ``kind`` by id from the arrays ``<prefix><field>`` of ``record``, with
    their global ids from ``global_ids`` (by row id) when given."""
    ids = record[prefix + "id"]
    if not ids:
        return {}
    present = sql.node_array_columns(kind, read)
    fields = runs.RUN_ROW.fields if kind == RUN else artifacts.ARTIFACT_ROW.fields
    columns = [record[prefix + n] if n in present else repeat(None) for n in fields]
    if global_ids is not None:  # the field after the row's own ones: its kept global id
        columns.append(map(global_ids.__getitem__, ids))
    make: Any = runs.RunRow if kind == RUN else artifacts.ArtifactRow
    return dict(zip(ids, map(make, *columns), strict=False))
