"""Statements of server/domain/manifests.py."""

from __future__ import annotations

from functools import cache

from server.db.statements import Statement
from server.domain.sql.pagination import by_parent, keyset_after


def _path_range(bounded: bool) -> str:
    """``path`` from ``:path_from`` on, and before ``:path_until`` when ``bounded``: the
    paths with a prefix as a range that the (version_id, path) primary key scans."""
    return "path >= :path_from" + (" AND path < :path_until" if bounded else "")


@cache
def entry_page(bounded: bool, after: bool) -> Statement:
    """Entries of each version (the parents) in path order, within the path range."""
    return by_parent(
        f"""SELECT path, digest, size, ref, extra FROM manifest_entries
             WHERE version_id = k.parent AND {_path_range(bounded)}""",
        "s.path",
        keyset_after([("s.path", "ASC")]) if after else None,
    )


@cache
def entry_counts(bounded: bool) -> Statement:
    return Statement(
        f"""SELECT version_id, count(*) AS n FROM manifest_entries
             WHERE version_id = ANY(:version_ids::bigint[]) AND {_path_range(bounded)}
             GROUP BY 1"""
    )
