"""Reference entries: objects in S3 buckets the service points at but does not store.

Reading a reference records what the object is now (ETag, size, version id) so that a
later ``download_url`` returns exactly that object version, not whatever replaced it.
Every read and every signature is for a location the ``ReferencePolicy`` allows
(server/domain/references.py): the server's credentials never serve anything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError, NoCredentialsError

from server.domain.references import (
    ReferenceError,
    ReferencePolicy,
    S3Location,
    parse_s3_uri,
)
from server.storage.s3 import MISSING_CODES, error_code, open_s3_client, unavailable_on_failure

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import HeadObjectOutputTypeDef

__all__ = ["ReferenceError", "ReferenceResolver", "ResolvedRef"]


@dataclass(frozen=True)
class ResolvedRef:
    relpath: str  # "" for a single object; the key below the prefix for a prefix
    uri: str
    digest: str
    size: int | None
    extra: dict[str, str] = field(default_factory=dict)


class ReferenceResolver:
    """Reads S3 references with the server's own credentials and endpoint settings, in
    the locations ``policy`` allows and nowhere else."""

    def __init__(
        self,
        client: S3Client,
        exit_stack: AsyncExitStack,
        policy: ReferencePolicy,
        url_ttl_seconds: int = 3600,
        *,
        head_concurrency: int = 16,
        list_page_size: int = 1000,
    ) -> None:
        self.policy = policy
        self.url_ttl_seconds = url_ttl_seconds
        self.head_concurrency = head_concurrency
        self.list_page_size = list_page_size
        self._client = client
        self._exit_stack = exit_stack

    @classmethod
    async def create(
        cls,
        *,
        endpoint_url: str | None,
        policy: ReferencePolicy,
        url_ttl_seconds: int = 3600,
        list_page_size: int = 1000,
    ) -> ReferenceResolver:
        client, stack = await open_s3_client(endpoint_url)
        return cls(client, stack, policy, url_ttl_seconds, list_page_size=list_page_size)

    def _readable(self, uri: str) -> S3Location:
        location = parse_s3_uri(uri)
        if not self.policy.may_read(location):
            raise ReferenceError(
                f"reference {uri[:200]} is outside the buckets this server may read "
                "(LINEAGE_REFERENCE_BUCKETS)"
            )
        return location

    async def resolve(
        self,
        uri: str,
        checksum: bool,
        *,
        version_id: str | None = None,
        max_objects: int = 10_000,
    ) -> list[ResolvedRef]:
        """What ``uri`` names now (``version_id``: that version of one object)."""
        location = self._readable(uri)
        bucket, key = location.bucket, location.key
        if not checksum:
            return [ResolvedRef("", uri, uri, None, {})]
        with unavailable_on_failure(f"reading {uri}"), _no_credentials(uri):
            if not location.is_prefix:
                return [_from_head(uri, await self._head(uri, bucket, key, version_id))]
            return await self._expand(uri, bucket, key, max_objects)

    async def _head(
        self, uri: str, bucket: str, key: str, version_id: str | None = None
    ) -> HeadObjectOutputTypeDef:
        with _reference_errors(uri):
            if version_id is not None:
                return await self._client.head_object(Bucket=bucket, Key=key, VersionId=version_id)
            return await self._client.head_object(Bucket=bucket, Key=key)

    async def _expand(
        self, uri: str, bucket: str, prefix: str, max_objects: int
    ) -> list[ResolvedRef]:
        versioned = await self._bucket_versioned(uri, bucket)
        refs: list[ResolvedRef] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": self.list_page_size}
        )
        with _reference_errors(uri):
            async for page in pages:
                for item in page.get("Contents", []):
                    if item["Key"].endswith("/"):
                        continue  # a console "folder" marker, not content
                    if len(refs) >= max_objects:
                        raise ReferenceError(
                            f"reference {uri} has more than {max_objects} objects; "
                            "use a narrower prefix"
                        )
                    etag = item["ETag"].strip('"')
                    refs.append(
                        ResolvedRef(
                            item["Key"][len(prefix) :],
                            f"s3://{bucket}/{item['Key']}",
                            etag,
                            item["Size"],
                            {"etag": etag},
                        )
                    )
        if not refs:
            raise ReferenceError(f"reference {uri} matches no objects")
        if versioned is False:
            return refs
        return await self._with_current_versions(bucket, refs)

    async def _bucket_versioned(self, uri: str, bucket: str) -> bool | None:
        """True/False, or None when we may not ask (then every object is HEADed)."""
        try:
            status = await self._client.get_bucket_versioning(Bucket=bucket)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
                return None
            with _reference_errors(uri):
                raise
        return status.get("Status") in ("Enabled", "Suspended")

    async def _with_current_versions(
        self, bucket: str, refs: list[ResolvedRef]
    ) -> list[ResolvedRef]:
        # A HEAD per object rather than ListObjectVersions: the HEAD answers size, ETag
        # and version id from one snapshot of the object (a listing followed by a lookup
        # could pair one version's ETag with another's id); it needs only s3:GetObject,
        # which downloads need anyway, where ListBucketVersions is often not granted; and
        # ListObjectVersions pages through every noncurrent version too, however many.
        results: list[ResolvedRef | None] = [None] * len(refs)
        todo: Iterator[tuple[int, ResolvedRef]] = iter(enumerate(refs))

        async def worker() -> None:
            for index, ref in todo:  # shared iterator: each ref is taken once
                head = await self._head(ref.uri, bucket, parse_s3_uri(ref.uri).key)
                results[index] = _from_head(ref.uri, head, relpath=ref.relpath)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.head_concurrency, len(refs))):
                    group.create_task(worker())
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return [ref for ref in results if ref is not None]

    async def download_url(self, uri: str, version_id: str | None) -> str:
        location = self._readable(uri)
        if location.is_prefix:
            raise ReferenceError(f"reference {uri} is a prefix, not one object")
        params = {"Bucket": location.bucket, "Key": location.key}
        if version_id:
            params["VersionId"] = version_id
        with unavailable_on_failure(f"presigning {uri}"), _no_credentials(uri):
            return await self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=self.url_ttl_seconds
            )

    async def close(self) -> None:
        await self._exit_stack.aclose()


def _from_head(uri: str, head: HeadObjectOutputTypeDef, relpath: str = "") -> ResolvedRef:
    etag = head["ETag"].strip('"')
    extra = {"etag": etag}
    version_id = head.get("VersionId")
    if version_id and version_id != "null":  # "null": written while versioning was off
        extra["versionID"] = version_id
    return ResolvedRef(relpath, uri, etag, head["ContentLength"], extra)


@contextmanager
def _no_credentials(uri: str) -> Iterator[None]:
    """No credentials is the operator's configuration, not an outage: retrying will not
    help, so it is not UNAVAILABLE (``/readyz`` and the start-up log say it too)."""
    try:
        yield
    except NoCredentialsError:
        raise ReferenceError(
            f"this server has no S3 credentials to read {uri[:200]}: ask its operator to "
            "configure them"
        ) from None


@contextmanager
def _reference_errors(uri: str) -> Iterator[None]:
    """Give S3's answers about the client's URI a message naming it.

    Anything else (5xx, connection failures) passes on to unavailable_on_failure.
    """
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in MISSING_CODES or error_code(exc) == "NoSuchBucket":
            raise ReferenceError(f"reference {uri} does not exist") from exc
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            raise ReferenceError(
                f"reference {uri} is not readable with the server's credentials"
            ) from exc
        raise
