"""Content digests are no cross-tenant oracle. The probe logged the sha256 of a file in
alice's private project from bob's own project: it committed at once, with no upload,
and its downloadUrl served alice's bytes (with size 1 recorded for a 28-byte blob).

A log commits without an upload only for content the logger can already read; for any
other digest the answer is the same whether the blob exists or not."""

from __future__ import annotations

import hashlib
from typing import Any

from server.db.database import Database
from tests.fixtures.artifacts import (
    COMMIT,
    ENTRIES,
    StoreApi,
    artifact_path,
    content,
    download_all,
    log_and_commit,
    log_artifact,
    new_run,
    public_run,
    put,
    upload_all,
)

NODE_ENTRIES = """query($id: ID!) { node(id: $id) { ... on Artifact { state
  manifest { entries { edges { node { path digest size downloadUrl } } } } } } }"""


def entry(path: str, data: bytes, size: int | None = None) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    return {"path": path, "digest": digest, "size": len(data) if size is None else size}


def shape(payload: dict[str, Any]) -> tuple[Any, ...]:
    """What a logger sees of a log, apart from ids and URLs."""
    return (
        payload["deduplicated"],
        payload["artifact"]["state"],
        payload["artifact"]["version"],
        [(u["path"], sorted(u["headers"])) for u in payload["uploads"]],
    )


async def test_a_digest_of_someone_elses_private_file_gets_an_upload_like_any_other(
    store_api: StoreApi, make_user: Any, db: Database
) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    secret = content("alice's private data")  # 28+ bytes
    await log_and_commit(
        store_api, alice.key, await new_run(store_api, alice.key), "d", {"s": secret}
    )
    bob_run = await new_run(store_api, bob.key)

    stolen = await log_artifact(
        store_api, bob.key, bob_run, "g", {}, entries=[entry("g", secret, size=1)]
    )
    unknown = await log_artifact(
        store_api, bob.key, bob_run, "h", {}, entries=[entry("g", content("nobody has this"))]
    )
    assert shape(stolen) == shape(unknown)
    assert stolen["artifact"]["state"] == "PENDING"
    assert [u["path"] for u in stolen["uploads"]] == ["g"]

    # the pending version's manifest signs nothing: its content is not proven yet
    found = await store_api.ok(NODE_ENTRIES, {"id": stolen["artifact"]["id"]}, key=bob.key)
    (edge,) = found["node"]["manifest"]["entries"]["edges"]
    assert edge["node"]["downloadUrl"] is None

    # committing without the bytes fails, with or without a stored blob of that digest
    for payload in (stolen, unknown):
        body = await store_api.gql(COMMIT, {"id": payload["artifact"]["id"]}, key=bob.key)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # uploading other bytes (the declared size) does not help either
    (upload,) = stolen["uploads"]
    await put(upload["url"], upload["headers"], b"x", store_api)
    body = await store_api.gql(COMMIT, {"id": stolen["artifact"]["id"]}, key=bob.key)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (
        await db.pool.fetchval(
            "SELECT count(*) FROM artifact_versions v JOIN artifact_collections c "
            "ON c.id = v.collection_id WHERE c.name = 'g' AND v.state = 'COMMITTED' "
            "AND v.logged_by = (SELECT id FROM runs WHERE run_id = $1)",
            bob_run.rsplit("/", 1)[1],
        )
        == 0
    )


async def test_uploading_content_already_stored_commits_onto_the_stored_blob(
    store_api: StoreApi, make_user: Any, db: Database
) -> None:
    """Bob has the same file as alice: he proves it by uploading, and the version points
    at the blob already stored (kept once)."""
    alice, bob = await make_user("alice"), await make_user("bob")
    same = content("a public dataset both downloaded")
    await log_and_commit(
        store_api, alice.key, await new_run(store_api, alice.key), "d", {"f": same}
    )
    bob_run = await new_run(store_api, bob.key)

    payload = await log_artifact(store_api, bob.key, bob_run, "mine", {"f.csv": same})
    assert [u["path"] for u in payload["uploads"]] == ["f.csv"]
    await upload_all(store_api, payload, {"f.csv": same})
    committed = await store_api.ok(COMMIT, {"id": payload["artifact"]["id"]}, key=bob.key)
    assert committed["commitArtifact"]["state"] == "COMMITTED"
    path = artifact_path(bob_run, "mine", "v0")
    assert await download_all(store_api, bob.key, path) == {"f.csv": same}
    digest = hashlib.sha256(same).hexdigest()
    assert await db.pool.fetchval("SELECT count(*) FROM blobs WHERE sha256 = $1", digest) == 1

    # now bob can read a live version holding it: his next log needs no upload
    again = await log_artifact(store_api, bob.key, bob_run, "again", {"g.csv": same})
    assert again["uploads"] == []
    assert again["artifact"]["state"] == "COMMITTED"


async def test_content_in_a_readable_project_commits_at_once(
    store_api: StoreApi, make_user: Any
) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    shared = content("published weights")
    await log_and_commit(
        store_api, alice.key, await public_run(store_api, alice), "w", {"w": shared}
    )
    payload = await log_artifact(
        store_api, bob.key, await new_run(store_api, bob.key), "copy", {"w.bin": shared}
    )
    assert payload["uploads"] == []
    assert payload["artifact"]["state"] == "COMMITTED"


async def test_a_declared_size_must_be_the_real_one(store_api: StoreApi, make_user: Any) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    data = content("twenty-eight bytes or so")
    run = await new_run(store_api, alice.key)
    await log_and_commit(store_api, alice.key, run, "d", {"f": data})

    # content the logger can read: refused at log time
    body = await store_api.gql(
        "mutation($i: LogArtifactInput!) { logArtifact(input: $i) { artifact { id } } }",
        {"i": {"run": run, "name": "e", "type": "dataset", "entries": [entry("f", data, 1)]}},
        key=alice.key,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "bytes" in body["errors"][0]["message"]

    # content bob cannot read: no answer at log time (that would tell), but the real
    # bytes do not match the declared size at commit
    bob_run = await new_run(store_api, bob.key)
    payload = await log_artifact(
        store_api, bob.key, bob_run, "e", {}, entries=[entry("f", data, len(data) + 1)]
    )
    assert payload["artifact"]["state"] == "PENDING"
    (upload,) = payload["uploads"]
    await put(upload["url"], upload["headers"], data, store_api)
    body = await store_api.gql(COMMIT, {"id": payload["artifact"]["id"]}, key=bob.key)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    listing = await store_api.ok(ENTRIES, {"path": artifact_path(run, "d", "v0")}, key=alice.key)
    assert listing["artifact"]["manifest"]["entries"]["edges"][0]["node"]["size"] == len(data)
