"""Resolvers shared by the lineage fields of Run and Artifact (thin: the work is in
server/domain/lineage.py and server/domain/graph.py, batched by the DataLoaders)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from resolvers.connections import Connection
from resolvers.info import Info
from server.domain import graph
from server.domain.ids import encode_id
from server.domain.lineage import HopKey, HopPage
from server.domain.pagination import Page, check_cursor_shape, page_args

T = TypeVar("T")


async def hop_connection(
    pages: DataLoader[HopKey, HopPage],
    counts: DataLoader[tuple[int, str | None], int],
    rows: DataLoader[int, Any],
    convert: Callable[[Any], T],
    parent: int,
    first: int | None,
    after: str | None,
    type_: str | None = None,
) -> Connection[T]:
    args = page_args(first, after)
    check_cursor_shape(args.after, [int])
    page = await pages.load(
        HopKey(parent, args.first, args.after[0] if args.after else None, type_)
    )
    loaded = await rows.load_many(page.child_ids)
    # a row can vanish between the two queries (deleted, made private): drop it, keep order
    kept = [(row, seq) for row, seq in zip(loaded, page.seqs, strict=True) if row is not None]

    async def count() -> int:
        return await counts.load((parent, type_))

    return Connection.of(
        Page([row for row, _ in kept], [[seq] for _, seq in kept], page.has_next, count), convert
    )


async def lineage_graph(
    info: Info, kind: str, pk: int, direction: str, depth: int, limit: int
) -> Any:
    from resolvers.artifacts.types import Artifact
    from resolvers.lineage.types import LineageEdge, LineageGraph
    from resolvers.runs.types import Run

    ctx = info.context
    found = await graph.lineage(ctx.db, ctx.viewer, (kind, pk), direction, depth, limit)
    run_ids = [i for k, i in found.nodes if k == graph.RUN]
    artifact_ids = [i for k, i in found.nodes if k == graph.ARTIFACT]
    run_rows, artifact_rows = await asyncio.gather(
        ctx.loaders.run_by_id.load_many(run_ids), ctx.loaders.artifact_by_id.load_many(artifact_ids)
    )
    runs = {i: Run.of(r) for i, r in zip(run_ids, run_rows, strict=True) if r is not None}
    artifacts = {
        i: Artifact.of(a) for i, a in zip(artifact_ids, artifact_rows, strict=True) if a is not None
    }
    nodes: list[Any] = []
    for k, i in found.nodes:
        node = runs.get(i) if k == graph.RUN else artifacts.get(i)
        if node is not None:
            nodes.append(node)
    present = {(graph.RUN, i) for i in runs} | {(graph.ARTIFACT, i) for i in artifacts}
    edges = [
        LineageEdge(
            source=encode_id(e.source_kind, e.source),
            target=encode_id(e.target_kind, e.target),
            kind=e.kind,
        )
        for e in found.edges
        if (e.source_kind, e.source) in present and (e.target_kind, e.target) in present
    ]
    return LineageGraph(nodes=nodes, edges=edges, truncated=found.truncated)
