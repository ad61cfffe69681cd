"""The blob store contract shared by the folder and the S3 implementations.

Blobs are content-addressed: ``blobs/<aa>/<bb>/<sha256>``. Clients never write there;
they upload to ``staging/<pending_id>/<sha256>`` and only ``BlobStore.promote`` (or
``promote_many``), once the staged bytes are known to match, creates the blob: an object at a
content address proves nothing about its bytes if anyone else could write there. How they are known to match is the store's business: S3
hashes the staged object; the folder store's upload handler hashes every byte on the way
in and stamps what matched, so promote need not read it again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import quote

SHA256_RE = re.compile(r"[0-9a-f]{64}")
PENDING_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Every key either store accepts has one of these two shapes, so a key can never name
# anything outside the store (no "..", no absolute paths, no odd characters).
BLOB_KEY_RE = re.compile(r"blobs/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
STAGING_KEY_RE = re.compile(r"staging/([A-Za-z0-9_-]{1,64})/([0-9a-f]{64})")
# Listing prefixes come from the service, not clients, but still may not climb out.
PREFIX_RE = re.compile(r"(?:(?:blobs|staging)(?:/[A-Za-z0-9_-]*)*)?")

HASH_CHUNK = 1 << 20


class StoreUnavailable(Exception):
    """The store could not be reached; callers answer UNAVAILABLE and retry later."""


class MissingCredentials(StoreUnavailable):
    """No S3 credentials: the operator's configuration, which /readyz names."""

    def __init__(self) -> None:
        super().__init__(
            "store: no S3 credentials were found: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or an AWS profile)"
        )


@dataclass(slots=True)
class UploadTarget:
    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime


class BlobStore(Protocol):
    async def upload_target(self, staging_key: str, sha256: str, size: int) -> UploadTarget:
        """A signed, short-lived PUT of exactly these bytes to the staging key."""
        ...

    async def upload_targets(self, items: Sequence[tuple[str, str, int]]) -> list[UploadTarget]:
        """``upload_target`` for each (staging key, sha256, size), in order."""
        ...

    async def promote(self, staging_key: str, sha256: str, size: int) -> bool:
        """Verify the staged bytes and make them the blob; False if missing or wrong.

        The staging object is gone afterwards either way. A staged object that is gone
        while its blob exists (with the declared size) counts as promoted: an earlier
        attempt of the same commit promoted it and then failed to record it, and only a
        verified promotion ever creates a blob.
        """
        ...

    async def promote_many(self, items: Sequence[tuple[str, str, int]]) -> list[bool]:
        """``promote`` for each (staging key, sha256, size), batched; results in order.

        Every key is validated before anything moves. If the call raises (the store is
        unavailable), any item may or may not have been promoted; promoting again is safe.
        """
        ...

    async def has_blob(self, sha256: str) -> bool: ...

    async def download_url(self, sha256: str, *, filename: str | None = None) -> str: ...

    async def head(self, key: str) -> ObjectInfo | None: ...

    async def delete(self, keys: Sequence[str]) -> None: ...

    def list(self, prefix: str) -> AsyncIterator[ObjectInfo]: ...

    async def check(self) -> None:
        """Raise StoreUnavailable unless the store answers."""
        ...

    async def close(self) -> None: ...


def blob_key(sha256: str) -> str:
    check_sha256(sha256)
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def staging_key(pending_id: str, sha256: str) -> str:
    if not PENDING_ID_RE.fullmatch(pending_id):
        raise ValueError(f"invalid pending id {pending_id!r}")
    check_sha256(sha256)
    return f"staging/{pending_id}/{sha256}"


def check_sha256(sha256: str) -> None:
    if not SHA256_RE.fullmatch(sha256):
        raise ValueError(f"invalid sha256 {sha256!r}: expected 64 lowercase hex digits")


def is_blob_key(key: str) -> bool:
    match = BLOB_KEY_RE.fullmatch(key)
    # The fan-out directories must agree with the digest, or one digest has many keys.
    return match is not None and match[3].startswith(match[1] + match[2])


def is_staging_key(key: str) -> bool:
    return STAGING_KEY_RE.fullmatch(key) is not None


def check_key(key: str) -> None:
    if not (is_blob_key(key) or is_staging_key(key)):
        raise ValueError(f"invalid store key {key!r}")


def check_prefix(prefix: str) -> None:
    if not PREFIX_RE.fullmatch(prefix):
        raise ValueError(f"invalid store prefix {prefix!r}")


def check_staging_target(key: str, sha256: str, size: int) -> None:
    """The digest is part of the staging key; a different declared one is a caller bug."""
    match = STAGING_KEY_RE.fullmatch(key)
    if match is None:
        raise ValueError(f"not a staging key: {key!r}")
    if match[2] != sha256:
        raise ValueError(f"staging key {key!r} does not name sha256 {sha256}")
    if size < 0:
        raise ValueError(f"negative size {size}")


def attachment_disposition(filename: str) -> str:
    # RFC 6266 filename* carries any name; quote() leaves no quote or CR/LF to inject.
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


class BoundedHasher:
    """sha256 of a stream that refuses to count past the declared size."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.seen = 0
        self._hash = hashlib.sha256()

    def update(self, chunk: bytes) -> bool:
        """Feed a chunk; False once the stream is longer than declared."""
        self.seen += len(chunk)
        if self.seen > self.size:
            return False
        self._hash.update(chunk)
        return True

    def matches(self, sha256: str) -> bool:
        return self.seen == self.size and self._hash.hexdigest() == sha256
