"""Statements of server/domain/retention.py, and the TTL expiry of server/worker.py."""

from __future__ import annotations

from server.db.statements import Statement

# the expiry follows the TTL from creation, and only a committed version has one running
SET_TTL = Statement(
    """UPDATE artifact_versions SET ttl_seconds = :ttl_seconds::integer,
              expires_at = CASE WHEN state = 'COMMITTED'
                                THEN created_at + :ttl_seconds::integer * interval '1 second' END
        WHERE id = :id"""
)

LOCK_VERSION = Statement("SELECT state FROM artifact_versions WHERE id = :id FOR UPDATE")

USER_ALIASES = Statement(
    """SELECT array_agg(alias ORDER BY created_at, alias) FROM artifact_aliases
        WHERE version_id = :version_id"""
)

# A tombstone keeps its name, index, digest and edges; the rest goes.
REMOVE_ALIASES = Statement(
    "DELETE FROM artifact_aliases WHERE version_id = ANY(:version_ids::bigint[])"
)
REMOVE_ENTRIES = Statement(
    "DELETE FROM manifest_entries WHERE version_id = ANY(:version_ids::bigint[])"
)
TOMBSTONE = Statement(
    """UPDATE artifact_versions
          SET state = 'DELETED', deleted_at = clock_timestamp(), metadata = '{}',
              description = NULL, size = 0, file_count = 0, ttl_seconds = NULL,
              expires_at = NULL
        WHERE id = ANY(:version_ids::bigint[])"""
)

# A batch of expired versions, claimed by the replica whose worker locks them first.
CLAIM_EXPIRED = Statement(
    """SELECT id FROM artifact_versions
        WHERE state = 'COMMITTED' AND expires_at <= clock_timestamp()
        ORDER BY expires_at LIMIT :batch FOR UPDATE SKIP LOCKED"""
)
