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
import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asyncpg import Record

from server.db.database import Queryable
from server.domain import access, artifacts, runs
from server.domain.access import Viewer
from server.domain.sql import graph as sql
from server.errors import BadUserInput

MAX_DEPTH = 100
MAX_LIMIT = 10_000
# up to how many nodes (of all the walks of a request) their rows come with the walk:
# one round trip less (0.45 ms of 1.8 for a 13-node answer), but for 10,000 nodes
# Postgres spent 3.5 ms more CPU on the aggregated arrays than on two plain queries.
ROWS_WITH_WALK = 1_000

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


_OTHER = {RUN: ARTIFACT, ARTIFACT: RUN}


def _graph(start: NodeKey, direction: str, row: Record) -> Graph:
    """The Graph of one lineage_walk row: node ids by hop (kinds alternate from the
    start's), edges as (near, far) id pairs by hop, oriented here as data flows."""
    kinds = (start[0], _OTHER[start[0]])
    ids: list[int] = row["nodes"]
    nodes: list[NodeKey] = []
    begin = 0
    for hop, end in enumerate(row["hop_ends"]):
        kind = kinds[hop % 2]
        nodes += [(kind, i) for i in ids[begin:end]]
        begin = end
    near_ids: list[int] = row["edge_near"]
    far_ids: list[int] = row["edge_far"]
    edges: list[Edge] = []
    begin = 0
    for hop, end in enumerate(row["edge_ends"]):
        near = kinds[hop % 2]
        far, kind = _HOPS[(direction, near)]
        pairs = zip(near_ids[begin:end], far_ids[begin:end], strict=True)
        if (kind == "LOGGED") == (near == RUN):  # the walk goes as data flows
            edges += [((near, a), (far, b), kind) for a, b in pairs]
        else:
            edges += [((far, b), (near, a), kind) for a, b in pairs]
        begin = end
    return Graph(nodes, edges, row["truncated"])


async def _walks(
    db: Queryable,
    members: list[int],
    walks: Sequence[tuple[NodeKey, str, int, int]],
    read: tuple[frozenset[str], frozenset[str]] | None = None,
) -> tuple[list[Graph], NodeRows | None]:
    """Each (start, direction, depth, limit) walk, all of them in one statement; with
    ``read`` (the row fields of runs, of artifacts) also the readable rows of every node
    found, in the same statement."""
    if read is not None and len(walks) == 1:
        (start, direction, depth, limit), (run_read, artifact_read) = walks[0], read
        rows = await db.fetch(
            sql.walks_with_rows(run_read, artifact_read, single=True),
            kind=start[0],
            id=start[1],
            direction=direction,
            depth=depth,
            lim=limit,
            member_entity_ids=members,
            rows_up_to=ROWS_WITH_WALK,
        )
    else:
        rows = await db.fetch(
            sql.WALKS if read is None else sql.walks_with_rows(*read, single=False),
            kinds=[start[0] for start, _, _, _ in walks],
            ids=[start[1] for start, _, _, _ in walks],
            directions=[direction for _, direction, _, _ in walks],
            depths=[depth for _, _, depth, _ in walks],
            limits=[limit for _, _, _, limit in walks],
            member_entity_ids=members,
            **({} if read is None else {"rows_up_to": ROWS_WITH_WALK}),
        )
    graphs = [
        _graph(start, direction, row)
        for (start, direction, _, _), row in zip(walks, rows, strict=True)
    ]
    if not rows:  # no walk asked for
        return graphs, None if read is None else NodeRows({}, {})
    if read is None or not rows[0]["rows_included"]:
        return graphs, None
    return graphs, NodeRows(
        _rows_of_arrays(RUN, read[0], rows[0]), _rows_of_arrays(ARTIFACT, read[1], rows[0])
    )


async def _walk(
    db: Queryable,
    members: list[int],
    start: NodeKey,
    direction: str,
    depth: int,
    limit: int,
) -> Graph:
    """Breadth-first from start (one walk; bench/lineage_inprocess.py times it alone)."""
    return (await _walks(db, members, [(start, direction, depth, limit)]))[0][0]


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
    return (await _lineages(db, viewer, requests, None))[0]


async def lineages_with_rows(
    db: Queryable,
    viewer: Viewer | None,
    requests: Sequence[LineageRequest],
    run_read: frozenset[str],
    artifact_read: frozenset[str],
) -> tuple[list[Graph], NodeRows]:
    """``lineages``, and the readable rows of every node of them, by kind and id, holding
    the fields in ``run_read`` / ``artifact_read`` (with their key and access fields; the
    others None): the rows come with the walks, in the same statement, so a lineage
    answer costs one round trip rather than a walk then a query per kind. Past
    ROWS_WITH_WALK nodes the rows come from a query per kind, both on their own
    connections at once, after the walk."""
    graphs, rows = await _lineages(db, viewer, requests, (run_read, artifact_read))
    if rows is None:  # more than ROWS_WITH_WALK nodes: a query per kind, both at once
        wanted: dict[str, dict[int, None]] = {RUN: {}, ARTIFACT: {}}
        for g in graphs:
            for kind, pk in g.nodes:
                wanted[kind][pk] = None
        found_runs, found_artifacts = await asyncio.gather(
            node_rows(db, viewer, RUN, list(wanted[RUN]), run_read),
            node_rows(db, viewer, ARTIFACT, list(wanted[ARTIFACT]), artifact_read),
        )
        rows = NodeRows(found_runs, found_artifacts)
    return graphs, rows


async def _lineages(
    db: Queryable,
    viewer: Viewer | None,
    requests: Sequence[LineageRequest],
    read: tuple[frozenset[str], frozenset[str]] | None,
) -> tuple[list[Graph], NodeRows | None]:
    members = access.member_entity_ids(viewer)
    unique = list(dict.fromkeys(requests))
    walks = [(r.start, d, r.depth, r.limit) for r in unique for d in _directions(r)]
    walked, rows = await _walks(db, members, walks, read)
    graphs = iter(walked)
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
    return [done[(request, request.direction)] for request in requests], rows


@dataclass(frozen=True)
class NodeRows:
    """The readable rows of a lineage answer's nodes by id: RunRow, ArtifactRow."""

    runs: dict[int, runs.RunRow]
    artifacts: dict[int, artifacts.ArtifactRow]


def _row_fields(cls: type[Any]) -> tuple[str, ...]:
    return tuple(
        f.name for f in dataclasses.fields(cls) if f.init and f.default is dataclasses.MISSING
    )


_ROW_CLASSES: dict[str, Any] = {RUN: runs.RunRow, ARTIFACT: artifacts.ArtifactRow}
_ROW_FIELDS = {kind: _row_fields(cls) for kind, cls in _ROW_CLASSES.items()}


def _rows_of_arrays(kind: str, read: frozenset[str], row: Record) -> dict[Any, Any]:
    """The rows of ``kind`` held by walks_with_rows's arrays (``<kind>__<field>``), by id;
    the fields not returned are None."""
    returned = sql.node_array_columns(kind, read)
    if row[f"{kind}__id"] is None:  # no readable node of the kind
        return {}
    arrays = [
        row[f"{kind}__{name}"] if name in returned else itertools.repeat(None)
        for name in _ROW_FIELDS[kind]
    ]
    built = map(_ROW_CLASSES[kind], *arrays)
    return dict(zip(row[f"{kind}__id"], built, strict=True))


# every field of a node's row (node_rows reads only those asked for)
NODE_FIELDS = {kind: frozenset(names) for kind, names in sql.NODE_COLUMNS.items()}


async def node_rows(
    db: Queryable, viewer: Viewer | None, kind: str, ids: Sequence[int], read: frozenset[str]
) -> dict[int, Any]:
    """The readable runs (``kind`` RUN) or artifact versions (ARTIFACT) of ``ids`` by id,
    as RunRow / ArtifactRow holding the fields in ``read`` (sql.NODE_COLUMNS names them),
    their key and access fields; the others None."""
    if not ids:
        return {}
    records = await db.fetch(
        sql.node_rows(kind, read), ids=list(ids), member_entity_ids=access.member_entity_ids(viewer)
    )
    rows = (runs.RUN_ROW if kind == RUN else artifacts.ARTIFACT_ROW).all(records)
    return {row.id: row for row in rows}


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
