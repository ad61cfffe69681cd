"""Statements of server/domain/lineage.py: one hop next to runs or artifact versions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from server.db.statements import Statement
from server.domain.access import READABLE
from server.domain.sql.artifacts import (
    ARTIFACT_COLUMNS,
    ARTIFACT_COLUMNS_WITHOUT_DOCUMENTS,
    ARTIFACT_FROM,
)
from server.domain.sql.runs import RUN_COLUMNS, RUN_COLUMNS_WITHOUT_DOCUMENTS, RUN_FROM


@dataclass(frozen=True)
class _Hop:
    table: str  # the edges, as e
    parent_col: str
    child_col: str
    reach_project: str  # the join to the child's project (p), whose id each edge holds
    typed: bool  # the children are artifact versions, which a type filters
    # the child's row: its columns (with, without JSON documents), FROM clause, and its
    # table's alias there
    child_columns: tuple[str, str]
    child_from: str
    child_alias: str


_TO_RUN = "JOIN projects p ON p.id = e.run_project_id"
_TO_ARTIFACT = "JOIN projects p ON p.id = e.version_project_id"
_RUNS = ((RUN_COLUMNS, RUN_COLUMNS_WITHOUT_DOCUMENTS), RUN_FROM, "r")
_ARTIFACTS = ((ARTIFACT_COLUMNS, ARTIFACT_COLUMNS_WITHOUT_DOCUMENTS), ARTIFACT_FROM, "v")

HOPS = {
    "used_by": _Hop("artifact_uses", "version_id", "run_id", _TO_RUN, False, *_RUNS),
    "logged_artifacts": _Hop(
        "artifact_logs", "run_id", "version_id", _TO_ARTIFACT, True, *_ARTIFACTS
    ),
    "used_artifacts": _Hop(
        "artifact_uses", "run_id", "version_id", _TO_ARTIFACT, True, *_ARTIFACTS
    ),
}

# the children's collection (c), for their type
_COLLECTION = """JOIN artifact_versions v ON v.id = e.version_id
                 JOIN artifact_collections c ON c.id = v.collection_id"""


def _joins_and_filter(hop: _Hop, by_type: bool) -> tuple[str, str]:
    if not by_type:
        return hop.reach_project, ""
    if not hop.typed:
        raise ValueError(f"{hop.table} leads to runs, which have no type")
    return f"{hop.reach_project} {_COLLECTION}", "AND c.type = :type"


@cache
def hop_page(hop_name: str, by_type: bool, documents: bool) -> Statement:
    """A page of each parent's readable children (of ``:type`` when ``by_type``), by
    edge order after ``:after_seq``: a LATERAL index walk per parent that stops at
    ``:page_size``, then the children's rows, in one statement. Rows carry
    ``hop_parent`` and ``hop_seq`` besides the child's columns."""
    hop = HOPS[hop_name]
    joins, type_filter = _joins_and_filter(hop, by_type)
    return Statement(
        f"""WITH page AS (
            SELECT k.parent, x.seq, x.child FROM unnest(:parents::bigint[]) AS k(parent)
            CROSS JOIN LATERAL (
                SELECT e.seq, e.{hop.child_col} AS child
                  FROM {hop.table} e {joins}
                 WHERE e.{hop.parent_col} = k.parent AND e.seq > :after_seq {type_filter}
                   AND {READABLE}
                 ORDER BY e.seq LIMIT :page_size) x)
            SELECT {hop.child_columns[0 if documents else 1]},
                   page.parent AS hop_parent, page.seq AS hop_seq
              {hop.child_from} JOIN page ON page.child = {hop.child_alias}.id
             ORDER BY page.parent, page.seq"""
    )


@cache
def hop_counts(hop_name: str, by_type: bool) -> Statement:
    """How many readable children (of ``:type`` when ``by_type``) each parent has."""
    hop = HOPS[hop_name]
    joins, type_filter = _joins_and_filter(hop, by_type)
    return Statement(
        f"""SELECT e.{hop.parent_col} AS parent, count(*) AS n
              FROM {hop.table} e {joins}
             WHERE e.{hop.parent_col} = ANY(:parents::bigint[]) {type_filter}
               AND {READABLE}
             GROUP BY 1"""
    )
