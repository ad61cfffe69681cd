"""Blob store in a local folder, with the server's own HMAC-signed ``/files`` URLs
(server/storage/signing.py).

Layout under the root: ``blobs/..`` and ``staging/..`` exactly as the keys say, plus
``.tmp/`` for uploads in flight and blobs being verified. ``.tmp`` lives in the root so
that every move into place is a same-filesystem ``os.replace``: atomic, never a copy.

Verification happens once, in the upload handler (``receive_upload``): it hashes every
byte on the way in and renames the file to its staging key only when sha256 and size
match, stamping it with a MAC (an extended attribute, see ``_staged_mac``) that only this
service can make. ``promote`` trusts a staged file carrying a valid stamp without reading
it again; a file without one (a filesystem without user xattrs, or bytes that did not
come through the handler) is hashed as before. Either way, wrong bytes never become a blob.

Durability (server/storage/durable.py): an upload is answered only once its bytes, its
stamp and its staging directory entry are synced to disk, and ``promote_many`` returns
only once the blobs' directory entries are; so a commit, which records blobs after
promoting them, never points at a blob an OS crash can lose or cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import itertools
import os
import secrets
import stat
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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
from server.storage.durable import install, sync_dir, sync_dirs, sync_file
from server.storage.folder_files import (
    TempFile,
    delete_files,
    file_matches,
    holds_blob,
    remove_empty_dir,
    scan,
)
from server.storage.signing import FileRequestRefused, UrlSigner

STAGED_MAC_CONTEXT = b"lineage-staged-v1"
# The stamp receive_upload puts on a verified staged file (see _staged_mac).
STAGED_MAC_XATTR = "user.lineage.verified"
# Temp files older than this belong to uploads or promotions that died with a process.
STALE_TEMP_SECONDS = 24 * 3600


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
        self.signer = UrlSigner(secret, base_url, url_ttl_seconds)
        # the stamps of verified uploads (_staged_mac); copied per message: keyed once
        self._hmac = hmac.new(secret, digestmod="sha256")
        self._tmp = self.root / ".tmp"
        # False once the filesystem refused a user xattr: staged files then carry no
        # stamp and promote hashes them (correct, just slower).
        self._xattrs = True
        self._claims = itertools.count()
        self._claim_prefix = f"promote-{secrets.token_hex(6)}-"

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

    async def upload_target(self, staging_key: str, sha256: str, size: int) -> UploadTarget:
        return (await self.upload_targets([(staging_key, sha256, size)]))[0]

    async def upload_targets(self, items: Sequence[tuple[str, str, int]]) -> list[UploadTarget]:
        return [UploadTarget(url, {}) for url in self.signer.upload_urls(items)]

    async def download_url(self, sha256: str, *, filename: str | None = None) -> str:
        return self.signer.download_url(blob_key(sha256), filename)

    def authorize(self, op: str, key: str, query: Mapping[str, str]) -> FileGrant:
        """Check a /files request before anything touches the filesystem."""
        # PUT only ever reaches staging and GET only blobs, whatever was signed.
        if not (is_staging_key(key) if op == "put" else is_blob_key(key)):
            raise FileRequestRefused(404, "not found")
        signed = self.signer.verify(op, key, query)
        if op == "put":
            # The key's shape is checked (above); its symlink check runs where the upload
            # is installed, in receive_upload's thread, so the event loop makes no
            # filesystem call for it. Nothing reaches the key's path before that.
            check_key(key)
            return FileGrant(self.root / key, signed.sha256, signed.size, signed.filename)
        try:
            path = self._path(key)
        except ValueError:
            raise FileRequestRefused(404, "not found") from None
        return FileGrant(path, signed.sha256, signed.size, signed.filename)

    # -- bytes in and out ----------------------------------------------------------

    def _path(self, key: str) -> Path:
        check_key(key)
        path = self.root / key
        # The key regex already rules out "..": this guards against symlinks planted
        # inside the root.
        if not self._inside_root(key):
            raise ValueError(f"key {key!r} resolves outside the store")
        return path

    def _inside_root(self, key: str, checked: set[str] | None = None) -> bool:
        """Whether root / key resolves inside the root.

        The root is resolved already, so without a symlink below it the path is inside;
        only when one of the key's (at most four) components is a symlink does the full
        ``realpath`` check run. That is the same answer as ``realpath`` alone, for a few
        ``lstat`` calls instead of one per component from ``/``. ``checked`` caches the
        components found not to be symlinks, for the keys of one batch."""
        rel = ""
        for part in key.split("/"):
            rel = f"{rel}/{part}" if rel else part
            if checked is not None and rel in checked:
                continue
            try:
                mode = os.lstat(f"{self.root}/{rel}").st_mode
            except (FileNotFoundError, NotADirectoryError):
                return True  # nothing further down exists, so no symlink either
            if stat.S_ISLNK(mode):
                return Path(os.path.realpath(self.root / key)).is_relative_to(self.root)
            if checked is not None:
                checked.add(rel)
        return True

    def _make_blob_dir(self, sha256: str) -> None:
        """Create the blob's fan-out directory (blobs/aa/bb) ahead of its promotion.

        Creating a directory is by far the dearest step of moving a blob into place (a few
        hundred microseconds each on a busy disk, against tens for a rename; 100,000 new
        blobs need some 50,000 of them). The upload, which runs in parallel with others
        and holds no database transaction, pays it here, so commit -- one request, holding
        its version's row lock -- is left with renames. Best effort: promote creates
        whatever is still missing. Follows no symlink."""
        path = str(self.root)
        for part in blob_key(sha256).split("/")[:-1]:
            path = f"{path}/{part}"
            try:
                try:
                    mode = os.lstat(path).st_mode
                except FileNotFoundError:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(path)
                    sync_dir(os.path.dirname(path))  # promote syncs only the last level
                    continue
            except OSError:
                return
            if not stat.S_ISDIR(mode):  # a symlink or a file planted in the root: not ours
                return

    async def receive_upload(
        self, key: str, sha256: str, size: int, chunks: AsyncIterator[bytes]
    ) -> None:
        """Stream an upload to a temp file; it reaches the key only if it matches.

        Small uploads (one hashing chunk) take a single thread hop: the temp file is
        created, written, stamped and renamed into place together at the end."""
        check_key(key)  # the symlink check (_path's) is _finish_upload's, in its thread
        dest = self.root / key
        hasher = BoundedHasher(size)
        out: TempFile | None = None
        try:
            buffer = bytearray()
            async for chunk in chunks:
                if not hasher.update(chunk):
                    raise FileRequestRefused(413, f"upload exceeds the declared {size} bytes")
                buffer += chunk
                if len(buffer) >= HASH_CHUNK:
                    if out is None:
                        out = await asyncio.to_thread(TempFile, self._tmp)
                    await asyncio.to_thread(out.write, bytes(buffer))
                    buffer.clear()
            if not hasher.matches(sha256):
                raise FileRequestRefused(400, "upload does not match the declared sha256 and size")
            await asyncio.to_thread(self._finish_upload, out, bytes(buffer), key, dest, sha256)
            out = None  # installed
        finally:
            if out is not None:
                await asyncio.to_thread(out.discard)

    def _finish_upload(
        self, out: TempFile | None, tail: bytes, key: str, dest: Path, sha256: str
    ) -> None:
        """Write the rest, stamp the verified bytes, rename them to the staging key."""
        if out is None:
            out = TempFile(self._tmp)
        try:
            if not self._inside_root(key):
                raise FileRequestRefused(404, "not found")
            out.write(tail)
            info = os.fstat(out.fd)
            if self._xattrs:
                mac = self._staged_mac(key, sha256, info)
                try:
                    os.setxattr(out.fd, STAGED_MAC_XATTR, mac)
                except OSError as exc:
                    if exc.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
                        raise
                    self._xattrs = False  # unsupported here: promote will hash instead
            # bytes and stamp on disk before the file counts as verified: promote trusts
            # the stamp without reading the bytes again, also after a crash
            os.fsync(out.fd)
            out.close()
            install(out.path, dest)
            sync_dir(os.path.dirname(dest))
        except BaseException:
            out.discard()
            raise
        self._make_blob_dir(sha256)

    def _staged_mac(self, key: str, sha256: str, info: os.stat_result) -> bytes:
        """The stamp of a staged file the upload handler verified: binds the staging key,
        the digest and size it was checked against, and the file itself (inode and
        modification time, which a rename keeps and any rewrite changes). Made with the
        store's secret, so nothing but receive_upload can produce it."""
        message = b"\n".join(
            [
                STAGED_MAC_CONTEXT,
                key.encode(),
                sha256.encode(),
                str(info.st_size).encode(),
                str(info.st_ino).encode(),
                str(info.st_mtime_ns).encode(),
            ]
        )
        mac = self._hmac.copy()
        mac.update(message)
        return mac.digest()

    async def promote(self, staging_key: str, sha256: str, size: int) -> bool:
        return (await self.promote_many([(staging_key, sha256, size)]))[0]

    async def promote_many(self, items: Sequence[tuple[str, str, int]]) -> list[bool]:
        """Promote many staged uploads in one thread hop (renames and size checks only,
        unless a file lacks the handler's stamp; see the module docstring)."""
        for staging_key, sha256, size in items:
            check_staging_target(staging_key, sha256, size)
        if not items:
            return []
        return await asyncio.to_thread(self._promote_batch, items)

    def _promote_batch(self, items: Sequence[tuple[str, str, int]]) -> list[bool]:
        # Every directory on the way is checked before anything moves (the files at the
        # ends need no check: a staged symlink is claimed as the link itself and refused
        # as not a regular file; an existing blob, whatever it is, is left alone).
        checked: set[str] = set()
        paths = []
        for staging_key, sha256, _ in items:
            blob = blob_key(sha256)
            for key in (staging_key, blob):
                directory = key.rpartition("/")[0]
                if not self._inside_root(directory, checked):
                    raise ValueError(f"key {key!r} resolves outside the store")
            paths.append((f"{self.root}/{staging_key}", f"{self.root}/{blob}"))
        results = [
            self._promote_one(staging_key, sha256, size, staged, blob)
            for (staging_key, sha256, size), (staged, blob) in zip(items, paths, strict=True)
        ]
        # the moves on disk before any blob counts as stored (the caller records them next)
        promoted = {
            blob.rpartition("/")[0] for (_, blob), ok in zip(paths, results, strict=True) if ok
        }
        sync_dirs(promoted, anywhere_on=str(self.root))
        for directory in {staged.rpartition("/")[0] for staged, _ in paths}:
            remove_empty_dir(Path(directory))
        return results

    def _promote_one(
        self, staging_key: str, sha256: str, size: int, staged: str, blob: str
    ) -> bool:
        # No second hash for a file the upload handler verified: it renames bytes to the
        # staging key only when their sha256 and size matched, and stamps them with a MAC
        # of (key, digest, size, inode, mtime) under the store's secret. Nothing else
        # writes staging files, so a re-upload racing with us can only put another
        # verified copy of the same bytes there: whichever file the rename moves, it
        # matches. A file without a valid stamp takes the careful path.
        try:
            info = os.lstat(staged)
        except FileNotFoundError:
            return holds_blob(blob, size)
        if (
            stat.S_ISREG(info.st_mode)
            and info.st_size == size
            and self._stamp_matches(staged, staging_key, sha256, info)
        ):
            try:
                if os.path.lexists(blob):  # an existing blob is never touched
                    os.unlink(staged)
                else:
                    install(staged, blob)
            except FileNotFoundError:  # promoted by someone else meanwhile
                return os.path.lexists(blob)
            return True
        return self._promote_unstamped(sha256, size, staged, blob)

    def _promote_unstamped(self, sha256: str, size: int, staged: str, blob: str) -> bool:
        """Hash a staged file that carries no valid stamp: claim it first, so the file
        hashed is the file moved, whatever else is written to the staging key."""
        claimed = f"{self._tmp}/{self._claim_prefix}{next(self._claims)}"
        try:
            os.replace(staged, claimed)
        except FileNotFoundError:
            return holds_blob(blob, size)
        installed = False
        try:
            info = os.lstat(claimed)
            if not stat.S_ISREG(info.st_mode) or info.st_size != size:
                return False
            if not file_matches(Path(claimed), sha256, size):
                return False
            if not os.path.lexists(blob):  # an existing blob is never touched
                sync_file(claimed)  # these bytes may not have come through the handler
                install(claimed, blob)
                installed = True
            return True
        finally:
            if not installed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(claimed)

    def _stamp_matches(
        self, path: str, staging_key: str, sha256: str, info: os.stat_result
    ) -> bool:
        try:
            stamp = os.getxattr(path, STAGED_MAC_XATTR, follow_symlinks=False)
        except OSError:  # no stamp, or no xattrs on this filesystem
            return False
        return hmac.compare_digest(stamp, self._staged_mac(staging_key, sha256, info))

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
        await asyncio.to_thread(delete_files, paths)

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        check_prefix(prefix)
        async for info in self._walk(prefix.rpartition("/")[0], prefix):
            yield info

    async def _walk(self, rel_dir: str, prefix: str) -> AsyncIterator[ObjectInfo]:
        # One directory per thread hop keeps memory flat for millions of blobs.
        entries = await asyncio.to_thread(scan, self.root / rel_dir)
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
