"""Resolvers shared by the lineage fields of Run and Artifact (thin: the work is in
server/domain/lineage.py and server/domain/graph.py, batched by the DataLoaders)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from graphql import FieldNode
from strawberry.dataloader import DataLoader

from resolvers.connections import Connection, hop_connections
from resolvers.fields import RowViews
from resolvers.info import Info
from resolvers.selection import below, fields_of
from server.domain import graph, node_rows
from server.domain.lineage import HopKey, HopPage
from server.loaders import LineageKey

T = TypeVar("T")


async def hop_connection(
    info: Info,
    pages: DataLoader[HopKey, HopPage],
    counts: DataLoader[tuple[int, str | None], int],
    convert: Callable[[Any], T],
    parent: int,
    first: int | None,
    after: str | None,
    type_: str | None = None,
) -> Connection[T]:
    """One parent's one-hop connection: the batch form with a batch of one."""
    (connection,) = await hop_connections(
        info, pages, counts, convert, [parent], first, after, type_
    )
    return connection


# The row fields each GraphQL field of a node reads (server/domain/sql/graph.py loads
# only those columns of a graph's nodes). A field not listed here reads the whole row,
# so a field added to Run or Artifact is right before anyone lists it.
# tests/resolvers/lineage/test_node_columns.py checks each entry against the whole row.
RUN_FIELDS: dict[str, frozenset[str]] = {
    "__typename": frozenset(),
    "id": frozenset({"id"}),
    "runId": frozenset({"run_id"}),
    "name": frozenset({"name"}),
    "path": frozenset({"entity_name", "project_name", "run_id"}),
    "state": frozenset({"state"}),
    "config": frozenset({"config"}),
    "summary": frozenset({"summary"}),
    "createdAt": frozenset({"created_at"}),
    "updatedAt": frozenset({"updated_at"}),
    "project": frozenset({"project_id"}),
    "sweep": frozenset({"sweep_id"}),
    "loggedArtifacts": frozenset({"id"}),
    "usedArtifacts": frozenset({"id"}),
    "lineage": frozenset({"id"}),
}
ARTIFACT_FIELDS: dict[str, frozenset[str]] = {
    "__typename": frozenset(),
    "id": frozenset({"id"}),
    "name": frozenset({"name"}),
    "path": frozenset({"entity_name", "project_name", "name", "version_index"}),
    "type": frozenset({"type"}),
    "versionIndex": frozenset({"version_index"}),
    "version": frozenset({"version_index"}),
    "digest": frozenset({"digest"}),
    "aliases": frozenset({"id"}),
    "description": frozenset({"description"}),
    "metadata": frozenset({"metadata"}),
    "state": frozenset({"state"}),
    "size": frozenset({"size"}),
    "fileCount": frozenset({"file_count"}),
    "createdAt": frozenset({"created_at"}),
    "ttlDurationSeconds": frozenset({"ttl_seconds"}),
    "expiresAt": frozenset({"expires_at"}),
    "collection": frozenset({"collection_id"}),
    "manifest": frozenset({"id", "state"}),
    "loggedBy": frozenset({"logged_by"}),
    "usedBy": frozenset({"id"}),
    "lineage": frozenset({"id"}),
}


def node_fields(info: Info) -> tuple[frozenset[str], frozenset[str]]:
    """The row fields of Run and Artifact nodes this lineage field's ``nodes`` select
    (every field of either kind, through any fragment: a superset is always right)."""
    # kept with the (cached) document, by the field's nodes, as resolvers/selection.py does
    raw = info._raw_info
    memo = getattr(info.context.document, "selections", None)
    key = ("lineage node fields", tuple(map(id, raw.field_nodes)))
    found: tuple[frozenset[str], frozenset[str]] | None = None if memo is None else memo.get(key)
    if found is None:
        found = node_fields_of(raw, raw.field_nodes)
        if memo is not None:
            memo[key] = found
    return found


def node_fields_of(
    raw: Any, field_nodes: Sequence[FieldNode]
) -> tuple[frozenset[str], frozenset[str]]:
    """node_fields of a lineage field given by its nodes (``raw`` graphql-core's info of
    any field of the same operation)."""
    nodes = [f for f in fields_of(raw, below(field_nodes)) if f.name.value == "nodes"]
    names = {f.name.value for f in fields_of(raw, below(nodes))}
    return (
        _read(names, RUN_FIELDS, ARTIFACT_FIELDS, node_rows.NODE_FIELDS[graph.RUN]),
        _read(names, ARTIFACT_FIELDS, RUN_FIELDS, node_rows.NODE_FIELDS[graph.ARTIFACT]),
    )


def _read(
    names: set[str],
    mine: dict[str, frozenset[str]],
    other: dict[str, frozenset[str]],
    everything: frozenset[str],
) -> frozenset[str]:
    read: set[str] = set()
    for name in names:
        if name in mine:
            read |= mine[name]
        elif name not in other:  # a field nobody listed: the whole row
            return everything
    return frozenset(read)


_GLOBAL_ID = attrgetter("global_id")


async def lineage_graph(
    info: Info, kind: str, pk: int, direction: str, depth: int, limit: int
) -> Any:
    from resolvers.artifacts.types import Artifact
    from resolvers.lineage.types import LineageEdge, LineageGraph
    from resolvers.runs.types import Run

    graph.check_bounds(depth, limit)
    request = graph.LineageRequest((kind, pk), direction, depth, limit)
    found = await info.context.loaders.lineage.load(LineageKey(request, *node_fields(info)))
    # The nodes and edges as RowViews: the fast executor completes them from the rows
    # and (source, target, kind) tuples, graphql-core's path from the views they stand for.
    runs, artifacts = found.runs, found.artifacts
    classes: list[type] = []
    rows: list[Any] = []
    # global ids of the nodes returned, by kind and row id: those the walk made ahead
    # while its rows were read, unless a row vanished
    ids: dict[str, dict[int, str]] = {graph.RUN: {}, graph.ARTIFACT: {}}
    run_ids, artifact_ids = ids[graph.RUN], ids[graph.ARTIFACT]
    vanished = False
    for kind_of, hop in found.graph.node_groups():
        # a row may have vanished (deleted, made private) since the walk
        cls: type
        by_id: dict[int, Any]
        if kind_of == graph.RUN:
            cls, by_id, global_ids = Run, runs, run_ids
        else:
            cls, by_id, global_ids = Artifact, artifacts, artifact_ids
        present: list[Any] = list(map(by_id.get, hop))
        if None in present:
            vanished = True
            present = [row for row in present if row is not None]
        rows += present
        classes += [cls] * len(present)
        if found.graph.global_ids is not None:
            continue
        if len(present) == len(hop):
            global_ids.update(zip(hop, map(_GLOBAL_ID, present), strict=True))
        else:
            global_ids.update((row.id, row.global_id) for row in present)
    if found.graph.global_ids is not None:
        if vanished:
            ids = {
                kind_of: {row_id: gid for row_id, gid in made.items() if row_id in by_kind}
                for kind_of, made, by_kind in (
                    (graph.RUN, found.graph.global_ids[graph.RUN], runs),
                    (graph.ARTIFACT, found.graph.global_ids[graph.ARTIFACT], artifacts),
                )
            }
        else:
            ids = found.graph.global_ids
    if found.graph.global_edges is not None and not vanished:
        edges = found.graph.global_edges  # made with the global ids, while the rows came
    else:
        edges = node_rows.global_edges_of(found.graph, ids)
    return LineageGraph(
        nodes=RowViews(classes, rows),  # type: ignore[arg-type]
        edges=RowViews([LineageEdge] * len(edges), edges),  # type: ignore[arg-type]
        truncated=found.graph.truncated,
    )
