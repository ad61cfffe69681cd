"""Blob store in a local folder, with the server's own HMAC-signed ``/files`` URLs.

Layout under the root: ``blobs/..`` and ``staging/..`` exactly as the keys say, plus
``.tmp/`` for uploads in flight and blobs being verified. ``.tmp`` lives in the root so
that every move into place is a same-filesystem ``os.replace``: atomic, never a copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256 as sha256_hash
from pathlib import Path
from urllib.parse import urlencode

from server.storage.base import (
    HASH_CHUNK,
    BoundedHasher,
    ObjectInfo,
    StoreUnavailable,
    UploadTarget,
    blob_key,
    check_key,
    check_prefix,
    check_staging_target,
    is_blob_key,
    is_staging_key,
)

SIGNATURE_CONTEXT = "lineage-files-v1"
# Temp files older than this belong to uploads or promotions that died with a process.
STALE_TEMP_SECONDS = 24 * 3600


class FileRequestRefused(Exception):
    """A /files request the store will not serve; ``status`` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class FileGrant:
    """What a verified signed URL allows: one op on one key."""

    path: Path
    sha256: str
    size: int
    filename: str


class FolderStore:
    def __init__(
        self, root: Path, secret: bytes, base_url: str, url_ttl_seconds: int = 3600
    ) -> None:
        if not secret:
            raise ValueError("the folder store needs a non-empty signing secret")
        self.root = root.resolve()
        self.base_url = base_url.rstrip("/")
        self.url_ttl_seconds = url_ttl_seconds
        self._secret = secret
        self._tmp = self.root / ".tmp"

    @classmethod
    async def create(
        cls, root: Path, secret: bytes, base_url: str, url_ttl_seconds: int = 3600
    ) -> FolderStore:
        store = cls(root, secret, base_url, url_ttl_seconds)
        await asyncio.to_thread(store._prepare)
        return store

    def _prepare(self) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - STALE_TEMP_SECONDS
        for entry in os.scandir(self._tmp):
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                Path(entry.path).unlink(missing_ok=True)

    # -- signed URLs ---------------------------------------------------------------

    def _signature(self, op: str, key: str, exp: int, sha256: str, size: str, filename: str) -> str:
        # Fixed field order; only the last field may hold arbitrary text, so no two
        # different requests share a message.
        message = "\n".join([SIGNATURE_CONTEXT, op, key, str(exp), sha256, size, filename])
        return hmac.new(self._secret, message.encode(), sha256_hash).hexdigest()

    def _expiry(self) -> int:
        return int(time.time()) + self.url_ttl_seconds

    async def upload_target(self, staging_key: str, sha256: str, size: int) -> UploadTarget:
        check_staging_target(staging_key, sha256, size)
        exp = self._expiry()
        sig = self._signature("put", staging_key, exp, sha256, str(size), "")
        query = urlencode({"op": "put", "exp": exp, "sha256": sha256, "size": size, "sig": sig})
        return UploadTarget(f"{self.base_url}/files/{staging_key}?{query}", {})

    async def download_url(self, sha256: str, *, filename: str | None = None) -> str:
        key = blob_key(sha256)
        exp = self._expiry()
        params: dict[str, str | int] = {"op": "get", "exp": exp}
        if filename:
            params["filename"] = filename
        params["sig"] = self._signature("get", key, exp, "", "", filename or "")
        return f"{self.base_url}/files/{key}?{urlencode(params)}"

    def authorize(self, op: str, key: str, query: Mapping[str, str]) -> FileGrant:
        """Check a /files request before anything touches the filesystem."""
        # PUT only ever reaches staging and GET only blobs, whatever was signed.
        if not (is_staging_key(key) if op == "put" else is_blob_key(key)):
            raise FileRequestRefused(404, "not found")
        if query.get("op") != op:
            raise FileRequestRefused(403, "URL not valid for this method")
        sha256 = query.get("sha256", "") if op == "put" else ""
        size = query.get("size", "") if op == "put" else ""
        filename = query.get("filename", "") if op == "get" else ""
        try:
            exp = int(query.get("exp", ""))
        except ValueError:
            raise FileRequestRefused(403, "invalid signature") from None
        expected = self._signature(op, key, exp, sha256, size, filename)
        if not hmac.compare_digest(expected, query.get("sig", "")):
            raise FileRequestRefused(403, "invalid signature")
        if exp < time.time():
            raise FileRequestRefused(403, "URL expired")
        try:
            declared_size = int(size) if op == "put" else -1
            if op == "put":
                check_staging_target(key, sha256, declared_size)
        except ValueError:
            raise FileRequestRefused(403, "invalid signature") from None
        try:
            path = self._path(key)
        except ValueError:
            raise FileRequestRefused(404, "not found") from None
        return FileGrant(path, sha256, declared_size, filename)

    # -- bytes in and out ----------------------------------------------------------

    def _path(self, key: str) -> Path:
        check_key(key)
        path = self.root / key
        # The key regex already rules out "..": this guards against symlinks planted
        # inside the root.
        if not Path(os.path.realpath(path)).is_relative_to(self.root):
            raise ValueError(f"key {key!r} resolves outside the store")
        return path

    async def receive_upload(
        self, key: str, sha256: str, size: int, chunks: AsyncIterator[bytes]
    ) -> None:
        """Stream an upload to a temp file; it reaches the key only if it matches."""
        dest = self._path(key)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="upload-", suffix=".part")
        tmp: Path | None = Path(tmp_name)
        hasher = BoundedHasher(size)
        try:
            with os.fdopen(fd, "wb") as out:
                buffer = bytearray()
                async for chunk in chunks:
                    if not hasher.update(chunk):
                        raise FileRequestRefused(413, f"upload exceeds the declared {size} bytes")
                    buffer += chunk
                    if len(buffer) >= HASH_CHUNK:
                        await asyncio.to_thread(out.write, bytes(buffer))
                        buffer.clear()
                await asyncio.to_thread(out.write, bytes(buffer))
            if not hasher.matches(sha256):
                raise FileRequestRefused(400, "upload does not match the declared sha256 and size")
            await asyncio.to_thread(_install, Path(tmp_name), dest)
            tmp = None
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)

    async def promote(self, staging_key: str, sha256: str, size: int) -> bool:
        check_staging_target(staging_key, sha256, size)
        return await asyncio.to_thread(
            self._promote, self._path(staging_key), self._path(blob_key(sha256)), sha256, size
        )

    def _promote(self, staged: Path, blob: Path, sha256: str, size: int) -> bool:
        # Claim the staged file first: a client re-uploading with a still-valid URL can
        # then no longer swap the bytes between our hashing and our move.
        claimed = self._tmp / f"promote-{secrets.token_hex(8)}"
        try:
            os.replace(staged, claimed)
        except FileNotFoundError:
            return False
        try:
            _remove_empty_dir(staged.parent)
            if not _file_matches(claimed, sha256, size):
                return False
            if not blob.exists():
                _install(claimed, blob)
            return True
        finally:
            claimed.unlink(missing_ok=True)

    async def has_blob(self, sha256: str) -> bool:
        return await asyncio.to_thread(self._path(blob_key(sha256)).is_file)

    async def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            stat = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            return None
        return ObjectInfo(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    async def delete(self, keys: Sequence[str]) -> None:
        paths = [self._path(key) for key in keys]  # refuse the whole call on one bad key
        await asyncio.to_thread(_delete_files, paths)

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        check_prefix(prefix)
        async for info in self._walk(prefix.rpartition("/")[0], prefix):
            yield info

    async def _walk(self, rel_dir: str, prefix: str) -> AsyncIterator[ObjectInfo]:
        # One directory per thread hop keeps memory flat for millions of blobs.
        entries = await asyncio.to_thread(_scan, self.root / rel_dir)
        for name, is_dir, size, mtime in entries:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if is_dir:
                if (rel + "/").startswith(prefix) or prefix.startswith(rel + "/"):
                    async for info in self._walk(rel, prefix):
                        yield info
            elif rel.startswith(prefix) and (is_blob_key(rel) or is_staging_key(rel)):
                yield ObjectInfo(rel, size, datetime.fromtimestamp(mtime, UTC))

    async def check(self) -> None:
        if not await asyncio.to_thread(self._writable):
            raise StoreUnavailable(f"blob folder {self.root} is not a writable directory")

    def _writable(self) -> bool:
        return self._tmp.is_dir() and os.access(self._tmp, os.W_OK | os.X_OK)

    async def close(self) -> None:
        return None


def _install(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)


def _file_matches(path: Path, sha256: str, size: int) -> bool:
    hasher = BoundedHasher(size)
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            if not hasher.update(chunk):
                return False
    return hasher.matches(sha256)


def _remove_empty_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not empty, or already gone: both fine
        path.rmdir()


def _delete_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
        if path.parent.parent.name == "staging":
            _remove_empty_dir(path.parent)


def _scan(directory: Path) -> list[tuple[str, bool, int, float]]:
    try:
        with os.scandir(directory) as it:
            entries = list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []
    result = []
    for entry in entries:
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        is_dir = entry.is_dir(follow_symlinks=False)
        stat = entry.stat(follow_symlinks=False)
        result.append((entry.name, is_dir, stat.st_size, stat.st_mtime))
    result.sort()
    return result
