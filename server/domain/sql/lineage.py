"""Statements of server/domain/lineage.py: one hop next to runs or artifact versions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from server.db.statements import Statement
from server.domain.access import READABLE
from server.domain.sql.accounts import as_key_holder
from server.domain.sql.artifacts import (
    ARTIFACT_COLUMNS,
    ARTIFACT_COLUMNS_WITHOUT_DOCUMENTS,
    ARTIFACT_FROM,
    artifact_by_path_source,
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

# the children's version rows (v), for their type (their collection's, migration 0012)
_VERSION = "JOIN artifact_versions v ON v.id = e.version_id"


def _joins_and_filter(hop: _Hop, by_type: bool) -> tuple[str, str]:
    if not by_type:
        return hop.reach_project, ""
    if not hop.typed:
        raise ValueError(f"{hop.table} leads to runs, which have no type")
    return f"{hop.reach_project} {_VERSION}", "AND v.type = :type"


def _walk(hop: _Hop, by_type: bool, parent: str, after_seq: str, page_size: str) -> str:
    """The LATERAL body of a page: one parent's readable (seq, child) edges after
    ``after_seq``, at most ``page_size`` (the parent, bound and size are SQL expressions)."""
    joins, type_filter = _joins_and_filter(hop, by_type)
    return f"""SELECT e.seq, e.{hop.child_col} AS child
                 FROM {hop.table} e {joins}
                WHERE e.{hop.parent_col} = {parent} AND e.seq > {after_seq} {type_filter}
                  AND {READABLE}
                ORDER BY e.seq LIMIT {page_size}"""


@cache
def hop_page(hop_name: str, by_type: bool, documents: bool) -> Statement:
    """A page of each parent's readable children (of ``:type`` when ``by_type``), by
    edge order after ``:after_seq``: a LATERAL index walk per parent that stops at
    ``:page_size``, then the children's rows, in one statement. Rows carry
    ``hop_parent`` and ``hop_seq`` besides the child's columns."""
    hop = HOPS[hop_name]
    walk = _walk(hop, by_type, "k.parent", ":after_seq", ":page_size")
    return Statement(
        f"""WITH page AS (
            SELECT k.parent, x.seq, x.child FROM unnest(:parents::bigint[]) AS k(parent)
            CROSS JOIN LATERAL ({walk}) x)
            SELECT {hop.child_columns[0 if documents else 1]},
                   page.parent AS hop_parent, page.seq AS hop_seq
              {hop.child_from} JOIN page ON page.child = {hop.child_alias}.id
             ORDER BY page.parent, page.seq"""
    )


_AS = re.compile(r"\s+AS\s+(\w+)$", re.IGNORECASE)


def prefixed(columns: str, prefix: str) -> str:
    """A column list (``t.name`` or ``expression AS name`` items, no commas inside an
    item) with every output name prefixed: ``t.name AS <prefix>name``."""
    items = []
    for item in columns.split(","):
        item = " ".join(item.split())
        named = _AS.search(item)
        expression, name = (
            (item[: named.start()], named[1]) if named else (item, item.split(".")[-1])
        )
        if not name.isidentifier() or "(" in expression:
            raise ValueError(f"not a plain column item: {item!r}")
        items.append(f"{expression} AS {prefix}{name}")
    return ", ".join(items)


@cache
def artifact_with_hops(
    spec_kind: str,
    producer: bool,
    used_by_documents: bool,
    logged: tuple[bool, bool] | None,
    key_holder: bool = False,
) -> Statement:
    """artifact(path) (readable_artifact_by_path) and, in the same statement, the first
    page of its usedBy (``:used_by_size`` rows, as hop_page would give them) and, with
    ``logged`` (by type, documents), the first loggedArtifacts page (``:logged_size``
    rows, of ``:type`` when by type) of each of its first ``:used_by_first`` consumers.

    The parts share no columns, so they come as the rows of a FULL JOIN ON false: a row
    holds one part's columns, the others' are NULL. The version's (with its producer's
    "producer_" columns) in the row whose ``id`` is set, the consumers' prefixed "u_"
    (``u_seq`` set), their outputs' prefixed "l_" (``l_seq`` and ``l_parent`` set), in
    no particular order. With ``key_holder``, run as the holder of the API key
    ``:key_hash`` (accounts' as_key_holder) instead of for ``:member_entity_ids``."""
    used_by, outputs = HOPS["used_by"], HOPS["logged_artifacts"]
    parts = [
        f"a AS ({artifact_by_path_source(spec_kind, producer)})",
        f"""up AS (SELECT x.seq, x.child FROM a CROSS JOIN LATERAL
                   ({_walk(used_by, False, "a.id", "0", ":used_by_size")}) x)""",
        f"""u AS (SELECT {prefixed(used_by.child_columns[0 if used_by_documents else 1], "u_")},
                         up.seq AS u_seq
                    {used_by.child_from} JOIN up ON up.child = {used_by.child_alias}.id)""",
    ]
    select = "SELECT * FROM a FULL JOIN u ON false"
    if logged is not None:
        by_type, documents = logged
        walk = _walk(outputs, by_type, "k.parent", "0", ":logged_size")
        parts += [
            f"""lp AS (SELECT k.parent, x.seq, x.child
                         FROM (SELECT DISTINCT s.child AS parent
                                 FROM (SELECT child FROM up ORDER BY seq LIMIT :used_by_first) s) k
                        CROSS JOIN LATERAL ({walk}) x)""",
            f"""l AS (SELECT {prefixed(outputs.child_columns[0 if documents else 1], "l_")},
                             lp.parent AS l_parent, lp.seq AS l_seq
                        {outputs.child_from} JOIN lp ON lp.child = {outputs.child_alias}.id)""",
        ]
        select += " FULL JOIN l ON false"
    # no ORDER BY: sorting the padded rows cost Postgres more than sorting each part
    # costs Python (Q1+outputs popular: 1.06 -> 0.84 ms); the caller orders them
    source = f"WITH {', '.join(parts)}\n{select}"
    return Statement(as_key_holder(source) if key_holder else source)


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
