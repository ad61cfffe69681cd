"""Resolvers shared by the lineage fields of Run and Artifact (thin: the work is in
server/domain/lineage.py and server/domain/graph.py, batched by the DataLoaders)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode
from strawberry.dataloader import DataLoader

from resolvers.connections import Connection
from resolvers.enums import LineageEdgeKind
from resolvers.info import Info
from server.domain import artifacts, graph, runs
from server.domain.lineage import HopKey, HopPage
from server.domain.pagination import Page, check_cursor_shape, page_args

T = TypeVar("T")


def _fields(raw: Any, selections: Iterable[Any]) -> Iterator[FieldNode]:
    """The fields of a selection, looking through fragments (directives not applied)."""
    pending = list(selections)
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, FragmentSpreadNode):
            fragment = raw.fragments.get(selection.name.value)
            if fragment is not None:
                pending.extend(fragment.selection_set.selections)
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(selection.selection_set.selections)


def _below(fields: Iterable[FieldNode]) -> list[Any]:
    return [s for field in fields if field.selection_set for s in field.selection_set.selections]


def selects_total_count(info: Info) -> bool:
    """Whether this connection field's selection asks for totalCount (fragments too).
    Reads graphql-core's AST: strawberry's selected_fields converts the whole subtree, on
    every call, for each of the 50 connections of a page (a tenth of a one-hop query)."""
    raw = info._raw_info
    return any(f.name.value == "totalCount" for f in _fields(raw, _below(raw.field_nodes)))


# fields holding JSON documents (no size bound): fetched for a graph's nodes only if asked
_DOCUMENTS = frozenset({"config", "summary", "metadata"})


def _selects_documents(info: Info, *path: str) -> bool:
    """Whether the objects at ``path`` below this field select a JSON document field."""
    raw = info._raw_info
    fields = list(raw.field_nodes)
    for name in path:
        fields = [f for f in _fields(raw, _below(fields)) if f.name.value == name]
    return any(f.name.value in _DOCUMENTS for f in _fields(raw, _below(fields)))


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
    documents = _selects_documents(info, "edges", "node")
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

    ctx = info.context
    found = await graph.lineage(ctx.db, ctx.viewer, (kind, pk), direction, depth, limit)
    # One query per node type for the whole graph, straight to the domain: a DataLoader
    # would add a future per node for nothing, as every id is known at once.
    documents = _selects_documents(info, "nodes")
    run_rows, artifact_rows = await asyncio.gather(
        runs.runs_by_ids(
            ctx.db, ctx.viewer, [i for k, i in found.nodes if k == graph.RUN], documents=documents
        ),
        artifacts.artifacts_by_ids(
            ctx.db, ctx.viewer, [i for k, i in found.nodes if k == graph.ARTIFACT],
            documents=documents,
        ),
    )  # fmt: skip
    built: dict[tuple[str, int], Any] = {}
    for key in found.nodes:
        row = run_rows.get(key[1]) if key[0] == graph.RUN else artifact_rows.get(key[1])
        if row is not None:  # it may have vanished (deleted, made private) since the walk
            built[key] = Run.of(row) if key[0] == graph.RUN else Artifact.of(row)
    ids = {key: node.row.global_id for key, node in built.items()}
    logged, used = LineageEdgeKind.LOGGED, LineageEdgeKind.USED
    edges = [
        LineageEdge(
            source=ids[source], target=ids[target], kind=logged if kind == "LOGGED" else used
        )
        for source, target, kind in found.edges
        if source in ids and target in ids
    ]
    return LineageGraph(nodes=list(built.values()), edges=edges, truncated=found.truncated)
