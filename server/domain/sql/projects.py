"""Statements of server/domain/projects.py."""

from __future__ import annotations

from functools import cache

from server.db.statements import Statement
from server.domain.access import READABLE
from server.domain.sql.pagination import by_parent, keyset_after

SELECT_PROJECT = """SELECT p.id, p.entity_id, p.visibility, e.name AS entity_name, p.name,
                           p.created_at
                      FROM projects p JOIN entities e ON e.id = p.entity_id"""

PROJECT_BY_NAME = Statement(f"{SELECT_PROJECT} WHERE e.name = :entity AND p.name = :name")

PROJECT_IN_ENTITY = Statement(f"{SELECT_PROJECT} WHERE p.entity_id = :entity_id AND p.name = :name")

PROJECT_BY_ID = Statement(f"{SELECT_PROJECT} WHERE p.id = :id")

READABLE_PROJECTS_BY_IDS = Statement(
    f"{SELECT_PROJECT} WHERE p.id = ANY(:ids::bigint[]) AND {READABLE}"
)

# (entity id, name) pairs as two arrays
READABLE_PROJECTS_BY_NAMES = Statement(
    f"""{SELECT_PROJECT}
         WHERE (p.entity_id, p.name) IN (SELECT * FROM unnest(:entity_ids::bigint[], :names::text[]))
           AND {READABLE}"""
)

# no row when the entity has a project of that name already
INSERT = Statement(
    """INSERT INTO projects (entity_id, name, visibility) VALUES (:entity_id, :name, :visibility)
       ON CONFLICT (entity_id, name) DO NOTHING RETURNING id"""
)

SET_VISIBILITY = Statement("UPDATE projects SET visibility = :visibility WHERE id = :id")

READABLE_COUNTS_BY_ENTITY = Statement(
    f"""SELECT p.entity_id, count(*) AS n FROM projects p
         WHERE p.entity_id = ANY(:entity_ids::bigint[]) AND {READABLE}
         GROUP BY 1"""
)


@cache
def page_by_entity(after: bool) -> Statement:
    """Readable projects of each entity (the parents), by name."""
    return by_parent(
        f"{SELECT_PROJECT} WHERE p.entity_id = k.parent AND {READABLE}",
        "s.name",
        keyset_after([("s.name", "ASC")]) if after else None,
    )


# every readable project, optionally only those whose name holds :search (ignoring case)
_SEARCH = "strpos(lower(p.name), lower(:search)) > 0"


@cache
def readable_page(search: bool, after: bool) -> Statement:
    """A page of every project the viewer may read, by entity name then name."""
    where = [READABLE]
    if search:
        where.append(_SEARCH)
    if after:
        where.append(keyset_after([("e.name", "ASC"), ("p.name", "ASC")]))
    return Statement(
        f"{SELECT_PROJECT} WHERE {' AND '.join(where)} ORDER BY e.name, p.name LIMIT :page_size"
    )


@cache
def readable_count(search: bool) -> Statement:
    where = f"{READABLE} AND {_SEARCH}" if search else READABLE
    return Statement(f"SELECT count(*) FROM projects p WHERE {where}")
