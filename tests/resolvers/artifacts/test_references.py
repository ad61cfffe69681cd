"""Reference entries on a versioned moto bucket, through logArtifact and manifest entries.

Every test here runs the service with its buckets in LINEAGE_REFERENCE_BUCKETS, so the
server reads and signs them (tests/security/test_references.py covers the rest)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from server.settings import Settings
from tests.fixtures.artifacts import (
    LOG,
    StoreApi,
    api_reading,
    artifact_path,
    content,
    entries,
    get,
    log_and_commit,
    new_run,
    versions,
)
from tests.fixtures.service import Api

MISSING_BUCKET = "no-such-bucket-here-at-all"


@pytest.fixture
def settings(settings: Settings, versioned_bucket: str, s3_bucket: str) -> Settings:
    """The session's settings with this test's buckets allowed (store_api uses them too)."""
    return dataclasses.replace(
        settings, reference_buckets=(versioned_bucket, s3_bucket, MISSING_BUCKET)
    )


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with api_reading(settings, *settings.reference_buckets) as running:
        yield running


if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client


def ref(path: str, uri: str, checksum: bool = True) -> dict[str, Any]:
    return {"path": path, "ref": uri, "checksum": checksum}


async def log_refs(
    api: Api, key: str, run: str, name: str, entry_list: list[dict[str, Any]]
) -> dict[str, Any]:
    data = await api.ok(
        LOG,
        {"input": {"run": run, "name": name, "type": "dataset", "entries": entry_list}},
        key=key,
    )
    return data["logArtifact"]  # type: ignore[no-any-return]


async def nodes(
    api: Api, key: str, run: str, name: str, spec: str = "latest", **args: Any
) -> dict[str, Any]:
    found = await entries(api, key, artifact_path(run, name, spec), first=1000, **args)
    return {e["node"]["path"]: e["node"] for e in found["edges"]}


async def test_recorded_version_downloads_after_overwrite(
    api: Api, make_user: Any, s3_client: S3Client, versioned_bucket: str
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    original = content("original")
    put = await s3_client.put_object(Bucket=versioned_bucket, Key="data/train.csv", Body=original)
    uri = f"s3://{versioned_bucket}/data/train.csv"

    payload = await log_refs(api, user.key, run, "refs", [ref("train.csv", uri)])
    assert payload["uploads"] == []
    assert payload["artifact"]["state"] == "COMMITTED"
    assert payload["artifact"]["size"] == len(original)
    assert payload["artifact"]["fileCount"] == 1
    etag = hashlib.md5(original).hexdigest()  # a single-part upload's ETag
    (entry,) = (await nodes(api, user.key, run, "refs")).values()
    assert entry["ref"] == uri
    assert entry["digest"] == etag
    assert entry["size"] == len(original)
    assert entry["extra"] == {"etag": etag, "versionID": put["VersionId"]}

    await s3_client.put_object(Bucket=versioned_bucket, Key="data/train.csv", Body=b"replaced")
    (entry,) = (await nodes(api, user.key, run, "refs")).values()  # a fresh URL
    response = await get(entry["downloadUrl"], api)
    assert response.status_code == 200
    assert response.content == original

    # logging the reference again sees the new object: a new version
    again = await log_refs(api, user.key, run, "refs", [ref("train.csv", uri)])
    assert again["deduplicated"] is False
    assert again["artifact"]["version"] == "v1"
    (entry,) = (await nodes(api, user.key, run, "refs", "v1")).values()
    assert entry["extra"]["versionID"] != put["VersionId"]
    assert (await get(entry["downloadUrl"], api)).content == b"replaced"
    # and the unchanged object logged once more deduplicates
    same = await log_refs(api, user.key, run, "refs", [ref("train.csv", uri)])
    assert same["deduplicated"] is True
    assert same["artifact"]["version"] == "v1"


async def test_prefix_expands_to_one_entry_per_object(
    api: Api, make_user: Any, s3_client: S3Client, versioned_bucket: str
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    bodies = {"a.txt": content("a"), "b/c.txt": content("c"), "b/d/e.bin": content("e")}
    put_ids = {}
    for rel, body in bodies.items():
        put = await s3_client.put_object(Bucket=versioned_bucket, Key=f"set/{rel}", Body=body)
        put_ids[rel] = put["VersionId"]
    await s3_client.put_object(Bucket=versioned_bucket, Key="setx/outside.txt", Body=b"no")
    await s3_client.put_object(Bucket=versioned_bucket, Key="other/outside.txt", Body=b"no")

    payload = await log_refs(
        api, user.key, run, "tree", [ref("data", f"s3://{versioned_bucket}/set/")]
    )
    assert payload["artifact"]["fileCount"] == 3
    assert payload["artifact"]["size"] == sum(len(b) for b in bodies.values())
    found = await nodes(api, user.key, run, "tree")
    assert sorted(found) == [f"data/{rel}" for rel in sorted(bodies)]
    for rel, body in bodies.items():
        entry = found[f"data/{rel}"]
        assert entry["ref"] == f"s3://{versioned_bucket}/set/{rel}"
        assert entry["extra"]["versionID"] == put_ids[rel]
        assert entry["digest"] == hashlib.md5(body).hexdigest()
        assert entry["size"] == len(body)
        await s3_client.put_object(Bucket=versioned_bucket, Key=f"set/{rel}", Body=b"overwritten")
        assert (await get(entry["downloadUrl"], api)).content == body
    # prefix filtering of the expanded entries
    assert sorted(await nodes(api, user.key, run, "tree", prefix="data/b/")) == [
        "data/b/c.txt",
        "data/b/d/e.bin",
    ]


async def test_checksum_off_records_the_uri_only(
    api: Api, make_user: Any, s3_client: S3Client, versioned_bucket: str
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    uri = f"s3://{versioned_bucket}/later.bin"  # need not exist yet
    payload = await log_refs(api, user.key, run, "lazy", [ref("later.bin", uri, checksum=False)])
    assert payload["artifact"]["state"] == "COMMITTED"
    assert payload["artifact"]["size"] == 0
    (entry,) = (await nodes(api, user.key, run, "lazy")).values()
    assert entry["digest"] == uri
    assert entry["ref"] == uri
    assert entry["size"] is None
    assert entry["extra"] == {}
    await s3_client.put_object(Bucket=versioned_bucket, Key="later.bin", Body=b"now it exists")
    assert (await get(entry["downloadUrl"], api)).content == b"now it exists"


@pytest.mark.parametrize("key", ["missing.bin", "missing-prefix/"], ids=["object", "empty-prefix"])
async def test_missing_object_is_bad_input_naming_the_uri(
    api: Api, make_user: Any, versioned_bucket: str, key: str
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    uri = f"s3://{versioned_bucket}/{key}"
    body = await api.gql(
        LOG,
        {"input": {"run": run, "name": "r", "type": "t", "entries": [ref("x", uri)]}},
        key=user.key,
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert uri in error["message"]
    assert await versions(api, user.key, run, "r") == []


async def test_missing_bucket_is_bad_input_naming_the_uri(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    uri = f"s3://{MISSING_BUCKET}/x.bin"
    body = await api.gql(
        LOG,
        {"input": {"run": run, "name": "r", "type": "t", "entries": [ref("x", uri)]}},
        key=user.key,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert uri in body["errors"][0]["message"]


@pytest.mark.parametrize("uri", ["http://example.com/x", "s3://", "s3://a/k", "gs://bucket/key"])
async def test_malformed_reference_uris_are_bad_input(api: Api, make_user: Any, uri: str) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    body = await api.gql(
        LOG,
        {"input": {"run": run, "name": "r", "type": "t", "entries": [ref("x", uri)]}},
        key=user.key,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_stored_files_and_references_in_one_version(
    store_api: StoreApi, make_user: Any, s3_client: S3Client, versioned_bucket: str
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    external = content("external")
    await s3_client.put_object(Bucket=versioned_bucket, Key="ext.bin", Body=external)
    local = content("local")
    files = {"local.txt": local}
    extra_entries = [
        {"path": "local.txt", "digest": hashlib.sha256(local).hexdigest(), "size": len(local)},
        ref("ext.bin", f"s3://{versioned_bucket}/ext.bin"),
    ]
    committed = await log_and_commit(
        store_api, user.key, run, "mixed", files, entries=extra_entries
    )
    assert committed["version"] == "v0"
    assert committed["fileCount"] == 2
    found = await nodes(store_api, user.key, run, "mixed")
    assert found["local.txt"]["ref"] is None
    assert (await get(found["local.txt"]["downloadUrl"], store_api)).content == local
    assert (await get(found["ext.bin"]["downloadUrl"], store_api)).content == external


def plant_objects(bucket: str, keys: list[str]) -> None:
    """Put objects straight into the moto server's (in-process) backend: arranging 10,000
    objects through its HTTP API would take over a minute."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for key in keys:
        backend.put_object(bucket, key, key.encode())


async def test_a_prefix_expands_to_at_most_ten_thousand_objects(
    api: Api, make_user: Any, s3_bucket: str
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    plant_objects(s3_bucket, [f"big/{i:05d}" for i in range(10_000)])
    uri = f"s3://{s3_bucket}/big/"
    payload = await log_refs(api, user.key, run, "big", [ref("d", uri)])
    assert payload["artifact"]["fileCount"] == 10_000

    plant_objects(s3_bucket, ["big/one-more"])
    body = await api.gql(
        LOG,
        {"input": {"run": run, "name": "big", "type": "dataset", "entries": [ref("d", uri)]}},
        key=user.key,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert uri in body["errors"][0]["message"]
    assert [v["version"] for v in await versions(api, user.key, run, "big")] == ["v0"]
