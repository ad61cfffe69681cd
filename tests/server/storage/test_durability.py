"""The folder store syncs what it writes before it answers.

An OS crash cannot be staged inside a test, so these tests watch the system calls
instead: ``os.fsync`` (and the C library's ``syncfs``) keep working, and each call is
recorded with the path its descriptor names. An upload is answered only after its bytes
and its staging directory were synced; a promotion returns only after the blobs'
directories were (one by one, or with one syncfs for a big batch).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from server.storage import durable
from server.storage.base import blob_key, staging_key
from server.storage.folder import FolderStore


class SyncLog:
    def __init__(self) -> None:
        self.paths: list[str] = []
        self.filesystems: list[str] = []


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> SyncLog:
    record = SyncLog()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        record.paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    libc = durable._libc()

    class Libc:
        def syncfs(self, fd: int) -> int:
            record.filesystems.append(os.readlink(f"/proc/self/fd/{fd}"))
            return int(libc.syncfs(fd))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(durable, "_libc", lambda: Libc())
    return record


@pytest.fixture
async def store(tmp_path: Path) -> FolderStore:
    return await FolderStore.create(tmp_path / "store", b"secret", "http://lineage.test")


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def _upload(store: FolderStore, pending: str, body: bytes) -> tuple[str, str]:
    sha = hashlib.sha256(body).hexdigest()
    key = staging_key(pending, sha)
    await store.receive_upload(key, sha, len(body), _chunks(body))
    return key, sha


async def test_an_upload_is_synced_before_it_is_answered(
    store: FolderStore, synced: SyncLog
) -> None:
    key, _ = await _upload(store, "41", b"some bytes\n")
    root = str(store.root)
    files = [p for p in synced.paths if p.startswith(f"{root}/.tmp/upload-")]
    assert len(files) == 1, synced.paths  # the bytes (and the stamp) before the rename
    staged_dir = f"{root}/staging/41"
    assert staged_dir in synced.paths  # the staged file's entry
    assert f"{root}/staging" in synced.paths  # the new directory's entry
    assert synced.paths.index(files[0]) < synced.paths.index(staged_dir)


async def test_a_promotion_is_synced_before_it_returns(store: FolderStore, synced: SyncLog) -> None:
    body = b"promote me\n"
    key, sha = await _upload(store, "42", body)
    synced.paths.clear()
    assert await store.promote_many([(key, sha, len(body))]) == [True]
    blob_dir = os.path.dirname(f"{store.root}/{blob_key(sha)}")
    assert blob_dir in synced.paths
    assert synced.filesystems == []


async def test_a_big_promotion_syncs_the_filesystem_once(
    store: FolderStore, synced: SyncLog
) -> None:
    items: list[Any] = []
    for i in range(durable.SYNCFS_FROM + 10):
        body = f"blob {i}\n".encode()
        key, sha = await _upload(store, "43", body)
        items.append((key, sha, len(body)))
    synced.paths.clear()
    assert await store.promote_many(items) == [True] * len(items)
    assert synced.filesystems == [str(store.root)]
    assert synced.paths == []
