"""A version found by path with one lineage walk from it and its nodes' rows.

``find_artifact_with_lineage`` answers the lineage of an artifact named by path (the
peer benchmark's lineage query) in one round trip when the walk is small enough for its
rows to come back with it (sql.ROWS_WITH_WALK), else in two: the big walk's rows of both
kinds read side by side, the nodes' global ids and edges made while Postgres reads them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from asyncpg import Record

from server.db.database import Queryable
from server.domain import accounts, artifacts, runs
from server.domain.access import Viewer
from server.domain.graph import ARTIFACT, RUN, Graph, walk_graph
from server.domain.node_rows import global_edges_of, global_ids_of, node_rows, rows_of_arrays
from server.domain.sql import graph as sql


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
    walked = walk_graph((ARTIFACT, found.id), direction, walk)
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
    return rows_of_arrays(
        record, kind, read, sql.RUN_PREFIX if kind == RUN else sql.ARTIFACT_PREFIX
    )
