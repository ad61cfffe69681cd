"""Statements of server/domain/commits.py."""

from __future__ import annotations

from server.db.statements import Statement
from server.domain.access import READABLE
from server.domain.sql.aliases import move_aliases

# Commit PENDING version :version_id of collection :collection_id with digest :digest,
# logged by run :logged_by, with user aliases :aliases -- or, when the collection has a
# committed version of equal digest, remove it and log and alias that one instead. Runs
# under the collection's row lock, in a statement of its own after the lock was granted,
# so its snapshot sees every commit that came before. The two branches exclude each other
# (EXISTS / NOT EXISTS of one materialised CTE), so the pending row is deleted or
# updated, never both.
COMMIT = Statement(
    f"""
WITH existing AS (
    SELECT id FROM artifact_versions
     WHERE collection_id = :collection_id AND digest = :digest AND state = 'COMMITTED'
     ORDER BY version_index LIMIT 1 FOR SHARE),
merged AS (
    DELETE FROM artifact_versions WHERE id = :version_id AND EXISTS (SELECT FROM existing)),
committed AS (
    UPDATE artifact_versions
       SET state = 'COMMITTED', committed_at = clock_timestamp(), pending_aliases = '{{}}',
           expires_at = created_at + ttl_seconds * interval '1 second',
           version_index = (SELECT coalesce(max(version_index) + 1, 0)
                              FROM artifact_versions WHERE collection_id = :collection_id)
     WHERE id = :version_id AND NOT EXISTS (SELECT FROM existing)),
target AS (SELECT coalesce((SELECT id FROM existing), :version_id) AS id),
logged AS (
    INSERT INTO artifact_logs (run_id, version_id, run_project_id, version_project_id)
    SELECT :logged_by, id, (SELECT project_id FROM runs WHERE id = :logged_by),
           (SELECT project_id FROM artifact_collections WHERE id = :collection_id) FROM target
    ON CONFLICT (run_id, version_id) DO NOTHING),
aliased AS ({move_aliases(version="(SELECT id FROM target)")})
SELECT id, EXISTS (SELECT FROM existing) AS deduplicated FROM target"""
)

# The version's row, locked, with what commit needs: its state, what commit_pending
# needs, and its project for the access check. Only rows the viewer can read are locked
# (READABLE); one it may read but not write is refused right after, its lock released
# with the transaction.
LOCK_VERSION = Statement(
    f"""
SELECT v.state, v.collection_id, v.digest, v.logged_by, v.pending_aliases,
       p.entity_id, p.visibility, c.name
  FROM artifact_versions v
  JOIN artifact_collections c ON c.id = v.collection_id
  JOIN projects p ON p.id = v.project_id
 WHERE v.id = :version_id AND {READABLE}
   FOR UPDATE OF v"""
)

# The contents whose uploads commit must verify, with the first path naming each: those
# the client was asked to upload (verify_upload: even where a blob with the digest is
# stored, since the logger could not read it, the upload must prove they hold the bytes),
# and any the service lacks. A statement of its own, after the version's lock was
# granted: a commit of this version that held the lock and failed may have verified some
# of them meanwhile. (Not a subquery of the locking statement: that would see the
# snapshot from before the wait, and a correlated subquery is planned for the average
# version, which a few big ones make a sequential scan.)
MISSING_UPLOADS = Statement(
    """
SELECT DISTINCT ON (m.digest) m.digest, m.size, m.path FROM manifest_entries m
 WHERE m.version_id = :version_id AND m.ref IS NULL
   AND (m.verify_upload OR NOT EXISTS (SELECT FROM blobs b WHERE b.sha256 = m.digest))
 ORDER BY m.digest, m.path"""
)

# verified uploads, as parallel arrays (a blob that was stored already stays as it is:
# the upload proved the bytes)
RECORD_BLOBS = Statement(
    """INSERT INTO blobs (sha256, size) SELECT * FROM unnest(:digests::text[], :sizes::bigint[])
       ON CONFLICT (sha256) DO UPDATE SET unneeded_since = NULL"""
)

UPLOADS_VERIFIED = Statement(
    """UPDATE manifest_entries m SET verify_upload = false
         FROM unnest(:digests::text[]) AS d(digest)
        WHERE m.version_id = :version_id AND m.digest = d.digest AND m.verify_upload"""
)
