"""The blob collector's statements (server/worker.py): the grace clock of unneeded blobs,
their collection, the staging sweep's lock and the adoption of orphans. How they keep
clear of an in-flight log or commit is told in ``Worker.collect_blobs`` and
``Worker.adopt_orphan_blobs``; the log path's side is sql/versions.py LOG_VERSION."""

from __future__ import annotations

from server.db.statements import Statement

# no manifest entry names blob b: no live or in-flight version needs it
_UNNEEDED = (
    "NOT EXISTS (SELECT 1 FROM manifest_entries m WHERE m.digest = b.sha256 AND m.ref IS NULL)"
)

START_GRACE = Statement(
    f"""UPDATE blobs b SET unneeded_since = clock_timestamp()
         WHERE b.sha256 IN (SELECT b.sha256 FROM blobs b
                             WHERE b.unneeded_since IS NULL AND {_UNNEEDED} LIMIT 10000)"""
)

STOP_GRACE = Statement(
    f"UPDATE blobs b SET unneeded_since = NULL WHERE b.unneeded_since IS NOT NULL AND NOT {_UNNEEDED}"
)

CLAIM_COLLECTABLE = Statement(
    f"""SELECT b.sha256 FROM blobs b
         WHERE b.unneeded_since < clock_timestamp() - make_interval(secs => :grace_seconds)
           AND {_UNNEEDED}
         ORDER BY b.unneeded_since LIMIT :batch FOR UPDATE SKIP LOCKED"""
)

# checked again once the claim's locks are held, on this statement's fresh snapshot
STILL_UNNEEDED = Statement(
    f"SELECT b.sha256 FROM blobs b WHERE b.sha256 = ANY(:digests::text[]) AND {_UNNEEDED}"
)

DELETE = Statement("DELETE FROM blobs WHERE sha256 = ANY(:digests::text[])")

# one replica at a time sweeps the staging area (transaction-scoped advisory lock)
STAGING_SWEEP_LOCK_ID = 0x6C696E5F73746167  # "lin_stag"
TRY_STAGING_SWEEP_LOCK = Statement(f"SELECT pg_try_advisory_xact_lock({STAGING_SWEEP_LOCK_ID})")

# blobs the store holds without a row, as parallel arrays: rows marked unneeded
ADOPT = Statement(
    """INSERT INTO blobs (sha256, size, unneeded_since)
       SELECT d, s, clock_timestamp() FROM unnest(:digests::text[], :sizes::bigint[]) t(d, s)
       ON CONFLICT (sha256) DO NOTHING RETURNING sha256"""
)
