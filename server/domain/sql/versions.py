"""Statements of server/domain/versions.py: logging and using artifact versions."""

from __future__ import annotations

from server.db.statements import Statement
from server.domain.access import READABLE
from server.domain.sql.aliases import move_aliases

# One round trip for the log itself:
# - the collection, created if new (ON CONFLICT DO NOTHING returns no row for an existing
#   one, which the second branch finds), and its type, for the CONFLICT check;
# - "existing": the committed version with this digest, share-locked until the
#   transaction ends: a concurrent deleteArtifact or TTL expiry (which lock the row FOR
#   UPDATE) either finishes first, and then the row no longer qualifies, or waits until we
#   are done. So a deduplicated log never lands on a version turning into a tombstone.
# - the GC fence, unless deduplicated: a row lock on every blob row we count on, held
#   until the transaction ends. The collector claims blobs FOR UPDATE SKIP LOCKED, so it
#   skips the rows we hold; a row it holds already makes us wait and then see it gone (so
#   we ask for an upload); and once this transaction commits, our manifest rows keep the
#   blobs needed. (server/worker.py collect_blobs tells the collector's side, whose
#   second NOT EXISTS, on a fresh snapshot, sees those rows.) Blobs in use (unneeded_since
#   NULL, the common case) are share-locked ("fence"): FOR SHARE keeps the collector out
#   all the same, and concurrent logs of one popular blob no longer queue behind each
#   other's row lock until commit, as an UPDATE of every row made them do.
#   Blobs already marked unneeded are updated back to in use ("revived"), which restarts
#   their grace period, as before. The two sets are disjoint, so no lock is ever upgraded
#   from share to exclusive (two logs doing that to one row would deadlock). A row that
#   changes sides between our snapshot and our lock is in neither: at worst the client
#   is asked to upload content we hold, and commit finds the blob there.
# - "readable": the fenced digests the logger can already read, because a live
#   (COMMITTED) version in a project they may read holds them, with the stored size.
#   Only these count as held: for any other digest the answer is an upload whether or
#   not the blob exists, so logging a digest reveals nothing about other projects;
# - "missing": every other digest, which the client must upload (commit hashes those
#   uploads even where the blob exists: the entries' verify_upload flag);
# - unless deduplicated or of another type: the PENDING version, and its manifest entries
#   when they are few enough to go as arrays (:entry_* empty otherwise: COPYed after).
# A collection created concurrently after this statement's snapshot was taken is seen by
# neither branch: no row comes back, nothing was inserted, and the caller runs the
# statement again (with a new snapshot, which sees it).
LOG_VERSION = Statement(
    f"""
WITH created AS (
    INSERT INTO artifact_collections (project_id, name, type, description)
    VALUES (:project_id, :name, :type, :description) ON CONFLICT (project_id, name) DO NOTHING
    RETURNING id, type),
collection AS (
    SELECT id, type FROM created
    UNION ALL
    SELECT id, type FROM artifact_collections WHERE project_id = :project_id AND name = :name
    LIMIT 1),
existing AS (
    SELECT v.id FROM artifact_versions v
     WHERE v.collection_id = (SELECT id FROM collection)
       AND v.digest = :digest AND v.state = 'COMMITTED'
     ORDER BY v.version_index LIMIT 1 FOR SHARE),
fence AS (
    SELECT sha256, size FROM blobs
     WHERE sha256 = ANY(:stored_digests::text[]) AND unneeded_since IS NULL
       AND NOT EXISTS (SELECT FROM existing)
       FOR SHARE),
revived AS (
    UPDATE blobs SET unneeded_since = NULL
     WHERE sha256 = ANY(:stored_digests::text[]) AND unneeded_since IS NOT NULL
       AND NOT EXISTS (SELECT FROM existing)
    RETURNING sha256, size),
readable AS (
    SELECT h.sha256, h.size FROM (SELECT * FROM fence UNION ALL SELECT * FROM revived) h
     WHERE EXISTS (
           SELECT FROM manifest_entries m
             JOIN artifact_versions hv ON hv.id = m.version_id
             JOIN projects p ON p.id = hv.project_id
            WHERE m.digest = h.sha256 AND m.ref IS NULL AND hv.state = 'COMMITTED'
              AND {READABLE})),
version AS (
    INSERT INTO artifact_versions (collection_id, name, type, project_id, state, digest,
           description, metadata, size, file_count, ttl_seconds, logged_by, pending_aliases)
    SELECT c.id, :name, c.type, :project_id, 'PENDING', :digest, :description, :metadata::jsonb,
           :size::bigint, :file_count::integer, :ttl_seconds::integer, :logged_by::bigint,
           :aliases::text[] FROM collection c
     WHERE c.type = :type AND NOT EXISTS (SELECT FROM existing)
    RETURNING id),
entries AS (
    INSERT INTO manifest_entries (version_id, path, digest, size, ref, extra, verify_upload)
    SELECT v.id, e.path, e.digest, e.size, e.ref, e.extra,
           e.ref IS NULL AND e.digest NOT IN (SELECT sha256 FROM readable)
      FROM version v,
           unnest(:entry_paths::text[], :entry_digests::text[], :entry_sizes::bigint[],
                  :entry_refs::text[], :entry_extras::jsonb[])
           AS e(path, digest, size, ref, extra))
SELECT c.id, c.type, (SELECT id FROM existing) AS existing, (SELECT id FROM version) AS version,
       CASE WHEN EXISTS (SELECT FROM existing) THEN '{{}}'::text[]
            ELSE ARRAY(SELECT d FROM unnest(:stored_digests::text[]) d
                        WHERE d NOT IN (SELECT sha256 FROM readable) ORDER BY d) END AS missing,
       ARRAY(SELECT sha256 FROM readable ORDER BY sha256) AS held,
       ARRAY(SELECT size FROM readable ORDER BY sha256) AS held_sizes
  FROM collection c"""
)

# A (deduplicated) log of committed version :version_id by run :run_id, and the alias
# move onto it.
RECORD_LOG = Statement(
    f"""
WITH logged AS (
    INSERT INTO artifact_logs (run_id, version_id, run_project_id, version_project_id)
    SELECT :run_id, :version_id, (SELECT project_id FROM runs WHERE id = :run_id),
           (SELECT project_id FROM artifact_collections WHERE id = :collection_id)
    ON CONFLICT (run_id, version_id) DO NOTHING)
{move_aliases()}"""
)

RECORD_USE = Statement(
    """INSERT INTO artifact_uses (version_id, run_id, version_project_id, run_project_id)
       VALUES (:version_id, :run_id, :version_project_id, :run_project_id)
       ON CONFLICT (version_id, run_id) DO NOTHING"""
)

# For the worker: PENDING versions nobody committed within :max_age_seconds, a batch
# claimed by the replica that locks them first, then removed (their manifest entries
# with them, ON DELETE CASCADE).
CLAIM_ABANDONED_PENDING = Statement(
    """SELECT id FROM artifact_versions
        WHERE state = 'PENDING'
          AND created_at < clock_timestamp() - make_interval(secs => :max_age_seconds)
        ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED"""
)
REMOVE_VERSIONS = Statement("DELETE FROM artifact_versions WHERE id = ANY(:ids::bigint[])")

# which of :ids are still PENDING (their staged uploads are still wanted)
PENDING_AMONG = Statement(
    "SELECT id FROM artifact_versions WHERE id = ANY(:ids::bigint[]) AND state = 'PENDING'"
)
