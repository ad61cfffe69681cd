"""Two workers (replicas) on one database: every item is handled exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from server.storage.base import BlobStore
from server.worker import Worker
from tests.fixtures.artifacts import (
    SET_TTL,
    StoreApi,
    artifact,
    blob_key_of,
    content,
    log_and_commit,
    log_artifact,
    new_run,
    upload_all,
)
from tests.fixtures.service import unique

EXPIRED, ABANDONED = 6, 4


async def test_two_workers_never_handle_an_item_twice(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore, make_worker: Callable[..., Worker]
) -> None:
    settings = {"gc_grace_seconds": 0, "pending_max_age_seconds": 0}
    # the database is shared with other tests: first finish whatever they left to do
    await make_worker(**settings).run_once()

    user = await make_user()
    run = await new_run(store_api, user.key, unique("p"))
    expiring = [{"f": content(f"e{i}")} for i in range(EXPIRED)]
    for i, files in enumerate(expiring):
        made = await log_and_commit(store_api, user.key, run, f"ds{i}", files)
        await store_api.ok(SET_TTL, {"id": made["id"], "ttl": 0}, key=user.key)
    abandoned = [{"g": content(f"a{i}")} for i in range(ABANDONED)]
    for i, files in enumerate(abandoned):
        payload = await log_artifact(store_api, user.key, run, f"pending{i}", files)
        await upload_all(store_api, payload, files)

    workers = [make_worker(**settings), make_worker(**settings)]
    results = await asyncio.gather(*(w.run_once() for w in workers))  # raises on any error

    assert sum(r.expired for r in results) == EXPIRED
    assert sum(r.pending_removed for r in results) == ABANDONED
    assert sum(r.blobs_deleted for r in results) == EXPIRED
    assert sum(r.staging_deleted for r in results) == ABANDONED
    for i, files in enumerate(expiring):
        assert (await artifact(store_api, user.key, run, f"ds{i}", "v0"))["state"] == "DELETED"  # type: ignore[index]
        assert await blob_store.head(blob_key_of(files["f"])) is None
    assert [info async for info in blob_store.list("staging")] == []

    # and a second round finds nothing left
    again = await asyncio.gather(*(w.run_once() for w in workers))
    assert all(
        r.expired == r.pending_removed == r.blobs_deleted == r.staging_deleted == 0 for r in again
    )
