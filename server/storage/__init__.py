"""Blob storage (folder or S3) and S3 reference entries."""

from server.storage.base import (
    BlobStore,
    ObjectInfo,
    StoreUnavailable,
    UploadTarget,
    blob_key,
    open_store,
    staging_key,
)

__all__ = [
    "BlobStore",
    "ObjectInfo",
    "StoreUnavailable",
    "UploadTarget",
    "blob_key",
    "open_store",
    "staging_key",
]
