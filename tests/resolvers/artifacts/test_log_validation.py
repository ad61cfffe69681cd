"""logArtifact input checks: paths, digests, sizes, metadata, names, types, TTLs.

Every refusal is BAD_USER_INPUT (CONFLICT for a type clash) and leaves nothing behind: no
collection, no version. Validation never reaches the store, so the folder store will do.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.artifacts import content, download_all, log_and_commit, new_run, sha, versions
from tests.fixtures.service import Api

LOG = """mutation($i: LogArtifactInput!) { logArtifact(input: $i) { artifact { state } } }"""
COLLECTION = """query($e: String!, $p: String!, $n: String!) {
  project(entity: $e, name: $p) { artifactCollection(name: $n) { name type } } }"""

GOOD = {"path": "ok.txt", "digest": "a" * 64, "size": 3}


async def refused(api: Api, key: str, run: str, code: str = "BAD_USER_INPUT", **fields: Any) -> str:
    """Log with these input fields; assert the error code and that nothing was made."""
    name = fields.pop("name", "ds")
    inp = {"run": run, "name": name, "type": "dataset", "entries": [GOOD], **fields}
    body = await api.gql(LOG, {"i": inp}, key=key)
    assert body.get("errors"), body
    error = body["errors"][0]
    assert error["extensions"]["code"] == code, error
    assert "Traceback" not in error["message"]
    assert "SELECT" not in error["message"]
    entity, project, _ = run.split("/")
    if code == "BAD_USER_INPUT":
        data = await api.ok(COLLECTION, {"e": entity, "p": project, "n": name}, key=key)
        assert data["project"]["artifactCollection"] is None
    return str(error["message"])


BAD_PATHS = {
    "dotdot": "../x",
    "inner-dotdot": "a/../x",
    "trailing-dotdot": "a/..",
    "dot": "./x",
    "absolute": "/abs",
    "empty-segment": "a//b",
    "trailing-slash": "a/",
    "empty": "",
    "tab": "a\tb",
    "newline": "a\nb",
    "carriage-return": "a\rb",
    "nul": "a\x00b",
    "too-long": "x" * 1025,
    "too-long-bytes": "é" * 513,  # 1026 bytes in UTF-8
}


@pytest.mark.parametrize("path", BAD_PATHS.values(), ids=BAD_PATHS.keys())
async def test_bad_manifest_paths_are_refused(api: Api, make_user: Any, path: str) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    await refused(api, user.key, run, entries=[GOOD, {**GOOD, "path": path, "digest": "b" * 64}])
    # as a reference entry's path too
    await refused(
        api, user.key, run, entries=[{"path": path, "ref": "s3://bucket/key", "checksum": False}]
    )


async def test_longest_path_and_odd_characters_are_fine(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    data = content()
    files = {
        "x" * 1024: data,
        "é" * 512: data,
        "sp ace/quo'te\"/back\\slash/?#%": data,
        "...": data,
    }
    committed = await log_and_commit(api, user.key, run, "ds", files)
    assert committed["state"] == "COMMITTED"
    assert committed["fileCount"] == 4
    path = f"{run.rsplit('/', 1)[0]}/ds:v0"
    assert await download_all(api, user.key, path) == files


async def test_duplicate_paths_are_refused(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    message = await refused(api, user.key, run, entries=[GOOD, {**GOOD, "digest": "b" * 64}])
    assert "ok.txt" in message
    # a stored entry and a reference at the same path clash as well
    await refused(
        api, user.key, run, entries=[GOOD, {"path": "ok.txt", "ref": "s3://b/k", "checksum": False}]
    )


BAD_DIGESTS = {
    "missing": None,
    "short": "a" * 63,
    "long": "a" * 65,
    "not-hex": "g" * 64,
    "md5": "d41d8cd98f00b204e9800998ecf8427e",
    "spaces": " " + "a" * 63,
    "empty": "",
}


@pytest.mark.parametrize("digest", BAD_DIGESTS.values(), ids=BAD_DIGESTS.keys())
async def test_bad_digests_are_refused(api: Api, make_user: Any, digest: str | None) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    message = await refused(
        api, user.key, run, entries=[{"path": "f", "digest": digest, "size": 1}]
    )
    assert "'f'" in message


@pytest.mark.parametrize("size", [-1, -(2**40), None])
async def test_negative_or_missing_sizes_are_refused(
    api: Api, make_user: Any, size: int | None
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    await refused(api, user.key, run, entries=[{"path": "f", "digest": "c" * 64, "size": size}])


async def test_one_digest_with_two_sizes_is_refused(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    entries = [
        {"path": "a", "digest": "d" * 64, "size": 1},
        {"path": "b", "digest": "d" * 64, "size": 2},
    ]
    await refused(api, user.key, run, entries=entries)


@pytest.mark.parametrize(
    "metadata", [[1, 2], "text", 3, True], ids=["list", "string", "number", "bool"]
)
async def test_metadata_must_be_an_object(api: Api, make_user: Any, metadata: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    assert "metadata" in await refused(api, user.key, run, metadata=metadata)


async def test_metadata_over_one_mib_is_refused(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    await refused(api, user.key, run, metadata={"blob": "x" * (1 << 20)})
    # just under the limit is fine
    fits = {"blob": "x" * ((1 << 20) - 20)}
    committed = await log_and_commit(api, user.key, run, "ds", {"f": content()}, metadata=fits)
    assert committed["metadata"] == fits


async def test_a_name_logged_with_another_type_is_a_conflict(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    await log_and_commit(api, user.key, run, "ds", {"f": content()}, type="dataset")
    data = content()
    entries = [{"path": "g", "digest": sha(data), "size": len(data)}]
    message = await refused(api, user.key, run, "CONFLICT", type="model", entries=entries)
    assert "dataset" in message
    assert [v["version"] for v in await versions(api, user.key, run, "ds")] == ["v0"]


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "bad/name"},
        {"name": "bad:name"},
        {"name": ""},
        {"name": "n" * 129},
        {"type": "bad type"},
        {"type": ""},
        {"ttlDurationSeconds": -1},
        {"run": "not-a-run-path"},
    ],
    ids=[
        "slash",
        "colon",
        "empty-name",
        "long-name",
        "space-type",
        "empty-type",
        "negative-ttl",
        "bad-run",
    ],
)
async def test_bad_names_types_and_ttls_are_refused(
    api: Api, make_user: Any, fields: dict[str, Any]
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    inp = {"run": run, "name": "ds", "type": "dataset", "entries": [GOOD], **fields}
    assert await api.error(LOG, {"i": inp}, key=user.key) == "BAD_USER_INPUT"


async def test_unknown_run_is_not_found(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    entity, project, _ = run.split("/")
    assert await refused(api, user.key, f"{entity}/{project}/nosuchrun", "NOT_FOUND")
