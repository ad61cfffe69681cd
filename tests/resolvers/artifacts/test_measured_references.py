"""References the client measured with its own credentials (etag, versionId, size on the
entry input): recorded as given, without the server reading the object."""

from __future__ import annotations

from typing import Any

from tests.fixtures.artifacts import LOG, artifact_path, entries, new_run
from tests.fixtures.service import Api

ETAG = "0123456789abcdef0123456789abcdef"


async def log(api: Api, key: str, run: str, entry: dict[str, Any]) -> dict[str, Any]:
    variables = {"input": {"run": run, "name": "refs", "type": "table", "entries": [entry]}}
    return await api.gql(LOG, variables, key=key)


async def test_measured_reference_is_recorded_as_given(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    # a bucket no S3 server has: the server must not try to read it
    uri = "s3://nowhere-bucket-for-lineage-tests/tables/a.csv"
    entry = {"path": "a.csv", "ref": uri, "etag": f'"{ETAG}"', "versionId": "v-42", "size": 7}

    body = await log(api, user.key, run, entry)

    assert "errors" not in body, body
    payload = body["data"]["logArtifact"]
    assert payload["artifact"]["state"] == "COMMITTED"
    assert payload["artifact"]["size"] == 7
    found = await entries(api, user.key, artifact_path(run, "refs", "latest"), first=10)
    (node,) = [e["node"] for e in found["edges"]]
    assert node["ref"] == uri
    assert node["digest"] == ETAG  # the ETag as the digest, quotes dropped
    assert node["size"] == 7
    assert node["extra"] == {"etag": ETAG, "versionID": "v-42"}


async def test_unversioned_measured_reference_has_no_version_id(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    uri = "s3://nowhere-bucket-for-lineage-tests/b.csv"
    body = await log(api, user.key, run, {"path": "b", "ref": uri, "etag": ETAG, "size": 1})
    assert "errors" not in body, body
    found = await entries(api, user.key, artifact_path(run, "refs", "latest"), first=10)
    assert found["edges"][0]["node"]["extra"] == {"etag": ETAG}


async def test_etag_on_a_prefix_is_bad_input(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    body = await log(
        api, user.key, run, {"path": "t", "ref": "s3://some-bucket/tables/", "etag": ETAG}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "is a prefix" in body["errors"][0]["message"]
    assert not body.get("data")
