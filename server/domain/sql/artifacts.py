"""Statements of server/domain/artifacts.py; the version columns lineage reuses."""

from __future__ import annotations

from functools import cache

from server.db.statements import Statement
from server.domain.access import READABLE
from server.domain.sql.accounts import as_key_holder
from server.domain.sql.pagination import by_parent, keyset_after

# What server.domain.artifacts.ArtifactRow holds, with the project's access columns, in
# its field order: rows are built by name either way, but from one slice when the order
# matches (server/db/rows.py), and a big lineage answer builds 5,000 of them.
# Aliases are not here: they take two subqueries a row (half this query's time), so they
# load only when asked for (sql/aliases.py ALIASES_BY_VERSIONS).
_VERSION_HEAD = """p.entity_id, p.visibility, v.id, v.collection_id, v.project_id,
       e.name AS entity_name, p.name AS project_name, v.name, v.type, v.version_index,
       v.state, v.digest, v.description"""
_VERSION_TAIL = """v.size, v.file_count, v.ttl_seconds, v.expires_at, v.created_at,
       v.logged_by"""
ARTIFACT_COLUMNS = f"{_VERSION_HEAD}, v.metadata, {_VERSION_TAIL}"
# metadata (a JSON document, no size bound) left out: see runs.RUN_COLUMNS_WITHOUT_DOCUMENTS
ARTIFACT_COLUMNS_WITHOUT_DOCUMENTS = f"{_VERSION_HEAD}, NULL::jsonb AS metadata, {_VERSION_TAIL}"
# the collection's name and type are the version's own columns (migration 0012)
ARTIFACT_FROM = """FROM artifact_versions v
  JOIN projects p ON p.id = v.project_id
  JOIN entities e ON e.id = p.entity_id"""
SELECT_ARTIFACT = f"SELECT {ARTIFACT_COLUMNS}\n  {ARTIFACT_FROM}"

SELECT_COLLECTION = """
SELECT c.id, c.project_id, c.name, c.type, c.description, c.created_at,
       p.name AS project_name, e.name AS entity_name, p.entity_id, p.visibility
  FROM artifact_collections c
  JOIN projects p ON p.id = c.project_id
  JOIN entities e ON e.id = p.entity_id"""

# see server.domain.artifacts.lock_collection
LOCK_COLLECTION = Statement(
    "SELECT 1 FROM artifact_collections WHERE id = :collection_id FOR NO KEY UPDATE"
)

ARTIFACT_BY_ID = Statement(f"{SELECT_ARTIFACT} WHERE v.id = :id")


@cache
def readable_artifacts_by_ids(documents: bool) -> Statement:
    columns = ARTIFACT_COLUMNS if documents else ARTIFACT_COLUMNS_WITHOUT_DOCUMENTS
    return Statement(
        f"SELECT {columns} {ARTIFACT_FROM} WHERE v.id = ANY(:ids::bigint[]) AND {READABLE}"
    )


READABLE_COLLECTIONS_BY_IDS = Statement(
    f"{SELECT_COLLECTION} WHERE c.id = ANY(:ids::bigint[]) AND {READABLE}"
)

# (project id, name) pairs as two arrays, in projects already checked readable
COLLECTIONS_BY_NAMES = Statement(
    f"""{SELECT_COLLECTION}
         WHERE (c.project_id, c.name) IN (SELECT * FROM unnest(:project_ids::bigint[], :names::text[]))"""
)

# The version a spec names in collection c (see artifacts.parse_spec): the newest
# committed one, the one of index :version_index, or the one holding :alias.
_VERSION_NAMED = {
    "latest": """SELECT l.id FROM artifact_versions l
                  WHERE l.collection_id = c.id AND l.state = 'COMMITTED'
                  ORDER BY l.version_index DESC LIMIT 1""",
    "index": """SELECT l.id FROM artifact_versions l
                 WHERE l.collection_id = c.id AND l.version_index = :version_index""",
    "alias": """SELECT a.version_id FROM artifact_aliases a
                 WHERE a.collection_id = c.id AND lower(a.alias) = lower(:alias)""",
}


# The run that logged a version, if the viewer may read it, as columns "producer_<RunRow
# field>" beside the version's (server.domain.artifacts.PRODUCER_ROW builds it).
_PRODUCER = f"""LEFT JOIN LATERAL (
      SELECT r.id AS producer_id, r.project_id AS producer_project_id,
             e.name AS producer_entity_name, p.name AS producer_project_name,
             r.run_id AS producer_run_id, r.name AS producer_name, r.state AS producer_state,
             r.config AS producer_config, r.summary AS producer_summary,
             r.sweep_id AS producer_sweep_id, r.created_at AS producer_created_at,
             r.updated_at AS producer_updated_at
        FROM runs r JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id
       WHERE r.id = v.logged_by AND {READABLE}) producer ON true"""


def artifact_by_path_source(spec_kind: str, producer: bool) -> str:
    """The text of readable_artifact_by_path (sql/lineage.py builds on it)."""
    select = f"SELECT {ARTIFACT_COLUMNS}, producer.*\n  {ARTIFACT_FROM}\n  {_PRODUCER}"
    return f"""{select if producer else SELECT_ARTIFACT} WHERE v.id = (
               SELECT ({_VERSION_NAMED[spec_kind]}) FROM artifact_collections c
                 JOIN projects p ON p.id = c.project_id JOIN entities e ON e.id = p.entity_id
                WHERE e.name = :entity AND p.name = :project AND c.name = :name
                  AND {READABLE})"""


@cache
def readable_artifact_by_path(spec_kind: str, producer: bool = False) -> Statement:
    """The version of a path "entity/project/name:spec" in one statement: project,
    collection, spec and the row; with ``producer`` its readable producer run too (one
    round trip for what artifact(path) { loggedBy } asks, instead of two)."""
    return Statement(artifact_by_path_source(spec_kind, producer))


@cache
def key_holders_artifact_by_path(spec_kind: str, producer: bool) -> Statement:
    """readable_artifact_by_path as the holder of the API key ``:key_hash``, whose row
    comes with it (accounts' as_key_holder): the key's lookup costs no round trip."""
    return Statement(as_key_holder(artifact_by_path_source(spec_kind, producer)))


# many (collection, spec) pairs, each parsed: kind, index and alias as parallel arrays
VERSIONS_BY_SPECS = Statement(
    f"""WITH wanted AS (
            SELECT * FROM unnest(:collection_ids::bigint[], :specs::text[], :kinds::text[],
                                 :indices::integer[], :aliases::text[])
                          AS w(collection_id, spec, kind, index, alias)),
        found AS (
            SELECT w.collection_id, w.spec, CASE w.kind
                WHEN 'latest' THEN (SELECT l.id FROM artifact_versions l
                                     WHERE l.collection_id = w.collection_id
                                       AND l.state = 'COMMITTED'
                                     ORDER BY l.version_index DESC LIMIT 1)
                WHEN 'index' THEN (SELECT l.id FROM artifact_versions l
                                    WHERE l.collection_id = w.collection_id
                                      AND l.version_index = w.index)
                ELSE (SELECT a.version_id FROM artifact_aliases a
                       WHERE a.collection_id = w.collection_id
                         AND lower(a.alias) = lower(w.alias)) END AS id
              FROM wanted w)
        SELECT {ARTIFACT_COLUMNS}, f.collection_id AS wanted_collection, f.spec AS wanted_spec
          {ARTIFACT_FROM} JOIN found f ON f.id = v.id"""
)


@cache
def collection_page(typed: bool, after: bool) -> Statement:
    """Collections of each project (the parents) by name; only those of ``:type`` when
    ``typed``."""
    where = "c.project_id = k.parent" + (" AND c.type = :type" if typed else "")
    return by_parent(
        f"{SELECT_COLLECTION} WHERE {where}",
        "s.name",
        keyset_after([("s.name", "ASC")]) if after else None,
    )


# (project id, type or NULL for any) pairs as two arrays
COLLECTION_COUNTS = Statement(
    """SELECT w.project_id, w.type, count(c.id) AS n
         FROM unnest(:project_ids::bigint[], :types::text[]) AS w(project_id, type)
         JOIN artifact_collections c
           ON c.project_id = w.project_id AND (w.type IS NULL OR c.type = w.type)
        GROUP BY 1, 2"""
)


@cache
def version_page(after: bool) -> Statement:
    """Committed versions and tombstones of each collection (the parents), newest first."""
    return by_parent(
        f"{SELECT_ARTIFACT} WHERE v.collection_id = k.parent AND v.state <> 'PENDING'",
        "s.version_index DESC",
        keyset_after([("s.version_index", "DESC")]) if after else None,
    )


VERSION_COUNTS = Statement(
    """SELECT collection_id, count(*) AS n FROM artifact_versions
        WHERE collection_id = ANY(:collection_ids::bigint[]) AND state <> 'PENDING'
        GROUP BY 1"""
)

# see server.domain.artifacts.share_lock_version
SHARE_LOCK_VERSION = Statement("SELECT state FROM artifact_versions WHERE id = :id FOR SHARE")
