"""Statements of server/domain/sweeps.py."""

from __future__ import annotations

from functools import cache

from server.db.statements import Statement
from server.domain.access import READABLE
from server.domain.sql.pagination import by_parent, keyset_after

SELECT_SWEEP = """SELECT s.id, s.project_id, e.name AS entity_name, p.name AS project_name,
                         s.sweep_id, s.name, s.config, s.created_at
                    FROM sweeps s JOIN projects p ON p.id = s.project_id
                    JOIN entities e ON e.id = p.entity_id"""

SWEEP_BY_ID = Statement(f"{SELECT_SWEEP} WHERE s.id = :id")

READABLE_SWEEPS_BY_IDS = Statement(
    f"{SELECT_SWEEP} WHERE s.id = ANY(:ids::bigint[]) AND {READABLE}"
)

READABLE_SWEEP_BY_PATH = Statement(
    f"""{SELECT_SWEEP} WHERE e.name = :entity AND p.name = :project AND s.sweep_id = :sweep_id
          AND {READABLE}"""
)

# No row when the project has a sweep of that id already.
INSERT = Statement(
    """INSERT INTO sweeps (project_id, sweep_id, name, config)
       VALUES (:project_id, :sweep_id, :name, coalesce(:config::jsonb, '{}'))
       ON CONFLICT (project_id, sweep_id) DO NOTHING RETURNING id"""
)

_ORDER = [("s.created_at", "ASC"), ("s.id", "ASC")]


@cache
def page_by_project(after: bool) -> Statement:
    """Sweeps of each project (the parents), oldest first."""
    return by_parent(
        f"{SELECT_SWEEP} WHERE s.project_id = k.parent",
        "s.created_at, s.id",
        keyset_after(_ORDER) if after else None,
    )


COUNTS_BY_PROJECT = Statement(
    """SELECT project_id, count(*) AS n FROM sweeps
        WHERE project_id = ANY(:project_ids::bigint[]) GROUP BY 1"""
)
