"""open_store: the blob store a storage URL names."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from server.storage.base import BlobStore
from server.storage.folder import FolderStore


async def open_store(
    storage_url: str,
    *,
    secret: bytes,
    public_base_url: str,
    s3_endpoint_url: str | None,
    url_ttl_seconds: int = 3600,
) -> BlobStore:
    """Open the store named by ``file:///abs/dir`` or ``s3://bucket/prefix``."""
    parts = urlsplit(storage_url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise ValueError(f"unsupported storage URL {storage_url!r}: use file:///abs/dir")
        root = Path(unquote(parts.path))
        if not root.is_absolute():
            raise ValueError(f"storage folder must be absolute: {storage_url!r}")
        return await FolderStore.create(root, secret, public_base_url, url_ttl_seconds)
    if parts.scheme == "s3":
        if not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"unsupported storage URL {storage_url!r}: use s3://bucket/prefix")
        # imported only for S3: aiobotocore takes ~0.5 s to import, which a server on the
        # folder store need not pay at start-up
        from server.storage.s3 import S3Store

        return await S3Store.create(
            parts.netloc,
            unquote(parts.path).strip("/"),
            endpoint_url=s3_endpoint_url,
            url_ttl_seconds=url_ttl_seconds,
        )
    raise ValueError(
        f"unsupported storage URL {storage_url!r}: use file:///abs/dir or s3://bucket/prefix"
    )
