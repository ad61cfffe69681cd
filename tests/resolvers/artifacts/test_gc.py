"""Garbage collection: blobs no live version needs leave the store; shared ones stay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.db.database import Database
from server.domain.ids import decode_id_of
from server.storage.base import BlobStore, staging_key
from server.worker import Worker
from tests.fixtures.artifacts import (
    COMMIT,
    DELETE,
    SET_TTL,
    StoreApi,
    artifact_path,
    blob_key_of,
    content,
    download_all,
    entries,
    get,
    log_and_commit,
    log_artifact,
    new_run,
    sha,
    upload_all,
)


async def urls(api: StoreApi, key: str, path: str) -> dict[str, str]:
    found = await entries(api, key, path, first=100)
    return {e["node"]["path"]: e["node"]["downloadUrl"] for e in found["edges"]}


async def test_gc_removes_unneeded_blobs_and_keeps_shared_ones(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore,
    make_worker: Callable[..., Worker], db: Database,
) -> None:  # fmt: skip
    user = await make_user()
    run = await new_run(store_api, user.key)
    only, shared = content("only", size=2000), content("shared")
    doomed = await log_and_commit(
        store_api, user.key, run, "doomed", {"only.bin": only, "shared.txt": shared}
    )
    await log_and_commit(store_api, user.key, run, "keeper", {"s.txt": shared})
    old_urls = await urls(store_api, user.key, artifact_path(run, "doomed", "v0"))

    await store_api.ok(DELETE, {"id": doomed["id"]}, key=user.key)
    # within the grace period nothing goes
    await make_worker().run_once()
    assert await blob_store.head(blob_key_of(only)) is not None
    assert (await get(old_urls["only.bin"], store_api)).status_code == 200

    stats = await make_worker(gc_grace_seconds=0).run_once()
    assert stats.blobs_deleted >= 1
    assert await blob_store.head(blob_key_of(only)) is None
    assert await db.pool.fetchval("SELECT count(*) FROM blobs WHERE sha256 = $1", sha(only)) == 0
    assert (await get(old_urls["only.bin"], store_api)).status_code in (403, 404)
    # the content a live version shares stays, downloadable
    assert await blob_store.head(blob_key_of(shared)) is not None
    assert (await get(old_urls["shared.txt"], store_api)).content == shared
    assert await download_all(store_api, user.key, artifact_path(run, "keeper", "v0")) == {
        "s.txt": shared
    }

    # content logged again after collection must be uploaded again, and then works
    again = await log_artifact(store_api, user.key, run, "again", {"o.bin": only})
    assert [u["path"] for u in again["uploads"]] == ["o.bin"]
    await upload_all(store_api, again, {"o.bin": only})
    await store_api.ok(COMMIT, {"id": again["artifact"]["id"]}, key=user.key)
    assert await download_all(store_api, user.key, artifact_path(run, "again", "v0")) == {
        "o.bin": only
    }


async def test_blobs_a_pending_version_counts_on_are_kept(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore, make_worker: Callable[..., Worker]
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    held, fresh = content("held"), content("fresh")
    first = await log_and_commit(store_api, user.key, run, "first", {"h": held})
    pending = await log_artifact(store_api, user.key, run, "second", {"h": held, "f": fresh})
    assert [u["path"] for u in pending["uploads"]] == ["f"]  # "h" counted as held
    await store_api.ok(DELETE, {"id": first["id"]}, key=user.key)

    await make_worker(gc_grace_seconds=0).run_once()
    assert await blob_store.head(blob_key_of(held)) is not None

    await upload_all(store_api, pending, {"f": fresh})
    await store_api.ok(COMMIT, {"id": pending["artifact"]["id"]}, key=user.key)
    files = await download_all(store_api, user.key, artifact_path(run, "second", "v0"))
    assert files == {"h": held, "f": fresh}


async def test_expiry_and_collection_in_one_pass(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore, make_worker: Callable[..., Worker]
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    body = content("short-lived")
    v0 = await log_and_commit(store_api, user.key, run, "tmp", {"x": body})
    await store_api.ok(SET_TTL, {"id": v0["id"], "ttl": 0}, key=user.key)
    stats = await make_worker(gc_grace_seconds=0).run_once()
    assert stats.expired >= 1
    assert stats.blobs_deleted >= 1
    assert await blob_store.head(blob_key_of(body)) is None


async def test_abandoned_pending_versions_and_their_uploads_are_cleaned(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore, make_worker: Callable[..., Worker]
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    files = {"a": content("a"), "b": content("b")}
    pending = await log_artifact(store_api, user.key, run, "ds", files)
    await upload_all(store_api, pending, files)
    mine = {sha(b) for b in files.values()}

    async def staged() -> list[str]:
        return sorted(
            [k async for k in _keys(blob_store, "staging") if k.rsplit("/", 1)[1] in mine]
        )

    assert len(await staged()) == 2
    # younger than the limit: kept, uploads and all
    await make_worker().run_once()
    assert len(await staged()) == 2
    stats = await make_worker(pending_max_age_seconds=0).run_once()
    assert stats.pending_removed >= 1
    assert stats.staging_deleted >= 2
    assert await staged() == []
    assert (
        await store_api.error(COMMIT, {"id": pending["artifact"]["id"]}, key=user.key)
        == "NOT_FOUND"
    )
    assert await blob_store.head(blob_key_of(files["a"])) is None


async def _keys(store: BlobStore, prefix: str) -> Any:
    async for info in store.list(prefix):
        yield info.key


async def _promote_without_recording(
    blob_store: BlobStore, payload: dict[str, Any], data: bytes
) -> None:
    """What a commit leaves behind when the database fails between promoting its uploads
    and recording them: the blob in the store, no row for it."""
    version_id = decode_id_of(payload["artifact"]["id"], "Artifact")
    assert await blob_store.promote(staging_key(str(version_id), sha(data)), sha(data), len(data))


async def test_blobs_promoted_but_never_recorded_are_swept_unless_a_commit_needs_them(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore,
    make_worker: Callable[..., Worker], db: Database,
) -> None:  # fmt: skip
    user = await make_user()
    run = await new_run(store_api, user.key)
    abandoned, in_flight = content("abandoned"), content("in-flight")
    for name, data in (("gone", abandoned), ("kept", in_flight)):
        payload = await log_artifact(store_api, user.key, run, name, {"x": data})
        await upload_all(store_api, payload, {"x": data})
        await _promote_without_recording(blob_store, payload, data)
        if name == "gone":  # its client never came back: the pending version is cleaned away
            await make_worker(pending_max_age_seconds=0).run_once()
        else:
            kept = payload
    for data in (abandoned, in_flight):
        assert (
            await db.pool.fetchval("SELECT count(*) FROM blobs WHERE sha256 = $1", sha(data)) == 0
        )

    sweeping = make_worker(orphan_sweep_seconds=0, gc_grace_seconds=0)
    stats = await sweeping.run_once()
    assert stats.orphans_adopted >= 2
    # the collector runs before the sweep in a pass: the next pass deletes
    stats = await sweeping.run_once()
    assert stats.blobs_deleted >= 1
    assert await blob_store.head(blob_key_of(abandoned)) is None
    # the blob its PENDING version names stays, and the commit's retry succeeds
    assert await blob_store.head(blob_key_of(in_flight)) is not None
    committed = await store_api.ok(COMMIT, {"id": kept["artifact"]["id"]}, key=user.key)
    assert committed["commitArtifact"]["state"] == "COMMITTED"
    assert await download_all(store_api, user.key, artifact_path(run, "kept", "v0")) == {
        "x": in_flight
    }
    await sweeping.run_once()
    assert await blob_store.head(blob_key_of(in_flight)) is not None


async def test_the_orphan_sweep_waits_for_its_interval(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore, make_worker: Callable[..., Worker]
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    data = content("not yet")
    payload = await log_artifact(store_api, user.key, run, "ds", {"x": data})
    await upload_all(store_api, payload, {"x": data})
    await _promote_without_recording(blob_store, payload, data)
    stats = await make_worker(gc_grace_seconds=0).run_once()  # default: an hour after start
    assert stats.orphans_adopted == 0


async def test_a_row_whose_blob_is_gone_never_spares_an_upload(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore,
    make_worker: Callable[..., Worker], db: Database,
) -> None:  # fmt: skip
    """A collector pass deletes the files and then the rows, in one transaction; if that
    transaction dies in between (the database went away), the rows stay, marked unneeded,
    with their files gone. Such a row must never let a log or commit skip the upload:
    only content a live version holds counts as held, and no live version can name a
    blob the collector took. The state is made by hand: the file deleted, the row kept."""
    user = await make_user()
    run = await new_run(store_api, user.key)
    lost = content("lost", size=3000)
    first = await log_and_commit(store_api, user.key, run, "first", {"l.bin": lost})
    await store_api.ok(DELETE, {"id": first["id"]}, key=user.key)
    await make_worker().run_once()  # starts the grace clock: the row is marked unneeded
    assert await db.pool.fetchval(
        "SELECT unneeded_since IS NOT NULL FROM blobs WHERE sha256 = $1", sha(lost)
    )
    await blob_store.delete([blob_key_of(lost)])  # the pass deleted the file, then died

    again = await log_artifact(store_api, user.key, run, "again", {"l.bin": lost})
    assert again["artifact"]["state"] == "PENDING"
    assert [u["path"] for u in again["uploads"]] == ["l.bin"]
    # the upload is required at commit too, not only asked for
    refused = await store_api.gql(COMMIT, {"id": again["artifact"]["id"]}, key=user.key)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await upload_all(store_api, again, {"l.bin": lost})
    await store_api.ok(COMMIT, {"id": again["artifact"]["id"]}, key=user.key)
    assert await blob_store.head(blob_key_of(lost)) is not None
    assert await download_all(store_api, user.key, artifact_path(run, "again", "v0")) == {
        "l.bin": lost
    }
    # and the next pass leaves the revived blob alone
    await make_worker(gc_grace_seconds=0).run_once()
    assert await blob_store.head(blob_key_of(lost)) is not None
