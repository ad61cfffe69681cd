"""Background work, every LINEAGE_WORKER_INTERVAL seconds: TTL expiry, removal of
abandoned PENDING versions, staging clean-up and blob garbage collection.

Several replicas may run this against one database: every item is claimed with
``FOR UPDATE SKIP LOCKED`` inside the transaction that handles it, so each is handled
once. How a blob that an in-flight log counts on is kept from the collector is told in
``collect_blobs`` (and in server/domain/versions.py, where the log path fences it).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from server.db.database import Database
from server.domain.retention import tombstone
from server.settings import Settings
from server.storage.base import STAGING_KEY_RE, BlobStore, blob_key

log = logging.getLogger("lineage.worker")

BATCH = 1000
# pg advisory lock key of the staging sweep (any constant unique to this purpose)
STAGING_SWEEP_LOCK = 0x6C696E5F73746167  # "lin_stag"
_UNNEEDED = (
    """NOT EXISTS (SELECT 1 FROM manifest_entries m WHERE m.digest = b.sha256 AND m.ref IS NULL)"""
)


@dataclass
class WorkerStats:
    expired: int = 0
    pending_removed: int = 0
    blobs_deleted: int = 0
    staging_deleted: int = 0


class Worker:
    def __init__(self, db: Database, store: BlobStore, settings: Settings) -> None:
        self.db = db
        self.store = store
        self.settings = settings

    async def run_forever(self) -> None:
        while True:
            try:
                stats = await self.run_once()
                if stats != WorkerStats():
                    log.info("worker pass: %s", stats)
            except Exception:  # the next pass retries; an outage must not kill the loop
                log.exception("worker pass failed")
            await asyncio.sleep(self.settings.worker_interval)

    async def run_once(self) -> WorkerStats:
        stats = WorkerStats()
        stats.expired = await self.expire_ttls()
        stats.pending_removed = await self.remove_abandoned_pending()
        await self.mark_unneeded_blobs()
        stats.blobs_deleted = await self.collect_blobs()
        stats.staging_deleted = await self.sweep_staging()
        return stats

    async def expire_ttls(self) -> int:
        total = 0
        while True:
            async with self.db.transaction() as conn:
                ids = [r["id"] for r in await conn.fetch(
                    """SELECT id FROM artifact_versions
                        WHERE state = 'COMMITTED' AND expires_at <= clock_timestamp()
                        ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
                    BATCH,
                )]  # fmt: skip
                if ids:
                    await tombstone(conn, ids)
            total += len(ids)
            if len(ids) < BATCH:
                return total

    async def remove_abandoned_pending(self) -> int:
        async with self.db.transaction() as conn:
            ids = [r["id"] for r in await conn.fetch(
                """SELECT id FROM artifact_versions
                    WHERE state = 'PENDING'
                      AND created_at < clock_timestamp() - make_interval(secs => $1)
                    ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
                float(self.settings.pending_max_age_seconds), BATCH,
            )]  # fmt: skip
            if ids:
                await conn.execute(
                    "DELETE FROM artifact_versions WHERE id = ANY($1::bigint[])", ids
                )
        return len(ids)

    async def mark_unneeded_blobs(self) -> None:
        """Start (or stop) the grace clock of blobs no manifest entry refers to.

        Tombstoning and pending removal delete manifest rows, so "no entry" means "no
        live or in-flight version needs it"."""
        await self.db.execute(
            f"""UPDATE blobs b SET unneeded_since = clock_timestamp()
                 WHERE b.sha256 IN (SELECT b.sha256 FROM blobs b
                                     WHERE b.unneeded_since IS NULL AND {_UNNEEDED} LIMIT 10000)"""
        )
        await self.db.execute(
            f"UPDATE blobs b SET unneeded_since = NULL WHERE b.unneeded_since IS NOT NULL AND NOT {_UNNEEDED}"
        )

    async def collect_blobs(self) -> int:
        """Delete blobs unneeded for longer than the grace period, a batch at a time.

        The race with an in-flight logArtifact that counts a blob as held is closed by
        row locks on ``blobs``: the log path locks the rows it counts on (FOR SHARE, or an
        UPDATE of unneeded_since to NULL for ones already marked) in its own transaction. If the log got there first, our
        FOR UPDATE either skips the locked row or, once the log committed, re-checks the
        row and finds unneeded_since NULL. If we got there first, the log's UPDATE waits
        for us and then finds the row gone, so it asks the client to upload the content.
        The second NOT EXISTS runs after the locks are held, with a fresh snapshot.
        """
        total = 0
        grace = float(self.settings.gc_grace_seconds)
        while True:
            async with self.db.transaction() as conn:
                claimed = [r["sha256"] for r in await conn.fetch(
                    f"""SELECT b.sha256 FROM blobs b
                         WHERE b.unneeded_since < clock_timestamp() - make_interval(secs => $1)
                           AND {_UNNEEDED}
                         ORDER BY b.unneeded_since LIMIT $2 FOR UPDATE SKIP LOCKED""",
                    grace, BATCH,
                )]  # fmt: skip
                doomed = [r["sha256"] for r in await conn.fetch(
                    f"SELECT b.sha256 FROM blobs b WHERE b.sha256 = ANY($1::text[]) AND {_UNNEEDED}",
                    claimed,
                )] if claimed else []  # fmt: skip
                if doomed:
                    await self.store.delete([blob_key(s) for s in doomed])
                    await conn.execute("DELETE FROM blobs WHERE sha256 = ANY($1::text[])", doomed)
            total += len(doomed)
            if len(claimed) < BATCH:
                return total

    async def sweep_staging(self) -> int:
        """Delete staged uploads whose version is no longer PENDING (committed, removed).

        Staged objects have no rows to claim with SKIP LOCKED, so one replica at a time
        sweeps, under a transaction-scoped advisory lock; the others skip this step. The
        holder deletes what it found before releasing the lock, so the next one to sweep
        lists only what is still there: each stale upload is deleted (and counted) once.
        """
        async with self.db.transaction() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", STAGING_SWEEP_LOCK):
                return 0
            keys: list[tuple[str, int]] = []
            async for info in self.store.list("staging"):
                match = STAGING_KEY_RE.fullmatch(info.key)
                if match and match[1].isdigit():
                    keys.append((info.key, int(match[1])))
            if not keys:
                return 0
            pending = {
                r["id"]
                for r in await conn.fetch(
                    """SELECT id FROM artifact_versions
                        WHERE id = ANY($1::bigint[]) AND state = 'PENDING'""",
                    sorted({v for _, v in keys}),
                )
            }
            stale = [key for key, version in keys if version not in pending]
            for start in range(0, len(stale), BATCH):
                await self.store.delete(stale[start : start + BATCH])
            return len(stale)
