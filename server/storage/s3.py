"""Blob store on S3 (or any S3-compatible server) through one aiobotocore client."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from typing import TYPE_CHECKING

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    ValidationError,
)

from server.storage.base import (
    HASH_CHUNK,
    BoundedHasher,
    MissingCredentials,
    ObjectInfo,
    StoreUnavailable,
    UploadTarget,
    attachment_disposition,
    blob_key,
    check_key,
    check_prefix,
    check_staging_target,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CopySourceTypeDef, GetObjectOutputTypeDef

MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchVersion"})


async def open_s3_client(endpoint_url: str | None) -> tuple[S3Client, AsyncExitStack]:
    """A client for the configured endpoint; region and keys come from the AWS chain."""
    config = AioConfig(
        # Path style works on every S3-compatible server and with dotted bucket names.
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        max_pool_connections=32,
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    stack = AsyncExitStack()
    client = await stack.enter_async_context(
        get_session().create_client("s3", endpoint_url=endpoint_url, config=config)
    )
    return client, stack


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def unavailable_on_failure(what: str) -> Iterator[None]:
    """Turn "cannot reach or use the store at all" into StoreUnavailable.

    Request errors that are about the request (a missing key, a bad argument) pass
    through for the caller to judge.
    """
    try:
        yield
    except (ParamValidationError, ValidationError):
        raise
    except NoCredentialsError as exc:
        raise MissingCredentials() from exc
    except (BotoCoreError, aiohttp.ClientError) as exc:
        raise StoreUnavailable(f"{what}: {exc}") from exc
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500:
            raise StoreUnavailable(f"{what}: {error_code(exc)}") from exc
        raise


class S3Store:
    def __init__(
        self,
        client: S3Client,
        exit_stack: AsyncExitStack,
        bucket: str,
        prefix: str = "",
        url_ttl_seconds: int = 3600,
        *,
        delete_batch_size: int = 1000,
        list_page_size: int = 1000,
        promote_concurrency: int = 16,
    ) -> None:
        if not 1 <= delete_batch_size <= 1000:
            raise ValueError("DeleteObjects takes 1 to 1000 keys per call")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url_ttl_seconds = url_ttl_seconds
        self.delete_batch_size = delete_batch_size
        self.list_page_size = list_page_size
        # parallel verifications in promote_many (the client pools 32 connections)
        self.promote_concurrency = promote_concurrency
        self._client = client
        self._exit_stack = exit_stack

    @classmethod
    async def create(
        cls,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None,
        url_ttl_seconds: int = 3600,
        delete_batch_size: int = 1000,
        list_page_size: int = 1000,
    ) -> S3Store:
        client, stack = await open_s3_client(endpoint_url)
        return cls(
            client,
            stack,
            bucket,
            prefix,
            url_ttl_seconds,
            delete_batch_size=delete_batch_size,
            list_page_size=list_page_size,
        )

    def _full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _logical(self, full_key: str) -> str:
        return full_key[len(self.prefix) + 1 :] if self.prefix else full_key

    async def upload_target(self, staging_key: str, sha256: str, size: int) -> UploadTarget:
        check_staging_target(staging_key, sha256, size)
        # Signed into the URL as a header, so real S3 refuses other bytes at upload;
        # promote() still hashes, because not every S3-compatible server enforces it.
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        params = {"Bucket": self.bucket, "Key": self._full(staging_key), "ChecksumSHA256": checksum}
        with unavailable_on_failure("presigning an upload"):
            url = await self._client.generate_presigned_url(
                "put_object", Params=params, ExpiresIn=self.url_ttl_seconds
            )
        return UploadTarget(url, {"x-amz-checksum-sha256": checksum})

    async def upload_targets(self, items: Sequence[tuple[str, str, int]]) -> list[UploadTarget]:
        return [await self.upload_target(*item) for item in items]

    async def promote(self, staging_key: str, sha256: str, size: int) -> bool:
        return (await self.promote_many([(staging_key, sha256, size)]))[0]

    async def promote_many(self, items: Sequence[tuple[str, str, int]]) -> list[bool]:
        """Verify and promote staged uploads, ``promote_concurrency`` at a time; then delete
        every staging object in DeleteObjects batches (verified or not, they are done).

        Each object is still streamed through sha256 here: not every S3-compatible server
        enforces the checksum signed into the upload URL (moto does not)."""
        for staging_key, sha256, size in items:
            check_staging_target(staging_key, sha256, size)
        limit = asyncio.Semaphore(self.promote_concurrency)

        async def verify(staging_key: str, sha256: str, size: int) -> bool:
            async with limit:
                return await self._verify_and_copy(staging_key, sha256, size)

        # If any of them fails (store unavailable), nothing is deleted: the commit fails,
        # and its retry finds the staged objects still there.
        results = await asyncio.gather(*(verify(*item) for item in items))
        await self._delete_full([self._full(staging_key) for staging_key, _, _ in items])
        return list(results)

    async def _verify_and_copy(self, staging_key: str, sha256: str, size: int) -> bool:
        source = self._full(staging_key)
        with unavailable_on_failure(f"promoting {staging_key}"):
            try:
                obj = await self._client.get_object(Bucket=self.bucket, Key=source)
            except ClientError as exc:
                if error_code(exc) in MISSING_CODES:
                    # promoted already, by an earlier attempt of this commit whose
                    # transaction failed: only a verified copy creates a blob
                    held = await self.head(blob_key(sha256))
                    return held is not None and held.size == size
                raise
            hasher = BoundedHasher(size)
            # the StreamingBody itself, not what `async with` yields: in aiobotocore 2.x
            # (2.13 among them) that is the raw aiohttp response, without iter_chunks
            body = obj["Body"]
            async with body:
                if obj["ContentLength"] == size:
                    async for chunk in body.iter_chunks(HASH_CHUNK):
                        if not hasher.update(chunk):
                            break
            verified = hasher.matches(sha256)
            if verified and await self.head(blob_key(sha256)) is None:
                verified = await self._copy_verified(obj, source, blob_key(sha256))
        return verified

    async def _copy_verified(self, obj: GetObjectOutputTypeDef, source: str, dest_key: str) -> bool:
        # Copy exactly the object we hashed: by version where the bucket keeps them, and
        # by ETag otherwise, so a re-upload racing with us cannot slip in other bytes.
        copy_source: CopySourceTypeDef = {"Bucket": self.bucket, "Key": source}
        if obj.get("VersionId") not in (None, "null"):
            copy_source["VersionId"] = obj["VersionId"]
        try:
            await self._client.copy_object(
                Bucket=self.bucket,
                Key=self._full(dest_key),
                CopySource=copy_source,
                CopySourceIfMatch=obj["ETag"],
            )
        except ClientError as exc:
            if error_code(exc) in {"PreconditionFailed", *MISSING_CODES}:
                return False
            raise
        return True

    async def has_blob(self, sha256: str) -> bool:
        return await self.head(blob_key(sha256)) is not None

    async def download_url(self, sha256: str, *, filename: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": self._full(blob_key(sha256))}
        if filename:
            params["ResponseContentDisposition"] = attachment_disposition(filename)
        with unavailable_on_failure("presigning a download"):
            return await self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=self.url_ttl_seconds
            )

    async def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        with unavailable_on_failure(f"reading {key}"):
            try:
                meta = await self._client.head_object(Bucket=self.bucket, Key=self._full(key))
            except ClientError as exc:
                if error_code(exc) in MISSING_CODES:
                    return None
                raise
        return ObjectInfo(key, meta["ContentLength"], meta["LastModified"])

    async def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            check_key(key)
        await self._delete_full([self._full(key) for key in keys])

    async def _delete_full(self, full_keys: Sequence[str]) -> None:
        for start in range(0, len(full_keys), self.delete_batch_size):
            batch = full_keys[start : start + self.delete_batch_size]
            with unavailable_on_failure("deleting objects"):
                result = await self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            # Missing keys are not errors in S3; what is left here (access denied,
            # throttling) is for the caller to retry later.
            if errors := result.get("Errors"):
                first = errors[0]
                raise StoreUnavailable(
                    f"could not delete {len(errors)} objects, e.g. {first.get('Key')}: "
                    f"{first.get('Code')} {first.get('Message')}"
                )

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        check_prefix(prefix)
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket,
            Prefix=self._full(prefix),
            PaginationConfig={"PageSize": self.list_page_size},
        )
        with unavailable_on_failure(f"listing {prefix}"):
            async for page in pages:
                for item in page.get("Contents", []):
                    yield ObjectInfo(self._logical(item["Key"]), item["Size"], item["LastModified"])

    async def check(self) -> None:
        try:
            with unavailable_on_failure(f"bucket {self.bucket}"):
                await self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            # A missing bucket or refused credentials leave the store just as unusable.
            raise StoreUnavailable(f"bucket {self.bucket}: {error_code(exc)}") from exc

    async def close(self) -> None:
        await self._exit_stack.aclose()
