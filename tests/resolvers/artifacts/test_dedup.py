"""Deduplication within a collection, and contents held already across collections."""

from __future__ import annotations

from typing import Any

from server.db.database import Database
from server.domain.ids import decode_id_of
from tests.fixtures.artifacts import (
    COMMIT,
    StoreApi,
    artifact,
    artifact_path,
    content,
    download_all,
    log_and_commit,
    log_artifact,
    new_run,
    public_run,
    upload_all,
    versions,
)
from tests.fixtures.service import unique

LOGGED = """query($run: String!) { run(path: $run) {
  loggedArtifacts { totalCount edges { node { id version } } } } }"""
LOGGED_BY = """query($path: String!) { artifact(path: $path) { loggedBy { path } } }"""


async def logged_runs(db: Database, artifact_id: str) -> list[str]:
    """Paths of the runs recorded as having logged a version (artifact_logs), in order."""
    rows = await db.pool.fetch(
        """SELECT e.name || '/' || p.name || '/' || r.run_id AS path
             FROM artifact_logs l JOIN runs r ON r.id = l.run_id
             JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id
            WHERE l.version_id = $1 ORDER BY l.seq""",
        decode_id_of(artifact_id, "Artifact"),
    )
    return [r["path"] for r in rows]


async def test_equal_contents_in_a_collection_return_the_existing_version(
    store_api: StoreApi, make_user: Any, db: Database
) -> None:
    user = await make_user()
    project = unique("p")
    first_run, second_run = (
        await new_run(store_api, user.key, project),
        await new_run(store_api, user.key, project),
    )
    files = {"a.txt": content("a"), "b/c.bin": content("c")}
    v0 = await log_and_commit(
        store_api, user.key, first_run, "ds", files,
        description="first", metadata={"m": 1}, ttlDurationSeconds=3600, aliases=["old"],
    )  # fmt: skip
    v1 = await log_and_commit(
        store_api, user.key, first_run, "ds", {"a.txt": content("new")}, aliases=["prod"]
    )
    assert (v0["version"], v1["version"]) == ("v0", "v1")

    # same contents, other order, other description/metadata/ttl, from another run
    payload = await log_artifact(
        store_api, user.key, second_run, "ds", dict(reversed(files.items())),
        description="second", metadata={"m": 2}, ttlDurationSeconds=5, aliases=["prod", "extra"],
    )  # fmt: skip
    assert payload["deduplicated"] is True
    assert payload["uploads"] == []
    again = payload["artifact"]
    assert again["id"] == v0["id"]
    assert again["version"] == "v0"
    assert again["state"] == "COMMITTED"
    assert again["description"] == "first"
    assert again["metadata"] == {"m": 1}
    assert again["ttlDurationSeconds"] == 3600
    assert again["expiresAt"] == v0["expiresAt"]
    assert sorted(again["aliases"]) == ["extra", "old", "prod"]

    # no new version; "prod" moved off v1
    listed = await versions(store_api, user.key, first_run, "ds")
    assert [v["version"] for v in listed] == ["v1", "v0"]
    assert (await artifact(store_api, user.key, first_run, "ds", "prod"))["version"] == "v0"  # type: ignore[index]
    v1_now = await artifact(store_api, user.key, first_run, "ds", "v1")
    assert v1_now is not None
    assert "prod" not in v1_now["aliases"]

    # loggedBy stays the first run; the second is recorded as having logged it too
    path = artifact_path(first_run, "ds", "v0")
    data = await store_api.ok(LOGGED_BY, {"path": path}, key=user.key)
    assert data["artifact"]["loggedBy"]["path"] == first_run
    assert await logged_runs(db, v0["id"]) == [first_run, second_run]

    # ... which the run's loggedArtifacts shows
    data = await store_api.ok(LOGGED, {"run": second_run}, key=user.key)
    logged = data["run"]["loggedArtifacts"]
    assert [e["node"]["id"] for e in logged["edges"]] == [v0["id"]]
    assert logged["totalCount"] == 1
    # logging it once more from the same run records nothing new
    await log_artifact(store_api, user.key, second_run, "ds", files)
    assert await logged_runs(db, v0["id"]) == [first_run, second_run]
    assert await download_all(store_api, user.key, path) == files


async def test_dedup_ignores_tombstones_and_other_collections(
    store_api: StoreApi, make_user: Any
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    files = {"f": content("f")}
    v0 = await log_and_commit(store_api, user.key, run, "one", files)
    other = await log_artifact(store_api, user.key, run, "two", files)
    assert other["deduplicated"] is False
    assert other["uploads"] == []
    assert other["artifact"]["version"] == "v0"
    assert other["artifact"]["id"] != v0["id"]
    await store_api.ok(
        "mutation($id: ID!) { deleteArtifact(id: $id) { state } }", {"id": v0["id"]}, key=user.key
    )
    relogged = await log_artifact(store_api, user.key, run, "one", files)
    assert relogged["deduplicated"] is False
    assert relogged["artifact"]["version"] == "v1"
    assert relogged["artifact"]["state"] == "COMMITTED"
    assert await download_all(store_api, user.key, artifact_path(run, "one", "latest")) == files


async def test_held_contents_commit_at_once_in_another_collection(
    store_api: StoreApi, make_user: Any
) -> None:
    owner, other = await make_user(), await make_user()
    owner_run, other_run = await public_run(store_api, owner), await new_run(store_api, other.key)
    shared = content("shared", size=5000)
    await log_and_commit(store_api, owner.key, owner_run, "src", {"weights.bin": shared})

    # content `other` can read in another user's (public) project, another name and type:
    # nothing to upload, committed at once (tests/security/test_dedup_oracle.py: private)
    payload = await log_artifact(
        store_api, other.key, other_run, "copy", {"w/weights.bin": shared}, type="model"
    )
    assert payload["deduplicated"] is False
    assert payload["uploads"] == []
    assert payload["artifact"]["state"] == "COMMITTED"
    assert payload["artifact"]["version"] == "v0"
    assert payload["artifact"]["aliases"] == ["latest"]
    path = artifact_path(other_run, "copy", "v0")
    assert await download_all(store_api, other.key, path) == {"w/weights.bin": shared}

    # partly held: only the new content is asked for
    fresh = content("fresh")
    mixed = {"held.bin": shared, "fresh.bin": fresh}
    payload = await log_artifact(store_api, other.key, other_run, "mixed", mixed)
    assert [u["path"] for u in payload["uploads"]] == ["fresh.bin"]
    assert payload["artifact"]["state"] == "PENDING"
    await upload_all(store_api, payload, {"fresh.bin": fresh})
    committed = await store_api.ok(COMMIT, {"id": payload["artifact"]["id"]}, key=other.key)
    assert committed["commitArtifact"]["version"] == "v0"
    assert (
        await download_all(store_api, other.key, artifact_path(other_run, "mixed", "v0")) == mixed
    )
