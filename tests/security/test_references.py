"""Reference entries never read or sign storage with the server's credentials unless an
operator allowed that bucket (LINEAGE_REFERENCE_BUCKETS), and never the service's own
blob store. The probe logged ``s3://<the service's bucket>/<prefix>/blobs/`` and got a
signed download of every project's blobs."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING, Any

import pytest

from server.settings import Settings
from tests.fixtures.artifacts import (
    LOG,
    api_reading,
    artifact_path,
    content,
    entries,
    get,
    log_and_commit,
    new_run,
    versions,
)
from tests.fixtures.service import Api, running_api

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client


def ref(path: str, uri: str, **measured: Any) -> dict[str, Any]:
    return {"path": path, "ref": uri, **measured}


async def log_refs(api: Api, key: str, run: str, name: str, refs: list[dict[str, Any]]) -> Any:
    variables = {"input": {"run": run, "name": name, "type": "dataset", "entries": refs}}
    return await api.gql(LOG, variables, key=key)


async def nodes(api: Api, key: str, run: str, name: str) -> dict[str, dict[str, Any]]:
    found = await entries(api, key, artifact_path(run, name, "latest"), first=100)
    return {e["node"]["path"]: e["node"] for e in found["edges"]}


def error_of(body: dict[str, Any]) -> tuple[str, str]:
    assert body.get("errors"), body
    error = body["errors"][0]
    return error["extensions"]["code"], error["message"]


async def test_the_services_own_blob_store_cannot_be_referenced_even_when_allowed(
    settings: Settings, make_user: Any, s3_bucket: str
) -> None:
    store_settings = dataclasses.replace(
        settings, storage_url=f"s3://{s3_bucket}/svc", reference_buckets=(s3_bucket,)
    )
    async with running_api(store_settings) as api:
        alice, bob = await make_user("alice"), await make_user("bob")
        secret = content("alice's private file")
        await log_and_commit(api, alice.key, await new_run(api, alice.key), "d", {"s": secret})
        digest = hashlib.sha256(secret).hexdigest()
        run = await new_run(api, bob.key)
        own = [
            f"s3://{s3_bucket}/svc/blobs/",
            f"s3://{s3_bucket}/svc/blobs/{digest[:2]}/{digest[2:4]}/{digest}",
            f"s3://{s3_bucket}/svc/",
            f"s3://{s3_bucket}/",
            f"s3://{s3_bucket}",
            f"s3://{s3_bucket.upper()}/svc/blobs/",
        ]
        for uri in own:
            for checksum in (True, False):
                body = await log_refs(
                    api, bob.key, run, "loot", [ref("loot", uri, checksum=checksum)]
                )
                code, message = error_of(body)
                assert code == "BAD_USER_INPUT", (uri, body)
                assert "own blob store" in message
        assert await versions(api, bob.key, run, "loot") == []
        # the rest of the bucket is an ordinary allowed reference
        assert "errors" not in await log_refs(
            api,
            bob.key,
            run,
            "other",
            [ref("x", f"s3://{s3_bucket}/elsewhere.bin", checksum=False)],
        )


async def test_an_unlisted_bucket_is_never_read_and_its_download_url_is_null(
    api: Api, make_user: Any, s3_client: S3Client, versioned_bucket: str
) -> None:
    """The session's service allows no bucket: what the client measured is recorded as
    given, and nothing the server's credentials could read comes back."""
    bob = await make_user("bob")
    run = await new_run(api, bob.key)
    payroll = b"name,salary\nalice,1000000\n"
    put = await s3_client.put_object(Bucket=versioned_bucket, Key="hr/payroll.csv", Body=payroll)
    uri = f"s3://{versioned_bucket}/hr/payroll.csv"

    body = await log_refs(api, bob.key, run, "plain", [ref("payroll.csv", uri)])
    assert body["data"]["logArtifact"]["artifact"]["state"] == "COMMITTED"
    entry = (await nodes(api, bob.key, run, "plain"))["payroll.csv"]
    # not HEADed: no size, no ETag, no version id the server could only have read
    assert entry == {"path": "payroll.csv", "digest": uri, "size": None, "ref": uri,
                     "extra": {}, "downloadUrl": None}  # fmt: skip

    measured = ref("p.csv", uri, etag='"abc123-2"', versionId="v-given", size=7)
    await log_refs(api, bob.key, run, "measured", [measured])
    entry = (await nodes(api, bob.key, run, "measured"))["p.csv"]
    assert entry["digest"] == "abc123-2"
    assert entry["size"] == 7  # as given, not the object's real size
    assert entry["extra"] == {"etag": "abc123-2", "versionID": "v-given"}
    assert entry["downloadUrl"] is None
    assert put["VersionId"] != "v-given"


async def test_an_unlisted_prefix_cannot_be_expanded(
    api: Api, make_user: Any, s3_client: S3Client, s3_bucket: str
) -> None:
    bob = await make_user("bob")
    run = await new_run(api, bob.key)
    await s3_client.put_object(Bucket=s3_bucket, Key="secret/a.txt", Body=b"a")
    body = await log_refs(api, bob.key, run, "list", [ref("d", f"s3://{s3_bucket}/secret/")])
    code, message = error_of(body)
    assert code == "BAD_USER_INPUT"
    assert "LINEAGE_REFERENCE_BUCKETS" in message
    assert await versions(api, bob.key, run, "list") == []


async def test_an_allowed_prefix_covers_only_what_lies_below_it(
    settings: Settings, make_user: Any, s3_client: S3Client, s3_bucket: str
) -> None:
    for key in ("public/a.txt", "publicity/b.txt", "private/c.txt"):
        await s3_client.put_object(Bucket=s3_bucket, Key=key, Body=key.encode())
    async with api_reading(settings, f"{s3_bucket}/public") as api:
        user = await make_user()
        run = await new_run(api, user.key)
        refs = [ref(k.replace("/", "-"), f"s3://{s3_bucket}/{k}")
                for k in ("public/a.txt", "publicity/b.txt", "private/c.txt")]  # fmt: skip
        assert "errors" not in await log_refs(api, user.key, run, "mix", refs)
        found = await nodes(api, user.key, run, "mix")
        read = found["public-a.txt"]
        assert read["size"] == len(b"public/a.txt")
        assert (await get(read["downloadUrl"], api)).content == b"public/a.txt"
        for outside in ("publicity-b.txt", "private-c.txt"):
            assert found[outside]["size"] is None
            assert found[outside]["downloadUrl"] is None
        # expanding the allowed prefix works; expanding the whole bucket does not
        listed = [ref("all", f"s3://{s3_bucket}/public/")]
        assert "errors" not in await log_refs(api, user.key, run, "listed", listed)
        whole = await log_refs(api, user.key, run, "whole", [ref("all", f"s3://{s3_bucket}/")])
        assert error_of(whole)[0] == "BAD_USER_INPUT"


async def test_a_bucket_taken_off_the_list_is_no_longer_signed(
    api: Api, settings: Settings, make_user: Any, s3_client: S3Client, s3_bucket: str
) -> None:
    await s3_client.put_object(Bucket=s3_bucket, Key="m.bin", Body=b"model")
    user = await make_user()
    async with api_reading(settings, s3_bucket) as allowed:
        run = await new_run(allowed, user.key)
        await log_refs(allowed, user.key, run, "m", [ref("m.bin", f"s3://{s3_bucket}/m.bin")])
        assert (await nodes(allowed, user.key, run, "m"))["m.bin"]["downloadUrl"] is not None
    # the session's service (no bucket allowed) reads the same database
    entry = (await nodes(api, user.key, run, "m"))["m.bin"]
    assert entry["size"] == 5
    assert entry["downloadUrl"] is None


async def test_measurements_in_an_allowed_bucket_must_match_the_object(
    settings: Settings, make_user: Any, s3_client: S3Client, versioned_bucket: str
) -> None:
    first = await s3_client.put_object(Bucket=versioned_bucket, Key="k", Body=b"first")
    await s3_client.put_object(Bucket=versioned_bucket, Key="k", Body=b"second!")
    uri = f"s3://{versioned_bucket}/k"
    async with api_reading(settings, versioned_bucket) as api:
        user = await make_user()
        run = await new_run(api, user.key)
        wrong = await log_refs(api, user.key, run, "w", [ref("k", uri, etag="0" * 32)])
        assert error_of(wrong)[0] == "BAD_USER_INPUT"
        size = await log_refs(api, user.key, run, "w", [ref("k", uri, size=1)])
        assert error_of(size)[0] == "BAD_USER_INPUT"
        assert await versions(api, user.key, run, "w") == []
        # a measured versionId records that version, which the server then reads
        pinned = ref("k", uri, versionId=first["VersionId"], etag=first["ETag"], size=5)
        assert "errors" not in await log_refs(api, user.key, run, "pinned", [pinned])
        entry = (await nodes(api, user.key, run, "pinned"))["k"]
        assert entry["extra"]["versionID"] == first["VersionId"]
        assert (await get(entry["downloadUrl"], api)).content == b"first"


@pytest.mark.parametrize(
    "uri",
    ["s3://{b}/../{b}/x", "s3://{b}/a/./x", "s3://{b}/a/..", "s3://{b}/../other-bucket/"],
    ids=["leading-dotdot", "dot", "trailing-dotdot", "other-bucket"],
)
async def test_dot_segments_in_reference_keys_are_refused(
    settings: Settings, make_user: Any, s3_bucket: str, uri: str
) -> None:
    """A path-style request for "/allowed/../other/key" may be resolved to another bucket
    by an HTTP client or proxy on the way."""
    async with api_reading(settings, s3_bucket) as api:
        user = await make_user()
        run = await new_run(api, user.key)
        body = await log_refs(api, user.key, run, "dots", [ref("x", uri.format(b=s3_bucket))])
        assert error_of(body)[0] == "BAD_USER_INPUT"


async def test_measurements_are_for_references_only(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    stored = {"path": "f", "digest": "a" * 64, "size": 1, "etag": "x"}
    assert error_of(await log_refs(api, user.key, run, "s", [stored]))[0] == "BAD_USER_INPUT"
    bad_etag = ref("r", "s3://some-bucket/k", etag="has space")
    assert error_of(await log_refs(api, user.key, run, "s", [bad_etag]))[0] == "BAD_USER_INPUT"


async def test_missing_s3_credentials_are_a_configuration_error(
    settings: Settings,
    make_user: Any,
    s3_client: S3Client,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    async with api_reading(settings, s3_bucket) as api:
        ready = await api.http.get("/readyz")
        assert ready.status_code == 503
        assert any("no S3 credentials" in p for p in ready.json()["problems"]), ready.json()
        user = await make_user()
        run = await new_run(api, user.key)
        body = await log_refs(api, user.key, run, "k", [ref("k", f"s3://{s3_bucket}/k")])
        code, message = error_of(body)
        assert code == "BAD_USER_INPUT"  # not UNAVAILABLE: retrying will not help
        assert "credentials" in message


async def test_many_prefixes_cannot_pile_up_past_the_entry_limit(
    settings: Settings,
    make_user: Any,
    s3_client: S3Client,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The total is counted as each prefix is listed (the limit is lowered to 50 here so
    that a few small prefixes reach it), not after every listing is in memory."""
    from server.domain import versions as versions_module

    monkeypatch.setattr(versions_module, "MAX_ENTRIES", 50)
    for prefix in ("a", "b", "c"):
        for i in range(20):
            await s3_client.put_object(Bucket=s3_bucket, Key=f"{prefix}/{i}", Body=b"x")
    async with api_reading(settings, s3_bucket) as api:
        user = await make_user()
        run = await new_run(api, user.key)
        two = [ref(p, f"s3://{s3_bucket}/{p}/") for p in ("a", "b")]
        assert "errors" not in await log_refs(api, user.key, run, "two", two)
        three = [*two, ref("c", f"s3://{s3_bucket}/c/")]
        code, message = error_of(await log_refs(api, user.key, run, "three", three))
        assert code == "BAD_USER_INPUT"
        assert "in all" in message
        assert await versions(api, user.key, run, "three") == []
