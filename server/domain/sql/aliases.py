"""Statements of server/domain/aliases.py; the alias move that logs and commits embed."""

from __future__ import annotations

from server.db.statements import Statement


def move_aliases(version: str = ":version_id") -> str:
    """Point each alias of ``:aliases`` (a text[]) in collection ``:collection_id`` at
    ``version`` (an SQL expression), taking it from whichever version of the collection
    had it: an upsert on the case-insensitive unique index, so the alias keeps one row,
    now spelt as asked and dated now. A fragment, so that other statements embed it as a
    CTE. The aliases must differ regardless of case (``aliases.unique_aliases``), or the
    upsert would meet a row twice."""
    return f"""INSERT INTO artifact_aliases (collection_id, alias, version_id)
               SELECT :collection_id, a, {version} FROM unnest(:aliases::text[]) a
               ON CONFLICT (collection_id, lower(alias)) DO UPDATE
                  SET alias = EXCLUDED.alias, version_id = EXCLUDED.version_id,
                      created_at = EXCLUDED.created_at"""


MOVE_ALIASES = Statement(move_aliases())

REMOVE_ALIASES = Statement(
    """DELETE FROM artifact_aliases
        WHERE version_id = :version_id
          AND lower(alias) = ANY(SELECT lower(a) FROM unnest(:aliases::text[]) a)"""
)

# Each version's user aliases in the order they were set, and whether it is the newest
# committed version of its collection.
ALIASES_BY_VERSIONS = Statement(
    """SELECT v.id,
              coalesce((SELECT array_agg(a.alias ORDER BY a.created_at, a.alias)
                          FROM artifact_aliases a WHERE a.version_id = v.id), '{}') AS aliases,
              coalesce(v.state = 'COMMITTED' AND v.version_index = (
                   SELECT max(l.version_index) FROM artifact_versions l
                    WHERE l.collection_id = v.collection_id AND l.state = 'COMMITTED'),
                false) AS is_latest
         FROM artifact_versions v WHERE v.id = ANY(:version_ids::bigint[])"""
)
