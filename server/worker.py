"""Background work, every LINEAGE_WORKER_INTERVAL seconds: TTL expiry, removal of
abandoned PENDING versions, staging clean-up, blob garbage collection and removal of
ended web sessions.

Several replicas may run this against one database: every item is claimed with
``FOR UPDATE SKIP LOCKED`` inside the transaction that handles it, so each is handled
once. How a blob that an in-flight log counts on is kept from the collector is told in
``collect_blobs`` (and at LOG_VERSION in server/domain/sql/versions.py, where the log path
fences it). Its statements are the domain's: server/domain/sql/blobs.py and the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from server.db.database import Database
from server.domain.retention import tombstone
from server.domain.sql import blobs as blob_sql
from server.domain.sql import retention as retention_sql
from server.domain.sql import sessions as session_sql
from server.domain.sql import versions as version_sql
from server.settings import Settings
from server.storage.base import BLOB_KEY_RE, STAGING_KEY_RE, BlobStore, blob_key, is_blob_key

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass
class WorkerStats:
    expired: int = 0
    pending_removed: int = 0
    blobs_deleted: int = 0
    staging_deleted: int = 0
    orphans_adopted: int = 0
    sessions_removed: int = 0


class Worker:
    def __init__(self, db: Database, store: BlobStore, settings: Settings) -> None:
        self.db = db
        self.store = store
        self.settings = settings
        # listing every blob is the dearest step by far: once per interval, the first one
        # an interval after start (a restart loop must not turn into a listing loop)
        self._orphan_sweep_due = time.monotonic() + settings.orphan_sweep_seconds
        self._stop = asyncio.Event()

    async def run_forever(self) -> None:
        """Passes every worker_interval seconds until ``stop``."""
        while not self.stopping:
            try:
                stats = await self.run_once()
                if stats != WorkerStats():
                    log.info("worker pass: %s", stats)
            except Exception:  # the next pass retries; an outage must not kill the loop
                log.exception("worker pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.worker_interval)

    def stop(self) -> None:
        """Finish the item (a batch, in its own transaction) in hand, then stop: a pass
        cancelled halfway could have deleted blobs from the store and not their rows."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run_once(self) -> WorkerStats:
        """One pass; after ``stop`` it ends at the next step (each ends at its next batch)."""
        stats = WorkerStats()
        stats.expired = await self.expire_ttls()
        if not self.stopping:
            stats.pending_removed = await self.remove_abandoned_pending()
        if not self.stopping:
            await self.mark_unneeded_blobs()
            stats.blobs_deleted = await self.collect_blobs()
        if not self.stopping:
            stats.staging_deleted = await self.sweep_staging()
        if not self.stopping:
            stats.sessions_removed = await self.remove_ended_sessions()
        if not self.stopping and time.monotonic() >= self._orphan_sweep_due:
            self._orphan_sweep_due = time.monotonic() + self.settings.orphan_sweep_seconds
            stats.orphans_adopted = await self.adopt_orphan_blobs()
        return stats

    async def expire_ttls(self) -> int:
        total = 0
        while True:
            async with self.db.transaction() as conn:
                claimed = await conn.fetch(retention_sql.CLAIM_EXPIRED, batch=BATCH)
                ids = [r["id"] for r in claimed]
                if ids:
                    await tombstone(conn, ids)
            total += len(ids)
            if len(ids) < BATCH or self.stopping:
                return total

    async def remove_ended_sessions(self) -> int:
        """Web sessions past their expiry or signed out: of no use, and their users may
        never sign in again (which also drops them)."""
        total = 0
        while True:
            status = await self.db.execute(session_sql.REMOVE_ENDED, batch=BATCH)
            removed = int(status.split()[-1])
            total += removed
            if removed < BATCH or self.stopping:
                return total

    async def remove_abandoned_pending(self) -> int:
        async with self.db.transaction() as conn:
            claimed = await conn.fetch(
                version_sql.CLAIM_ABANDONED_PENDING,
                max_age_seconds=float(self.settings.pending_max_age_seconds),
                batch=BATCH,
            )
            ids = [r["id"] for r in claimed]
            if ids:
                await conn.execute(version_sql.REMOVE_VERSIONS, ids=ids)
        return len(ids)

    async def mark_unneeded_blobs(self) -> None:
        """Start (or stop) the grace clock of blobs no manifest entry refers to.

        Tombstoning and pending removal delete manifest rows, so "no entry" means "no
        live or in-flight version needs it"."""
        await self.db.execute(blob_sql.START_GRACE)
        await self.db.execute(blob_sql.STOP_GRACE)

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
                    blob_sql.CLAIM_COLLECTABLE, grace_seconds=grace, batch=BATCH
                )]  # fmt: skip
                doomed = [r["sha256"] for r in await conn.fetch(
                    blob_sql.STILL_UNNEEDED, digests=claimed
                )] if claimed else []  # fmt: skip
                if doomed:
                    await self.store.delete([blob_key(s) for s in doomed])
                    await conn.execute(blob_sql.DELETE, digests=doomed)
            total += len(doomed)
            if len(claimed) < BATCH or self.stopping:
                return total

    async def sweep_staging(self) -> int:
        """Delete staged uploads whose version is no longer PENDING (committed, removed).

        Staged objects have no rows to claim with SKIP LOCKED, so one replica at a time
        sweeps, under a transaction-scoped advisory lock; the others skip this step. The
        holder deletes what it found before releasing the lock, so the next one to sweep
        lists only what is still there: each stale upload is deleted (and counted) once.
        """
        async with self.db.transaction() as conn:
            if not await conn.fetchval(blob_sql.TRY_STAGING_SWEEP_LOCK):
                return 0
            keys: list[tuple[str, int]] = []
            async for info in self.store.list("staging"):
                match = STAGING_KEY_RE.fullmatch(info.key)
                if match and match[1].isdigit():
                    keys.append((info.key, int(match[1])))
            if not keys:
                return 0
            versions = sorted({v for _, v in keys})
            pending = {r["id"] for r in await conn.fetch(version_sql.PENDING_AMONG, ids=versions)}
            stale = [key for key, version in keys if version not in pending]
            for start in range(0, len(stale), BATCH):
                await self.store.delete(stale[start : start + BATCH])
            return len(stale)

    async def adopt_orphan_blobs(self) -> int:
        """Give blobs the store holds without a ``blobs`` row one, marked unneeded, so that
        the collector deletes them after the grace period unless something needs them.

        Such orphans are left by a commit that promoted its uploads and then failed to
        record them (the database went away, or the process died, between the two). The
        sweep deletes nothing itself: it hands them to the collector, whose protocol with
        the log and commit paths (``collect_blobs``) already decides safely when a blob
        may go. Why an in-flight commit never loses a blob it is about to record:

        - The commit promotes, then inserts the row. If we list its blob in between, our
          INSERT either comes first (and the commit's ON CONFLICT DO UPDATE sets
          unneeded_since back to NULL: in use) or waits for the commit's uncommitted row
          and then does nothing. Either way the row ends up in use, and the commit's
          version holds the blob.
        - The collector deletes a blob only when no manifest entry names it, checked on
          a fresh snapshot while it holds the row lock. Every commit's PENDING version
          was logged (and committed, with its manifest) before the commit promoted
          anything, so while that commit is in flight, or retried, or abandoned but not
          yet cleaned away after 24 h, its entries keep the adopted blob.
        - A log that counts an adopted (unneeded) blob as held revives its row under the
          row lock, so it waits for a collector holding it and then sees it gone.
        - The listing may be older than a collector's deletion: it saw the blob while its
          row still existed, and our INSERT waited for the collector, whose transaction
          deletes the file before the row, and then inserted a row for a blob that is
          gone. So each adopted blob is looked up in the store while our rows are still
          uncommitted (a log reviving one waits for us), and the rows of those gone are
          taken back: after the INSERT no collector can delete an adopted blob, as it
          only deletes blobs whose rows it has claimed.
        Nothing but a verified promotion creates a blob key, so an orphan's bytes match
        its name, and a log may count it as held.
        """
        adopted = 0
        batch: list[tuple[str, int]] = []

        async def adopt() -> int:
            async with self.db.transaction() as conn:
                new = [r["sha256"] for r in await conn.fetch(
                    blob_sql.ADOPT,
                    digests=[d for d, _ in batch], sizes=[size for _, size in batch],
                )]  # fmt: skip
                gone = [d for d in new if await self.store.head(blob_key(d)) is None]
                if gone:
                    await conn.execute(blob_sql.DELETE, digests=gone)
            batch.clear()
            return len(new) - len(gone)

        async for info in self.store.list("blobs"):
            match = BLOB_KEY_RE.fullmatch(info.key)
            if match is None or not is_blob_key(info.key):
                continue
            batch.append((match[3], info.size))
            if len(batch) == BATCH:
                adopted += await adopt()
                if self.stopping:
                    return adopted
        if batch:
            adopted += await adopt()
        if adopted:
            log.warning(
                "found %d blobs the database did not know; they go after the grace period unless needed",
                adopted,
            )
        return adopted
