"""S3 reference entries, read from a real (moto) S3 server."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest

from server.domain.references import BucketScope, ReferencePolicy
from server.storage.references import ReferenceError, ReferenceResolver, ResolvedRef

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client


@pytest.fixture
async def resolver(
    moto_server: str, versioned_bucket: str, s3_bucket: str
) -> AsyncIterator[ReferenceResolver]:
    allowed = (versioned_bucket, s3_bucket, "test-no-such-bucket", "bucket")
    policy = ReferencePolicy(allowed=tuple(BucketScope(b) for b in allowed))
    resolver = await ReferenceResolver.create(
        endpoint_url=moto_server, policy=policy, list_page_size=2
    )
    yield resolver
    await resolver.close()


async def fetch(url: str) -> bytes:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    return response.content


async def test_single_object_records_version_and_etag(
    resolver: ReferenceResolver, s3_client: S3Client, versioned_bucket: str
) -> None:
    put = await s3_client.put_object(Bucket=versioned_bucket, Key="data/train.csv", Body=b"v1")
    uri = f"s3://{versioned_bucket}/data/train.csv"

    [ref] = await resolver.resolve(uri, checksum=True)

    etag = hashlib.md5(b"v1").hexdigest()  # a single-part upload's ETag
    assert ref == ResolvedRef("", uri, etag, 2, {"etag": etag, "versionID": put["VersionId"]})

    await s3_client.put_object(Bucket=versioned_bucket, Key="data/train.csv", Body=b"v2 longer")
    assert await fetch(await resolver.download_url(uri, ref.extra["versionID"])) == b"v1"
    assert await fetch(await resolver.download_url(uri, None)) == b"v2 longer"


async def test_unversioned_bucket_records_no_version(
    resolver: ReferenceResolver, s3_client: S3Client, s3_bucket: str
) -> None:
    await s3_client.put_object(Bucket=s3_bucket, Key="model.bin", Body=b"weights")
    [ref] = await resolver.resolve(f"s3://{s3_bucket}/model.bin", checksum=True)
    assert ref.extra == {"etag": ref.digest}
    assert ref.size == 7


@pytest.mark.parametrize("versioned", [True, False])
async def test_prefix_expands_to_every_object_below_it(
    resolver: ReferenceResolver,
    s3_client: S3Client,
    s3_bucket: str,
    versioned_bucket: str,
    versioned: bool,
) -> None:
    bucket = versioned_bucket if versioned else s3_bucket
    bodies = {"ds/a.txt": b"a", "ds/sub/b.txt": b"bb", "ds/sub/c.txt": b"ccc"}
    versions = {}
    for key, body in bodies.items():
        versions[key] = (await s3_client.put_object(Bucket=bucket, Key=key, Body=body)).get(
            "VersionId"
        )
    await s3_client.put_object(Bucket=bucket, Key="ds/sub/", Body=b"")  # "folder" marker
    await s3_client.put_object(Bucket=bucket, Key="dsx/not-below.txt", Body=b"x")
    await s3_client.put_object(Bucket=bucket, Key="ds/a.txt", Body=b"a2")  # newer version

    refs = await resolver.resolve(f"s3://{bucket}/ds/", checksum=True)

    assert [(r.relpath, r.uri, r.size) for r in refs] == [
        ("a.txt", f"s3://{bucket}/ds/a.txt", 2),
        ("sub/b.txt", f"s3://{bucket}/ds/sub/b.txt", 2),
        ("sub/c.txt", f"s3://{bucket}/ds/sub/c.txt", 3),
    ]
    assert all(r.digest == r.extra["etag"] for r in refs)
    assert refs[0].digest == hashlib.md5(b"a2").hexdigest()
    if versioned:
        assert refs[1].extra["versionID"] == versions["ds/sub/b.txt"]
        assert refs[0].extra["versionID"] != versions["ds/a.txt"]  # the current one
        assert (
            await fetch(await resolver.download_url(refs[0].uri, refs[0].extra["versionID"]))
            == b"a2"
        )
    else:
        assert all("versionID" not in r.extra for r in refs)


async def test_checksum_off_records_only_the_uri(
    resolver: ReferenceResolver, s3_bucket: str
) -> None:
    uri = f"s3://{s3_bucket}/not/read/at/all.bin"
    assert await resolver.resolve(uri, checksum=False) == [ResolvedRef("", uri, uri, None, {})]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing.bin", "does not exist"),
        ("empty/", "matches no objects"),
    ],
)
async def test_missing_objects_name_the_uri(
    resolver: ReferenceResolver, versioned_bucket: str, path: str, message: str
) -> None:
    uri = f"s3://{versioned_bucket}/{path}"
    with pytest.raises(ReferenceError, match=f"reference {uri} {message}"):
        await resolver.resolve(uri, checksum=True)


async def test_missing_bucket_names_the_uri(resolver: ReferenceResolver) -> None:
    for uri in ["s3://test-no-such-bucket/key", "s3://test-no-such-bucket/prefix/"]:
        with pytest.raises(ReferenceError, match=f"reference {uri} does not exist"):
            await resolver.resolve(uri, checksum=True)


async def test_too_many_objects(
    resolver: ReferenceResolver, s3_client: S3Client, versioned_bucket: str
) -> None:
    for i in range(5):
        await s3_client.put_object(Bucket=versioned_bucket, Key=f"many/{i}", Body=b"")
    uri = f"s3://{versioned_bucket}/many/"

    with pytest.raises(ReferenceError, match=f"reference {uri} has more than 4 objects"):
        await resolver.resolve(uri, checksum=True, max_objects=4)
    assert len(await resolver.resolve(uri, checksum=True, max_objects=5)) == 5


@pytest.mark.parametrize(
    "uri", ["https://example.com/x", "gs://bucket/x", "s3:/bucket/x", "s3://", "s3://a/x"]
)
@pytest.mark.parametrize("checksum", [True, False])
async def test_only_s3_uris_are_references(
    resolver: ReferenceResolver, uri: str, checksum: bool
) -> None:
    with pytest.raises(ReferenceError, match="reference"):
        await resolver.resolve(uri, checksum=checksum)


async def test_download_url_needs_one_object(resolver: ReferenceResolver) -> None:
    with pytest.raises(ReferenceError, match="prefix"):
        await resolver.download_url("s3://bucket/prefix/", None)
