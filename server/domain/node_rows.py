"""The rows of a lineage walk's nodes, and their global ids and edges.

``node_rows`` reads the readable runs or artifact versions of a walk's nodes (only the
fields the query selects) into RunRow / ArtifactRow; ``global_ids_of`` and
``global_edges_of`` turn a walk's nodes and edges into the answer's global ids. The
walk itself and the Graph it makes are in graph.py; a version found by path with one
walk from it in artifact_lineage.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from itertools import repeat
from typing import Any

from asyncpg import Record

from server.db.database import Queryable
from server.domain import access, artifacts, runs
from server.domain.access import Viewer
from server.domain.graph import RUN, Graph
from server.domain.ids import encode_ids
from server.domain.sql import graph as sql

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
    return rows_of_arrays(record, kind, read, "", (global_ids or {}).get(kind))


def global_ids_of(kind: str, ids: Sequence[int]) -> dict[int, str]:
    """The global ids of the nodes of ``kind`` with row ids ``ids``, by row id."""
    return dict(zip(ids, encode_ids(kind, ids), strict=True))


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


# rows_of_arrays gives a row its global id by position, after the fields RowBuilder names
for _made, _builder in (
    (runs.RunRow, runs.RUN_ROW),
    (artifacts.ArtifactRow, artifacts.ARTIFACT_ROW),
):
    if [f.name for f in fields(_made) if f.init] != [*_builder.fields, "_global_id"]:
        raise RuntimeError(f"{_made.__name__}'s fields are not its RowBuilder's and _global_id")


def rows_of_arrays(
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
