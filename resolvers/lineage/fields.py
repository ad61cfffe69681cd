"""Resolvers shared by the lineage fields of Run and Artifact (thin: the work is in
server/domain/lineage.py and server/domain/graph.py, batched by the DataLoaders)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from resolvers.connections import Connection
from resolvers.enums import LineageEdgeKind
from resolvers.info import Info
from resolvers.selection import selects_documents, selects_total_count
from server.domain import graph
from server.domain.lineage import HopKey, HopPage
from server.domain.pagination import Page, check_cursor_shape, page_args
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
    args = page_args(first, after)
    check_cursor_shape(args.after, [int])
    # Asked for now, with the page, so every parent's count lands in one batch: asked
    # later, parents whose pages come back in a different number of steps would split it.
    counted = counts.load((parent, type_)) if selects_total_count(info) else None
    documents = selects_documents(info, "edges", "node")
    page = await pages.load(
        HopKey(parent, args.first, args.after[0] if args.after else None, type_, documents)
    )

    async def count() -> int:
        return await (counted if counted is not None else counts.load((parent, type_)))

    return Connection.of(
        Page(page.rows, [[seq] for seq in page.seqs], page.has_next, count), convert
    )


async def lineage_graph(
    info: Info, kind: str, pk: int, direction: str, depth: int, limit: int
) -> Any:
    from resolvers.artifacts.types import Artifact
    from resolvers.lineage.types import LineageEdge, LineageGraph
    from resolvers.runs.types import Run

    graph.check_bounds(depth, limit)
    request = graph.LineageRequest((kind, pk), direction, depth, limit)
    found = await info.context.loaders.lineage.load(
        LineageKey(request, selects_documents(info, "nodes"))
    )
    built: dict[tuple[str, int], Any] = {}
    for key in found.graph.nodes:
        # a row may have vanished (deleted, made private) since the walk
        if key[0] == graph.RUN:
            if (run := found.runs.get(key[1])) is not None:
                built[key] = Run.of(run)
        elif (artifact := found.artifacts.get(key[1])) is not None:
            built[key] = Artifact.of(artifact)
    ids = {key: node.row.global_id for key, node in built.items()}
    logged, used = LineageEdgeKind.LOGGED, LineageEdgeKind.USED
    edges = [
        LineageEdge(
            source=ids[source], target=ids[target], kind=logged if kind == "LOGGED" else used
        )
        for source, target, kind in found.graph.edges
        if source in ids and target in ids
    ]
    return LineageGraph(nodes=list(built.values()), edges=edges, truncated=found.graph.truncated)
