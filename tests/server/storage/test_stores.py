"""Both blob stores against the same contract, over real HTTP paths.

The folder store's URLs go through the real Starlette ``/files`` routes; the S3 store's
presigned URLs go to a real moto server.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from server.storage.base import (
    BlobStore,
    ObjectInfo,
    StoreUnavailable,
    blob_key,
    staging_key,
)
from server.storage.factory import open_store
from server.storage.files_routes import files_routes
from server.storage.folder import FolderStore
from server.storage.s3 import S3Store

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

SECRET = b"test-secret"
BASE_URL = "http://lineage.test"


def serve(store: BlobStore) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"store": store}

    return Starlette(routes=files_routes, lifespan=lifespan)


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass
class Harness:
    kind: str
    store: BlobStore
    http: httpx.AsyncClient
    plant: Callable[[str, bytes], Awaitable[None]]  # write bytes with no verification

    async def stage(self, pending_id: str, body: bytes) -> tuple[str, str]:
        sha = digest(body)
        key = staging_key(pending_id, sha)
        target = await self.store.upload_target(key, sha, len(body))
        response = await self.http.put(target.url, content=body, headers=target.headers)
        assert response.status_code == 200, response.text
        return key, sha

    async def keys(self, prefix: str) -> list[str]:
        return sorted([info.key async for info in self.store.list(prefix)])


@pytest.fixture(params=["folder", "s3"])
async def harness(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    s3_client: S3Client,
    s3_bucket: str,
    moto_server: str,
) -> AsyncIterator[Harness]:
    if request.param == "folder":
        store = await FolderStore.create(tmp_path / "store", SECRET, BASE_URL)

        async def plant_file(key: str, body: bytes) -> None:
            (store.root / key).parent.mkdir(parents=True, exist_ok=True)
            (store.root / key).write_bytes(body)

        async with LifespanManager(serve(store)) as manager:
            transport = httpx.ASGITransport(manager.app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                yield Harness("folder", store, http, plant_file)
        return
    s3 = await S3Store.create(
        s3_bucket, "lineage", endpoint_url=moto_server, delete_batch_size=10, list_page_size=3
    )

    async def plant_object(key: str, body: bytes) -> None:
        await s3_client.put_object(Bucket=s3_bucket, Key=f"lineage/{key}", Body=body)

    async with httpx.AsyncClient() as http:
        yield Harness("s3", s3, http, plant_object)
    await s3.close()


async def test_upload_promote_download_round_trip(harness: Harness) -> None:
    body = os.urandom(3 * 1024 * 1024 + 17)  # several hashing chunks, not a round number
    key, sha = await harness.stage("pending-1", body)
    assert not await harness.store.has_blob(sha)

    assert await harness.store.promote(key, sha, len(body))

    assert await harness.store.has_blob(sha)
    assert await harness.store.head(key) is None
    info = await harness.store.head(blob_key(sha))
    assert info is not None
    assert info.size == len(body)
    response = await harness.http.get(await harness.store.download_url(sha, filename="m ö.bin"))
    assert response.status_code == 200
    assert response.content == body
    assert "filename*=UTF-8''m%20%C3%B6.bin" in response.headers["content-disposition"]


@pytest.mark.parametrize(
    ("planted", "declared"),
    [(b"other bytes", b"right bytes"), (b"right bytes and more", b"right bytes")],
    ids=["wrong-bytes", "wrong-size"],
)
async def test_promote_refuses_bytes_that_do_not_match(
    harness: Harness, planted: bytes, declared: bytes
) -> None:
    sha = digest(declared)
    key = staging_key("pending-1", sha)
    await harness.plant(key, planted)

    assert not await harness.store.promote(key, sha, len(declared))

    assert not await harness.store.has_blob(sha)
    assert await harness.store.head(key) is None


async def test_promote_refuses_a_declared_size_the_bytes_do_not_have(harness: Harness) -> None:
    key, sha = await harness.stage("pending-1", b"twelve bytes")
    assert not await harness.store.promote(key, sha, 11)
    assert not await harness.store.has_blob(sha)


async def test_promote_of_missing_staging_object(harness: Harness) -> None:
    sha = digest(b"never uploaded")
    assert not await harness.store.promote(staging_key("pending-1", sha), sha, 14)
    assert not await harness.store.has_blob(sha)


async def test_promote_when_blob_already_exists(harness: Harness) -> None:
    body = b"shared content"
    key, sha = await harness.stage("first", body)
    assert await harness.store.promote(key, sha, len(body))

    again, _ = await harness.stage("second", body)
    assert await harness.store.promote(again, sha, len(body))
    assert await harness.store.head(again) is None

    # Wrong bytes for an existing blob are refused and leave the blob alone.
    forged = staging_key("third", sha)
    await harness.plant(forged, b"forged content")
    assert not await harness.store.promote(forged, sha, len(body))
    assert await harness.store.head(forged) is None
    response = await harness.http.get(await harness.store.download_url(sha))
    assert response.content == body


async def test_s3_promote_on_a_versioned_bucket(versioned_bucket: str, moto_server: str) -> None:
    store = await S3Store.create(versioned_bucket, endpoint_url=moto_server)
    body = b"versioned content"
    sha = digest(body)
    target = await store.upload_target(staging_key("p1", sha), sha, len(body))
    async with httpx.AsyncClient() as http:
        assert (await http.put(target.url, content=body, headers=target.headers)).is_success
        assert await store.promote(staging_key("p1", sha), sha, len(body))
        assert (await http.get(await store.download_url(sha))).content == body
    await store.close()


async def test_delete_in_batches(harness: Harness) -> None:
    keys = [staging_key(f"p{i}", digest(b"x")) for i in range(25)]
    for key in keys:
        await harness.plant(key, b"x")
    calls: list[str] = []
    if isinstance(harness.store, S3Store):
        harness.store._client.meta.events.register(
            "before-call.s3.DeleteObjects", lambda **_: calls.append("delete")
        )

    await harness.store.delete([*keys, staging_key("absent", digest(b"y"))])

    assert await harness.keys("staging/") == []
    if harness.kind == "s3":
        assert len(calls) == 3  # 25 keys + 1 absent, 10 per call


async def test_list_pages_through_everything_under_a_prefix(harness: Harness) -> None:
    staged = [staging_key(p, digest(bytes([i]))) for i, p in enumerate("aaabbbb")]
    blob = blob_key(digest(b"blob"))
    for key in [*staged, blob]:
        await harness.plant(key, b"12345")
    calls: list[str] = []
    if isinstance(harness.store, S3Store):
        harness.store._client.meta.events.register(
            "before-call.s3.ListObjectsV2", lambda **_: calls.append("list")
        )

    listed = [info async for info in harness.store.list("staging/")]
    pages = len(calls)

    assert sorted(info.key for info in listed) == sorted(staged)
    assert all(isinstance(info, ObjectInfo) and info.size == 5 for info in listed)
    assert await harness.keys("staging/b/") == sorted(k for k in staged if "/b/" in k)
    assert await harness.keys("blobs/") == [blob]
    assert await harness.keys("") == sorted([*staged, blob])
    if harness.kind == "s3":
        assert pages == 3  # 7 keys, 3 per page


async def test_check_passes_on_a_working_store(harness: Harness) -> None:
    await harness.store.check()


async def test_check_reports_unreachable_stores(tmp_path: Path, moto_server: str) -> None:
    folder = await FolderStore.create(tmp_path / "gone", SECRET, BASE_URL)
    (folder.root / ".tmp").rmdir()
    with pytest.raises(StoreUnavailable):
        await folder.check()
    no_bucket = await S3Store.create("test-no-such-bucket", endpoint_url=moto_server)
    with pytest.raises(StoreUnavailable):
        await no_bucket.check()
    await no_bucket.close()
    no_server = await S3Store.create("test-bucket", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(StoreUnavailable):
        await no_server.check()
    await no_server.close()


async def test_open_store_by_url(tmp_path: Path, s3_bucket: str, moto_server: str) -> None:
    folder = await open_store(
        (tmp_path / "a b").as_uri(), secret=SECRET, public_base_url=BASE_URL, s3_endpoint_url=None
    )
    assert isinstance(folder, FolderStore)
    assert folder.root == (tmp_path / "a b").resolve()
    s3 = await open_store(
        f"s3://{s3_bucket}/some/prefix/",
        secret=SECRET,
        public_base_url=BASE_URL,
        s3_endpoint_url=moto_server,
    )
    assert isinstance(s3, S3Store)
    assert (s3.bucket, s3.prefix) == (s3_bucket, "some/prefix")
    await s3.check()
    await s3.close()
    for bad in ["http://x/y", "file://host/dir", "file:relative", "s3:///no-bucket", "/plain"]:
        with pytest.raises(ValueError, match="storage"):
            await open_store(bad, secret=SECRET, public_base_url=BASE_URL, s3_endpoint_url=None)


@pytest.mark.parametrize(
    ("pending_id", "sha"),
    [("../x", "a" * 64), ("p", "A" * 64), ("p", "a" * 63), ("", "a" * 64), ("p/q", "a" * 64)],
)
def test_keys_are_validated(pending_id: str, sha: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        staging_key(pending_id, sha)
