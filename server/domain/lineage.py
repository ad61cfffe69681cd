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
from operator import itemgetter
from typing import Any, NamedTuple

from server.db.database import Queryable
from server.db.rows import RowBuilder
from server.domain import access, accounts, artifacts, runs
from server.domain.access import Viewer
from server.domain.sql import lineage as sql


class HopKey(NamedTuple):
    """One parent's page request; equal (first, after, type) requests share a query.
    A tuple, not a frozen dataclass: a page of 50 runs makes and hashes 50 of these
    (and 50 pages), and a tuple's construction and hash run in C."""

    parent: int
    first: int
    after: int | None = None
    type: str | None = None
    documents: bool = True  # the children's JSON documents too (see runs_by_ids)


class HopPage(NamedTuple):
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
    found: dict[HopKey, HopPage] = {}
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
        # every row built in one call, then split by parent (a RowBuilder call per
        # parent hashed the record's column names each time); records read by position
        by_parent: dict[int, tuple[list[Any], list[int]]] = {}
        if rows:
            columns = list(rows[0].keys())
            at_parent, at_seq = columns.index("hop_parent"), columns.index("hop_seq")
            for r, row in zip(rows, hop.rows.all(rows), strict=True):
                children, seqs = by_parent.setdefault(r[at_parent], ([], []))
                children.append(row)
                seqs.append(r[at_seq])
        for parent in parents:
            children, seqs = by_parent.get(parent, ([], []))
            found[HopKey(parent, first, after, type_, documents)] = HopPage(
                children[:first], seqs[:first], len(children) > first
            )
    return [found[k] for k in keys]


# the consumers and their outputs in sql.artifact_with_hops, by their prefixed columns
_USED_BY_ROW = RowBuilder(runs.RunRow, [f"u_{name}" for name in runs.RUN_ROW.fields])
_OUTPUT_ROW = RowBuilder(
    artifacts.ArtifactRow, [f"l_{name}" for name in artifacts.ARTIFACT_ROW.fields]
)


@dataclass(frozen=True)
class OutputsWanted:
    """The first loggedArtifacts page of each consumer (no ``after``)."""

    first: int
    type: str | None
    documents: bool


@dataclass(frozen=True)
class ArtifactHops:
    """A version found by path, its readable producer (when asked for), the first page
    of its consumers, and each of those consumers' first page of outputs (when asked
    for): each page what hop_pages gives for the same HopKey."""

    artifact: artifacts.ArtifactRow | None
    producer: runs.RunRow | None
    used_by: HopPage
    outputs: dict[int, HopPage]
    # with a key_hash: the key's holder, None for a wrong or revoked key
    viewer: Viewer | None = None


async def find_artifact_with_hops(
    db: Queryable,
    viewer: Viewer | None,
    path: str,
    *,
    producer: bool,
    used_by_first: int,
    used_by_documents: bool,
    outputs: OutputsWanted | None,
    key_hash: bytes | None = None,
) -> ArtifactHops:
    """artifacts.find_artifact(_and_producer) and the first pages of the version's usedBy
    and of its consumers' loggedArtifacts, in one round trip instead of three.

    With ``key_hash`` (and no viewer), for the holder of that API key, looked up in the
    same statement (sql.as_key_holder): the answer's ``viewer`` is the holder, None for a
    wrong or revoked key (and then nothing else is found). ``path`` must then name its
    entity (nothing defaults to the viewer's before the viewer is known)."""
    empty = ArtifactHops(None, None, HopPage([], [], False), {})
    named = artifacts.path_params(viewer, path)
    if named is None:
        if key_hash is None:
            return empty
        holder = await accounts.viewer_by_key_hash_or_none(db, key_hash)
        return ArtifactHops(None, None, empty.used_by, {}, holder)
    kind, params = named
    if key_hash is not None:
        del params["member_entity_ids"]  # the key's holder's, read in the statement
        params["key_hash"] = key_hash
    logged = None
    if outputs is not None:
        by_type = outputs.type is not None
        logged = (by_type, outputs.documents)
        params["logged_size"] = outputs.first + 1
        params["used_by_first"] = used_by_first
        if by_type:
            params["type"] = outputs.type
    records = await db.fetch(
        sql.artifact_with_hops(kind, producer, used_by_documents, logged, key_hash is not None),
        used_by_size=used_by_first + 1,
        **params,
    )
    holder = None
    if key_hash is not None:
        holder, records = accounts.split_key_holder(records)
        if holder is None:
            return empty
        empty = ArtifactHops(None, None, empty.used_by, {}, holder)
    if not records:
        return empty
    # by position, and each kind's rows built in one call: a name lookup per record, or
    # a RowBuilder call per consumer, cost more than the rest of this together
    columns = list(records[0].keys())
    at_id, at_seq = columns.index("id"), columns.index("u_seq")
    version = None
    consumers: list[Any] = []
    output_records: list[Any] = []
    for r in records:
        if r[at_id] is not None:
            version = r
        elif r[at_seq] is not None:
            consumers.append(r)
        else:
            output_records.append(r)
    if version is None:
        return empty
    found = artifacts.ARTIFACT_ROW.one(version)
    producer_found = None
    if producer and version["producer_id"] is not None:
        producer_found = artifacts.PRODUCER_ROW.one(version)
    consumers.sort(key=itemgetter(at_seq))  # the statement leaves the order to us
    page = consumers[:used_by_first]
    used_by = HopPage(
        _USED_BY_ROW.all(page), [r[at_seq] for r in page], len(consumers) > used_by_first
    )
    pages: dict[int, HopPage] = {}
    if outputs is not None:
        at_parent, at_output_seq = columns.index("l_parent"), columns.index("l_seq")
        output_records.sort(key=itemgetter(at_parent, at_output_seq))
        by_consumer: dict[int, tuple[list[Any], list[int]]] = {}
        for r, row in zip(output_records, _OUTPUT_ROW.all(output_records), strict=True):
            rows, seqs = by_consumer.setdefault(r[at_parent], ([], []))
            rows.append(row)
            seqs.append(r[at_output_seq])
        size = outputs.first
        for run in used_by.rows:
            rows, seqs = by_consumer.get(run.id, ([], []))
            pages[run.id] = HopPage(rows[:size], seqs[:size], len(rows) > size)
    return ArtifactHops(found, producer_found, used_by, pages, holder)


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
