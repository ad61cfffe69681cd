"""One-hop lineage: the edges next to a run or an artifact, batched for many parents.

Run -LOGGED-> Artifact (artifact_logs) and Artifact -USED-> Run (artifact_uses). Every
function takes many parents at once (the DataLoaders call them), so a list of 100
artifacts each asking for ``usedBy(first: 10)`` is one query, not 100: a LATERAL join
walks the (parent, seq) index once per parent and stops at its page size. Nodes the
viewer may not read are filtered inside the query, so pages and counts never see them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.db.database import Queryable
from server.db.rows import RowBuilder
from server.domain import access, artifacts, runs
from server.domain.access import Viewer
from server.domain.sql import lineage as sql


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
    """One kind of hop: its statements' name in sql/lineage.py and its children's rows."""

    name: str
    rows: RowBuilder[Any]

    @property
    def typed(self) -> bool:
        """Its children are artifacts, which a type argument filters."""
        return sql.HOPS[self.name].typed


USED_BY = Hop("used_by", runs.RUN_ROW)
LOGGED_ARTIFACTS = Hop("logged_artifacts", artifacts.ARTIFACT_ROW)
USED_ARTIFACTS = Hop("used_artifacts", artifacts.ARTIFACT_ROW)


async def hop_pages(
    db: Queryable, viewer: Viewer | None, hop: Hop, keys: Sequence[HopKey]
) -> list[HopPage]:
    groups: dict[tuple[int, int | None, str | None, bool], list[int]] = defaultdict(list)
    for key in keys:
        groups[(key.first, key.after, key.type, key.documents)].append(key.parent)
    found: dict[tuple[int, int, int | None, str | None, bool], HopPage] = {}
    members = access.member_entity_ids(viewer)
    for (first, after, type_, documents), parents in groups.items():
        by_type = hop.typed and type_ is not None
        rows = await db.fetch(
            sql.hop_page(hop.name, by_type, documents),
            parents=sorted(set(parents)),
            member_entity_ids=members,
            after_seq=after or 0,
            page_size=first + 1,
            **({"type": type_} if by_type else {}),
        )
        by_parent: dict[int, list[Any]] = defaultdict(list)
        for r in rows:
            by_parent[r["hop_parent"]].append(r)
        for parent in parents:
            edges = by_parent.get(parent, [])
            page = edges[:first]
            found[(parent, first, after, type_, documents)] = HopPage(
                hop.rows.all(page), [r["hop_seq"] for r in page], len(edges) > first
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
        typed = hop.typed and type_ is not None
        rows = await db.fetch(
            sql.hop_counts(hop.name, typed),
            parents=sorted(set(parents)),
            member_entity_ids=members,
            **({"type": type_} if typed else {}),
        )
        for r in rows:
            counts[(r["parent"], type_)] = r["n"]
    return [counts.get(k, 0) for k in keys]
