"""log -> PUT -> commit -> download on both stores, PENDING invisibility, refused commits."""

from __future__ import annotations

from typing import Any

from server.storage.base import BlobStore
from tests.fixtures.artifacts import (
    ARTIFACT_FIELDS,
    COMMIT,
    StoreApi,
    artifact,
    artifact_path,
    blob_key_of,
    content,
    download_all,
    entries,
    log_and_commit,
    log_artifact,
    manifest_digest,
    new_run,
    put,
    sha,
    upload_all,
    versions,
)

NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Artifact {{ {ARTIFACT_FIELDS} }} }} }}"


async def node(api: StoreApi, key: str, id_: str) -> dict[str, Any]:
    return (await api.ok(NODE, {"id": id_}, key=key))["node"]  # type: ignore[no-any-return]


async def test_round_trip_returns_the_exact_bytes(store_api: StoreApi, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    every_byte = bytes(range(256)) * 3 + content("bin")
    big = content("big", size=(3 << 20) + 17)  # more than one hashing chunk
    same = content("same")
    files = {
        "a.txt": content("a"),
        "dir/b.bin": every_byte,
        "dir/sub/big.dat": big,
        "copy/one": same,
        "copy/two": same,
        "ünïcödé/名前.txt": content("unicode"),
    }
    payload = await log_artifact(store_api, user.key, run, "ds", files, metadata={"k": [1, 2]})
    pending = payload["artifact"]
    assert pending["state"] == "PENDING"
    assert pending["version"] is None
    assert pending["versionIndex"] is None
    # one upload per distinct content, named by the first path holding it
    assert sorted(u["path"] for u in payload["uploads"]) == sorted(set(files) - {"copy/two"})
    await upload_all(store_api, payload, files)
    committed = (await store_api.ok(COMMIT, {"id": pending["id"]}, key=user.key))["commitArtifact"]
    assert committed["id"] == pending["id"]
    assert committed["state"] == "COMMITTED"
    assert committed["version"] == "v0"
    assert committed["versionIndex"] == 0
    assert committed["aliases"] == ["latest"]
    assert committed["digest"] == manifest_digest({p: sha(b) for p, b in files.items()})
    assert committed["fileCount"] == len(files)
    assert committed["size"] == sum(len(b) for b in files.values())
    assert committed["metadata"] == {"k": [1, 2]}
    assert committed["path"] == artifact_path(run, "ds", "v0")

    downloaded = await download_all(store_api, user.key, artifact_path(run, "ds", "latest"))
    assert downloaded == files

    # committing again changes nothing
    again = (await store_api.ok(COMMIT, {"id": pending["id"]}, key=user.key))["commitArtifact"]
    assert again["version"] == "v0"
    assert again["digest"] == committed["digest"]


async def test_new_contents_make_the_next_version(store_api: StoreApi, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    first = {"f": content("one")}
    second = {"f": content("two")}
    v0 = await log_and_commit(store_api, user.key, run, "model", first, type="model")
    v1 = await log_and_commit(store_api, user.key, run, "model", second, type="model")
    assert (v0["version"], v1["version"]) == ("v0", "v1")
    assert v1["aliases"] == ["latest"]
    assert (await artifact(store_api, user.key, run, "model", "v0"))["aliases"] == []  # type: ignore[index]
    assert (await artifact(store_api, user.key, run, "model", "latest"))["id"] == v1["id"]  # type: ignore[index]
    assert await download_all(store_api, user.key, artifact_path(run, "model", "v0")) == first
    assert await download_all(store_api, user.key, artifact_path(run, "model", "v1")) == second


async def test_pending_versions_are_invisible(store_api: StoreApi, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    files = {"x": content("x")}
    pending = await log_artifact(store_api, user.key, run, "ds", files, aliases=["best"])
    assert pending["artifact"]["state"] == "PENDING"
    for spec in ("latest", "best", "v0"):
        assert await artifact(store_api, user.key, run, "ds", spec) is None
    assert await versions(store_api, user.key, run, "ds") == []

    v0 = await log_and_commit(store_api, user.key, run, "ds", {"x": content("other")})
    second = await log_artifact(
        store_api, user.key, run, "ds", {"y": content("y")}, aliases=["best"]
    )
    assert second["artifact"]["state"] == "PENDING"
    assert (await artifact(store_api, user.key, run, "ds", "latest"))["id"] == v0["id"]  # type: ignore[index]
    assert await artifact(store_api, user.key, run, "ds", "best") is None
    assert await artifact(store_api, user.key, run, "ds", "v1") is None
    listed = await versions(store_api, user.key, run, "ds")
    assert [v["version"] for v in listed] == ["v0"]

    # the first pending one commits as v1: its aliases apply only now
    await upload_all(store_api, pending, files)
    committed = await store_api.ok(COMMIT, {"id": pending["artifact"]["id"]}, key=user.key)
    assert committed["commitArtifact"]["version"] == "v1"
    assert sorted(committed["commitArtifact"]["aliases"]) == ["best", "latest"]
    assert (await artifact(store_api, user.key, run, "ds", "best"))["version"] == "v1"  # type: ignore[index]


async def test_commit_with_a_missing_upload_is_refused_and_changes_nothing(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    files = {"sent.txt": content("sent"), "forgotten.txt": content("forgotten")}
    payload = await log_artifact(store_api, user.key, run, "ds", files, aliases=["best"])
    sent = [u for u in payload["uploads"] if u["path"] == "sent.txt"]
    await upload_all(store_api, {"uploads": sent}, files)
    body = await store_api.gql(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "forgotten.txt" in body["errors"][0]["message"]
    await _still_pending(store_api, user.key, run, payload["artifact"]["id"])
    assert await blob_store.head(blob_key_of(files["forgotten.txt"])) is None

    await upload_all(store_api, payload, files)  # a client retrying sends everything again
    committed = await store_api.ok(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key)
    assert committed["commitArtifact"]["version"] == "v0"  # no index was used up
    assert await download_all(store_api, user.key, artifact_path(run, "ds", "best")) == files


async def test_wrong_bytes_never_commit(
    store_api: StoreApi, make_user: Any, blob_store: BlobStore
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    files = {"data.bin": content("right", size=100)}
    payload = await log_artifact(store_api, user.key, run, "ds", files)
    (upload,) = payload["uploads"]
    wrong = content("wrong", size=100)  # same size, other bytes
    response = await put(upload["url"], upload["headers"], wrong, store_api)
    if store_api.kind == "folder":
        assert response.status_code == 400  # the folder store hashes on the way in
    body = await store_api.gql(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data.bin" in body["errors"][0]["message"]
    await _still_pending(store_api, user.key, run, payload["artifact"]["id"])
    # nothing was stored under the declared digest: no one can poison a shared blob
    assert await blob_store.head(blob_key_of(files["data.bin"])) is None
    longer = files["data.bin"] + b"!"
    await put(upload["url"], upload["headers"], longer, store_api)
    assert "errors" in await store_api.gql(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key)
    assert await blob_store.head(blob_key_of(files["data.bin"])) is None

    await upload_all(store_api, payload, files)
    committed = await store_api.ok(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key)
    assert committed["commitArtifact"]["version"] == "v0"
    assert await download_all(store_api, user.key, artifact_path(run, "ds", "v0")) == files


async def _still_pending(api: StoreApi, key: str, run: str, id_: str) -> None:
    found = await node(api, key, id_)
    assert found["state"] == "PENDING"
    assert found["version"] is None
    assert found["aliases"] == []
    assert await versions(api, key, run, "ds") == []
    assert await artifact(api, key, run, "ds", "latest") is None
    assert await artifact(api, key, run, "ds", "best") is None


async def test_an_artifact_of_held_contents_only_commits_at_once(
    store_api: StoreApi, make_user: Any
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    files = {"a": content("a"), "b": content("b")}
    await log_and_commit(store_api, user.key, run, "first", files)
    payload = await log_artifact(store_api, user.key, run, "second", {"renamed/a": files["a"]})
    assert payload["uploads"] == []
    assert payload["deduplicated"] is False
    assert payload["artifact"]["state"] == "COMMITTED"
    assert payload["artifact"]["version"] == "v0"
    path = artifact_path(run, "second", "v0")
    assert await download_all(store_api, user.key, path) == {"renamed/a": files["a"]}
    listed = await entries(store_api, user.key, path)
    assert listed["totalCount"] == 1
