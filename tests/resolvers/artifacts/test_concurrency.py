"""Many runs committing to one collection at once: dense indices, one version per content."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fixtures.artifacts import (
    ALIASES,
    COMMIT,
    DELETE,
    StoreApi,
    artifact,
    artifact_path,
    content,
    download_all,
    log_and_commit,
    log_artifact,
    new_run,
    sha,
    upload_all,
    versions,
)
from tests.fixtures.service import unique


async def test_thirty_concurrent_commits_get_v0_to_v29(store_api: StoreApi, make_user: Any) -> None:
    user = await make_user()
    project = unique("p")
    runs = [await new_run(store_api, user.key, project) for _ in range(3)]
    contents = [{"data.bin": content(f"c{i}")} for i in range(30)]
    committed = await asyncio.gather(
        *(
            log_and_commit(store_api, user.key, runs[i % 3], "shared", files)
            for i, files in enumerate(contents)
        )
    )
    assert all(a["state"] == "COMMITTED" for a in committed)
    assert sorted(a["versionIndex"] for a in committed) == list(range(30))
    assert len({a["id"] for a in committed}) == 30
    listed = await versions(store_api, user.key, runs[0], "shared")
    assert [v["version"] for v in listed] == [f"v{i}" for i in reversed(range(30))]
    # each version holds the content its own run sent
    by_digest = {sha(files["data.bin"]): files for files in contents}
    for a in committed[:3] + committed[-3:]:
        path = artifact_path(runs[0], "shared", a["version"])
        downloaded = await download_all(store_api, user.key, path)
        assert by_digest[sha(downloaded["data.bin"])] == downloaded
    latest = await artifact(store_api, user.key, runs[0], "shared", "latest")
    assert latest is not None
    assert latest["version"] == "v29"


async def test_concurrent_logs_of_equal_contents_make_one_version(
    store_api: StoreApi, make_user: Any, db: Any
) -> None:
    user = await make_user()
    project = unique("p")
    runs = [await new_run(store_api, user.key, project) for _ in range(8)]
    files = {"same.txt": content("same"), "other.txt": content("other")}
    results = await asyncio.gather(
        *(log_and_commit(store_api, user.key, run, "ds", files, aliases=[f"a{i}"])
          for i, run in enumerate(runs))
    )  # fmt: skip
    assert {a["id"] for a in results} == {results[0]["id"]}
    assert results[0]["version"] == "v0"
    listed = await versions(store_api, user.key, runs[0], "ds")
    assert [v["version"] for v in listed] == ["v0"]
    assert sorted(listed[0]["aliases"]) == sorted([*(f"a{i}" for i in range(8)), "latest"])
    assert await download_all(store_api, user.key, artifact_path(runs[0], "ds", "v0")) == files
    # every run is recorded as having logged the one version
    logged = await db.pool.fetchval(
        """SELECT count(*) FROM artifact_logs l JOIN artifact_versions v ON v.id = l.version_id
            JOIN artifact_collections c ON c.id = v.collection_id
            JOIN projects p ON p.id = c.project_id WHERE p.name = $1""",
        project,
    )
    assert logged == 8


async def test_concurrent_commits_of_one_version_all_succeed(
    store_api: StoreApi, make_user: Any
) -> None:
    """A client retrying a slow commit must not get an error because its first try won."""
    user = await make_user()
    run = await new_run(store_api, user.key)
    files = {f"f{i}": content(f"f{i}") for i in range(4)}
    payload = await log_artifact(store_api, user.key, run, "ds", files)
    await upload_all(store_api, payload, files)
    results = await asyncio.gather(
        *(store_api.gql(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key) for _ in range(4))
    )
    assert [r.get("errors") for r in results] == [None] * 4
    assert {r["data"]["commitArtifact"]["version"] for r in results} == {"v0"}
    assert await download_all(store_api, user.key, artifact_path(run, "ds", "v0")) == files


async def test_dedup_racing_a_delete_never_lands_on_a_tombstone(
    api: Any, make_user: Any, db: Any
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    for i in range(8):
        files = {"f": content(f"race{i}")}
        name = f"ds{i}"
        v0 = await log_and_commit(api, user.key, run, name, files)
        deleted, logged = await asyncio.gather(
            api.gql(DELETE, {"id": v0["id"], "da": True}, key=user.key),
            log_artifact(api, user.key, run, name, files, aliases=["mine"]),
        )
        assert deleted["data"]["deleteArtifact"]["state"] == "DELETED"
        art = logged["artifact"]
        if art["state"] == "PENDING":
            # the delete went first and took the only live version holding the content:
            # content no live version holds needs an upload (tests/security)
            assert [u["path"] for u in logged["uploads"]] == ["f"]
            continue
        assert art["state"] == "COMMITTED", art  # deduplicated onto v0 before it went, or a new v1
        assert (art["version"], logged["deduplicated"]) in {("v0", True), ("v1", False)}
    orphans = await db.pool.fetchval(
        """SELECT count(*) FROM artifact_aliases a JOIN artifact_versions v ON v.id = a.version_id
            WHERE v.state <> 'COMMITTED'"""
    )
    assert orphans == 0


async def test_aliases_racing_a_delete_never_land_on_a_tombstone(
    api: Any, make_user: Any, db: Any
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    names = [f"al{i}" for i in range(10)]
    for name in names:
        v0 = await log_and_commit(api, user.key, run, name, {"f": content(name)})
        deleted, aliased = await asyncio.gather(
            api.gql(DELETE, {"id": v0["id"], "da": True}, key=user.key),
            api.gql(ALIASES, {"id": v0["id"], "add": ["mine"]}, key=user.key),
        )
        assert deleted["data"]["deleteArtifact"]["state"] == "DELETED"
        # aliased before the delete (which then removed the alias), or refused after it
        if "errors" in aliased:
            assert aliased["errors"][0]["extensions"]["code"] == "CONFLICT"
    _, project, _ = run.split("/")
    orphans = await db.pool.fetchval(
        """SELECT count(*) FROM artifact_aliases a JOIN artifact_versions v ON v.id = a.version_id
            JOIN projects p ON p.id = v.project_id WHERE p.name = $1""",
        project,
    )
    assert orphans == 0
