"""One-hop lineage: the edges next to a run or an artifact, batched for many parents.

Run -LOGGED-> Artifact (artifact_logs) and Artifact -USED-> Run (artifact_uses). Every
function takes many parents at once (the DataLoaders call them), so a list of 100
artifacts each asking for ``usedBy(first: 10)`` is one query, not 100: a LATERAL join
walks the (parent, seq) index once per parent and stops at its page size. Nodes the
viewer may not read are filtered inside the query, so pages and counts never see them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from server.db.database import Queryable
from server.domain import access, artifacts, runs
from server.domain.access import Viewer


@dataclass(frozen=True)
class HopKey:
    """One parent's page request; equal (first, after, type) requests share a query."""

    parent: int
    first: int
    after: int | None = None
    type: str | None = None
    documents: bool = True  # the children's JSON documents too (see runs_by_ids)


@dataclass(frozen=True)
class HopPage:
    rows: list[Any]  # RunRow or ArtifactRow: the page's children, read in the same query
    seqs: list[int]
    has_next: bool


@dataclass(frozen=True)
class Hop:
    table: str
    parent_col: str
    child_col: str
    # the join that reaches the child's project (alias p), copied onto each edge
    joins: str
    typed: bool  # children are artifacts, which a type argument filters
    # the child's row: columns (with, without JSON documents), FROM clause, its table's
    # alias there, and the row maker
    child_columns: tuple[str, str]
    child_from: str
    child_alias: str
    row: Callable[[Any], Any]

    def joins_for(self, type_: str | None) -> str:
        """The joins, plus the child's collection (alias c) when filtering by type."""
        if type_ is None:
            return self.joins
        return f"""{self.joins} JOIN artifact_versions v ON v.id = e.version_id
                   JOIN artifact_collections c ON c.id = v.collection_id"""


_TO_RUN = "JOIN projects p ON p.id = e.run_project_id"
_TO_ARTIFACT = "JOIN projects p ON p.id = e.version_project_id"

_RUN = ((runs.RUN_COLUMNS, runs.RUN_COLUMNS_WITHOUT_DOCUMENTS), runs.RUN_FROM, "r", runs.run_row)
_ARTIFACT = (
    (artifacts.ARTIFACT_COLUMNS, artifacts.ARTIFACT_COLUMNS_WITHOUT_DOCUMENTS),
    artifacts.ARTIFACT_FROM,
    "v",
    artifacts.artifact_row,
)
USED_BY = Hop("artifact_uses", "version_id", "run_id", _TO_RUN, False, *_RUN)
LOGGED_ARTIFACTS = Hop("artifact_logs", "run_id", "version_id", _TO_ARTIFACT, True, *_ARTIFACT)
USED_ARTIFACTS = Hop("artifact_uses", "run_id", "version_id", _TO_ARTIFACT, True, *_ARTIFACT)


async def hop_pages(
    db: Queryable, viewer: Viewer | None, hop: Hop, keys: Sequence[HopKey]
) -> list[HopPage]:
    groups: dict[tuple[int, int | None, str | None, bool], list[int]] = defaultdict(list)
    for key in keys:
        groups[(key.first, key.after, key.type, key.documents)].append(key.parent)
    found: dict[tuple[int, int, int | None, str | None, bool], HopPage] = {}
    members = access.member_entity_ids(viewer)
    for (first, after, type_, documents), parents in groups.items():
        args: list[object] = [sorted(set(parents)), members, after or 0, first + 1]
        type_sql = ""
        if hop.typed and type_ is not None:
            args.append(type_)
            type_sql = "AND c.type = $5"
        # the page of each parent (LATERAL: one index walk each, stopping at its size),
        # then the children's rows in the same statement
        rows = await db.fetch(
            f"""WITH page AS (
                SELECT k.parent, x.seq, x.child FROM unnest($1::bigint[]) AS k(parent)
                CROSS JOIN LATERAL (
                    SELECT e.seq, e.{hop.child_col} AS child
                      FROM {hop.table} e {hop.joins_for(type_)}
                     WHERE e.{hop.parent_col} = k.parent AND e.seq > $3 {type_sql}
                       AND {access.readable_sql("p", 2)}
                     ORDER BY e.seq LIMIT $4) x)
                SELECT {hop.child_columns[0 if documents else 1]},
                       page.parent AS hop_parent, page.seq AS hop_seq
                  {hop.child_from} JOIN page ON page.child = {hop.child_alias}.id
                 ORDER BY page.parent, page.seq""",
            *args,
        )
        by_parent: dict[int, list[Any]] = defaultdict(list)
        for r in rows:
            by_parent[r["hop_parent"]].append(r)
        for parent in parents:
            edges = by_parent.get(parent, [])
            page = edges[:first]
            found[(parent, first, after, type_, documents)] = HopPage(
                [hop.row(r) for r in page], [r["hop_seq"] for r in page], len(edges) > first
            )
    return [found[(k.parent, k.first, k.after, k.type, k.documents)] for k in keys]


async def hop_counts(
    db: Queryable, viewer: Viewer | None, hop: Hop, keys: Sequence[tuple[int, str | None]]
) -> list[int]:
    """How many readable neighbours each (parent, type) has."""
    members = access.member_entity_ids(viewer)
    by_type: dict[str | None, list[int]] = defaultdict(list)
    for parent, type_ in keys:
        by_type[type_].append(parent)
    counts: dict[tuple[int, str | None], int] = {}
    for type_, parents in by_type.items():
        args: list[object] = [sorted(set(parents)), members]
        type_sql = ""
        if hop.typed and type_ is not None:
            args.append(type_)
            type_sql = "AND c.type = $3"
        rows = await db.fetch(
            f"""SELECT e.{hop.parent_col} AS parent, count(*) AS n
                  FROM {hop.table} e {hop.joins_for(type_)}
                 WHERE e.{hop.parent_col} = ANY($1::bigint[]) {type_sql}
                   AND {access.readable_sql("p", 2)}
                 GROUP BY 1""",
            *args,
        )
        for r in rows:
            counts[(r["parent"], type_)] = r["n"]
    return [counts.get(k, 0) for k in keys]
