"""The folder store's signed ``/files`` URLs refuse everything they did not sign."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message

from server.storage.base import blob_key, staging_key
from server.storage.files_routes import files_routes
from server.storage.folder import FolderStore

BASE_URL = "http://lineage.test"
BODY = b"model weights"
SHA = hashlib.sha256(BODY).hexdigest()


def serve(store: object) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"store": store}

    return Starlette(routes=files_routes, lifespan=lifespan)


@pytest.fixture
async def store(tmp_path: Path) -> FolderStore:
    return await FolderStore.create(tmp_path / "store", b"secret", BASE_URL)


@pytest.fixture
async def app(store: FolderStore) -> AsyncIterator[ASGIApp]:
    async with LifespanManager(serve(store)) as manager:
        yield manager.app


@pytest.fixture
async def http(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE_URL) as client:
        yield client


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return parts._replace(query=urlencode(query)).geturl()


def leftovers(store: FolderStore) -> list[str]:
    """Every file in the store, temp files included."""
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())


def entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def raw_status(app: ASGIApp, method: str, raw_path: bytes, query: str) -> int:
    """Send a path exactly as given: httpx would normalise the "../" away first."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("lineage.test", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
        "path": unquote(raw_path.decode()),
        "raw_path": raw_path,
        "query_string": query.encode(),
        "headers": [(b"content-length", str(len(BODY)).encode())],
    }
    messages = [{"type": "http.request", "body": BODY, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


async def test_tampered_urls_are_refused(store: FolderStore, http: httpx.AsyncClient) -> None:
    key = staging_key("p1", SHA)
    url = (await store.upload_target(key, SHA, len(BODY))).url
    sig = dict(parse_qsl(urlsplit(url).query))["sig"]
    forged = [
        with_query(url, sig=sig[:-1] + ("0" if sig[-1] != "0" else "1")),
        with_query(url, size=str(len(BODY) + 1)),
        with_query(url, exp=str(int(time.time()) + 86400)),
        with_query(url, sig=""),
        url.replace("/p1/", "/p2/"),
    ]
    for bad in forged:
        response = await http.put(bad, content=BODY)
        assert response.status_code == 403, bad
        assert response.text == "invalid signature"
    assert leftovers(store) == []

    assert (await http.put(url, content=BODY)).status_code == 200
    assert await store.promote(key, SHA, len(BODY))
    download = await store.download_url(SHA, filename="a.bin")
    assert (await http.get(with_query(download, filename="evil.exe"))).status_code == 403
    assert (await http.get(download)).content == BODY


async def test_expired_urls_are_refused(store: FolderStore, http: httpx.AsyncClient) -> None:
    store.signer.ttl_seconds = -1
    key = staging_key("p1", SHA)
    response = await http.put((await store.upload_target(key, SHA, len(BODY))).url, content=BODY)
    assert (response.status_code, response.text) == (403, "URL expired")
    response = await http.get(await store.download_url(SHA))
    assert (response.status_code, response.text) == (403, "URL expired")


async def test_a_url_only_works_for_its_own_method(
    store: FolderStore, http: httpx.AsyncClient
) -> None:
    upload = (await store.upload_target(staging_key("p1", SHA), SHA, len(BODY))).url
    assert (await http.get(upload)).status_code == 404  # GET never serves staging
    download = await store.download_url(SHA)
    assert (await http.put(download, content=BODY)).status_code == 404  # nor PUT blobs
    assert leftovers(store) == []


async def test_blob_keys_cannot_be_written_even_when_signed(
    store: FolderStore, http: httpx.AsyncClient
) -> None:
    key = blob_key(SHA)
    exp = int(time.time()) + 60
    sig = store.signer.signature("put", key, exp, SHA, str(len(BODY)), "")
    query = urlencode({"op": "put", "exp": exp, "sha256": SHA, "size": len(BODY), "sig": sig})
    assert (await http.put(f"/files/{key}?{query}", content=BODY)).status_code == 404
    assert leftovers(store) == []


TRAVERSALS = [
    "../x",
    "../../../../etc/passwd",
    "%2e%2e/x",
    "/etc/passwd",
    f"staging/p1/../../x/{SHA}",
    f"staging/p\x001/{SHA}",
    f"staging/p1/{SHA}\x00",
    f"staging/..%2f..%2fx/{SHA}",
    f"blobs/{SHA[:2]}/{SHA[2:4]}/../../../x",
    f"blobs/00/00/{SHA}",  # right shape, fan-out not matching the digest
]


@pytest.mark.parametrize("key", TRAVERSALS)
@pytest.mark.parametrize("method", ["PUT", "GET"])
async def test_traversal_keys_never_reach_the_filesystem(
    store: FolderStore, app: ASGIApp, tmp_path: Path, key: str, method: str
) -> None:
    # Signed correctly for the bad key: the key check alone must refuse it.
    exp = int(time.time()) + 60
    op = method.lower()
    size = str(len(BODY)) if op == "put" else ""
    sig = store.signer.signature(op, key, exp, SHA if op == "put" else "", size, "")
    params = {"op": op, "exp": str(exp), "sig": sig}
    if op == "put":
        params |= {"sha256": SHA, "size": size}
    raw_path = b"/files/" + key.replace("\x00", "%00").encode()

    assert await raw_status(app, method, raw_path, urlencode(params)) == 404
    assert leftovers(store) == []
    assert entries(tmp_path) == ["store"]


async def test_encoded_traversal_through_a_real_client(http: httpx.AsyncClient) -> None:
    for path in ["/files/%2e%2e/%2e%2e/x", "/files/%2Fetc%2Fpasswd", "/files/staging%2F..%2Fx"]:
        assert (await http.get(f"{path}?op=get&exp=9999999999&sig=00")).status_code == 404


async def test_uploads_beyond_the_declared_size_are_cut_off(
    store: FolderStore, http: httpx.AsyncClient
) -> None:
    target = await store.upload_target(staging_key("p1", SHA), SHA, len(BODY))
    response = await http.put(target.url, content=BODY + b"!")
    assert response.status_code == 413

    async def endless() -> AsyncIterator[bytes]:
        # No Content-Length: the limit has to hold while streaming.
        for _ in range(1000):
            yield BODY

    response = await http.put(target.url, content=endless())
    assert response.status_code == 413
    assert leftovers(store) == []


async def test_uploads_with_other_bytes_are_refused(
    store: FolderStore, http: httpx.AsyncClient
) -> None:
    target = await store.upload_target(staging_key("p1", SHA), SHA, len(BODY))
    for body in [b"other weights", BODY[:-1]]:
        response = await http.put(target.url, content=body)
        assert response.status_code == 400, body
    assert leftovers(store) == []


async def test_missing_blob_is_404(store: FolderStore, http: httpx.AsyncClient) -> None:
    assert (await http.get(await store.download_url(SHA))).status_code == 404


async def test_routes_are_404_without_a_folder_store(store: FolderStore) -> None:
    async with LifespanManager(serve(object())) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            target = await store.upload_target(staging_key("p1", SHA), SHA, len(BODY))
            assert (await http.put(target.url, content=BODY)).status_code == 404
            assert (await http.get(await store.download_url(SHA))).status_code == 404


def plant_symlink(link: Path, target: Path) -> None:
    target.mkdir()
    link.symlink_to(target)


async def test_symlinks_out_of_the_root_are_not_followed(
    store: FolderStore, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    plant_symlink(store.root / "staging", tmp_path / "outside")
    target = await store.upload_target(staging_key("p1", SHA), SHA, len(BODY))
    assert (await http.put(target.url, content=BODY)).status_code == 404
    assert entries(tmp_path / "outside") == []
