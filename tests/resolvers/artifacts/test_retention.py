"""TTLs, deletion into tombstones, and `latest` moving to the newest remaining version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from server.worker import Worker
from tests.fixtures.artifacts import (
    ALIASES,
    COMMIT,
    DELETE,
    SET_TTL,
    USE,
    StoreApi,
    artifact,
    artifact_path,
    content,
    download_all,
    entries,
    log_and_commit,
    log_artifact,
    new_run,
    upload_all,
    versions,
)
from tests.fixtures.service import Api

LINEAGE_FIELDS = """query($path: String!) { artifact(path: $path) {
  state version digest name loggedBy { path } manifest { entries { totalCount } } } }"""


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def three_versions(
    api: Api, key: str
) -> tuple[str, list[dict[str, Any]], list[dict[str, bytes]]]:
    run = await new_run(api, key)
    contents = [{"f.txt": content(f"v{i}")} for i in range(3)]
    made = [
        await log_and_commit(api, key, run, "ds", files, metadata={"i": i})
        for i, files in enumerate(contents)
    ]
    return run, made, contents


async def test_ttl_sets_expires_at_and_null_removes_it(api: Api, make_user: Any) -> None:
    user = await make_user()
    run, (v0, _, _), _ = await three_versions(api, user.key)
    data = (await api.ok(SET_TTL, {"id": v0["id"], "ttl": 3600}, key=user.key))["setArtifactTtl"]
    assert data["ttlDurationSeconds"] == 3600
    assert ts(data["expiresAt"]) - ts(data["createdAt"]) == timedelta(hours=1)
    data = (await api.ok(SET_TTL, {"id": v0["id"], "ttl": None}, key=user.key))["setArtifactTtl"]
    assert data["ttlDurationSeconds"] is None
    assert data["expiresAt"] is None
    assert await api.error(SET_TTL, {"id": v0["id"], "ttl": -5}, key=user.key) == "BAD_USER_INPUT"
    # a TTL given at log time counts from createdAt once committed
    logged = await log_and_commit(
        api, user.key, run, "other", {"f": content()}, ttlDurationSeconds=60
    )
    assert ts(logged["expiresAt"]) - ts(logged["createdAt"]) == timedelta(seconds=60)


async def test_expired_ttl_makes_a_tombstone_and_moves_latest(
    store_api: StoreApi, make_user: Any, make_worker: Callable[..., Worker]
) -> None:
    user = await make_user()
    run, (v0, v1, v2), contents = await three_versions(store_api, user.key)
    await store_api.ok(ALIASES, {"id": v2["id"], "add": ["best"]}, key=user.key)
    await store_api.ok(SET_TTL, {"id": v2["id"], "ttl": 0}, key=user.key)
    assert (await artifact(store_api, user.key, run, "ds", "v2"))["state"] == "COMMITTED"  # type: ignore[index]

    stats = await make_worker().run_once()
    assert stats.expired >= 1

    gone = await artifact(store_api, user.key, run, "ds", "v2")
    assert gone is not None
    assert gone["state"] == "DELETED"
    assert gone["version"] == "v2"
    assert gone["digest"] == v2["digest"]
    assert gone["name"] == "ds"
    assert gone["aliases"] == []
    assert gone["metadata"] == {}
    assert gone["ttlDurationSeconds"] is None
    assert gone["expiresAt"] is None
    tomb = (
        await store_api.ok(LINEAGE_FIELDS, {"path": artifact_path(run, "ds", "v2")}, key=user.key)
    )["artifact"]
    assert tomb["loggedBy"]["path"] == run  # the lineage edge stays
    assert tomb["manifest"]["entries"]["totalCount"] == 0
    assert await artifact(store_api, user.key, run, "ds", "best") is None
    latest = await artifact(store_api, user.key, run, "ds", "latest")
    assert latest is not None
    assert latest["id"] == v1["id"]
    assert "latest" in latest["aliases"]
    listed = await versions(store_api, user.key, run, "ds")
    assert [(v["version"], v["state"]) for v in listed] == [
        ("v2", "DELETED"),
        ("v1", "COMMITTED"),
        ("v0", "COMMITTED"),
    ]
    assert (
        await download_all(store_api, user.key, artifact_path(run, "ds", "latest")) == contents[1]
    )
    # a tombstone cannot be used, aliased or given a TTL; a new log takes the next index
    assert (
        await store_api.error(
            USE, {"run": run, "art": artifact_path(run, "ds", "v2")}, key=user.key
        )
        == "CONFLICT"
    )
    assert await store_api.error(SET_TTL, {"id": v2["id"], "ttl": 5}, key=user.key) == "CONFLICT"
    v3 = await log_and_commit(store_api, user.key, run, "ds", contents[2])
    assert v3["version"] == "v3"
    assert v3["aliases"] == ["latest"]


async def test_ttl_in_the_future_does_not_expire(
    store_api: StoreApi, make_user: Any, make_worker: Callable[..., Worker]
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    v0 = await log_and_commit(
        store_api, user.key, run, "ds", {"f": content()}, ttlDurationSeconds=3600
    )
    await make_worker().run_once()
    assert (await artifact(store_api, user.key, run, "ds", "v0"))["state"] == "COMMITTED"  # type: ignore[index]
    assert v0["expiresAt"] is not None


async def test_delete_with_aliases_needs_delete_aliases(
    store_api: StoreApi, make_user: Any
) -> None:
    user = await make_user()
    run, (v0, v1, v2), contents = await three_versions(store_api, user.key)
    await store_api.ok(ALIASES, {"id": v2["id"], "add": ["prod"]}, key=user.key)
    assert await store_api.error(DELETE, {"id": v2["id"]}, key=user.key) == "CONFLICT"
    still = await artifact(store_api, user.key, run, "ds", "prod")
    assert still is not None
    assert still["state"] == "COMMITTED"
    assert "latest" in still["aliases"]

    deleted = (await store_api.ok(DELETE, {"id": v2["id"], "da": True}, key=user.key))[
        "deleteArtifact"
    ]
    assert deleted["state"] == "DELETED"
    assert deleted["aliases"] == []
    assert deleted["version"] == "v2"
    assert await artifact(store_api, user.key, run, "ds", "prod") is None
    assert (await artifact(store_api, user.key, run, "ds", "latest"))["id"] == v1["id"]  # type: ignore[index]
    # deleting again is harmless; deleting a version that is not latest leaves latest alone
    assert (await store_api.ok(DELETE, {"id": v2["id"]}, key=user.key))["deleteArtifact"][
        "state"
    ] == "DELETED"
    await store_api.ok(DELETE, {"id": v0["id"]}, key=user.key)
    assert (await artifact(store_api, user.key, run, "ds", "latest"))["id"] == v1["id"]  # type: ignore[index]
    assert await download_all(store_api, user.key, artifact_path(run, "ds", "v1")) == contents[1]
    # with every version gone there is no latest, but the tombstones stay listed
    await store_api.ok(DELETE, {"id": v1["id"]}, key=user.key)
    assert await artifact(store_api, user.key, run, "ds", "latest") is None
    assert [v["state"] for v in await versions(store_api, user.key, run, "ds")] == ["DELETED"] * 3
    listed = await entries(store_api, user.key, artifact_path(run, "ds", "v1"))
    assert listed["edges"] == []
    assert listed["totalCount"] == 0


async def test_pending_versions_cannot_be_deleted(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    pending = await log_artifact(api, user.key, run, "ds", {"f": content()})
    assert await api.error(DELETE, {"id": pending["artifact"]["id"]}, key=user.key) == "CONFLICT"


async def test_ttl_set_while_pending_counts_from_created_at_once_committed(
    store_api: StoreApi, make_user: Any, make_worker: Callable[..., Worker]
) -> None:
    user = await make_user()
    run = await new_run(store_api, user.key)
    files = {"f": content()}
    pending = await log_artifact(store_api, user.key, run, "ds", files)
    data = (await store_api.ok(SET_TTL, {"id": pending["artifact"]["id"], "ttl": 0}, key=user.key))[
        "setArtifactTtl"
    ]
    assert data["state"] == "PENDING"
    assert data["ttlDurationSeconds"] == 0
    assert data["expiresAt"] is None
    await make_worker().run_once()  # nothing to expire while pending
    await upload_all(store_api, pending, files)
    committed = (await store_api.ok(COMMIT, {"id": pending["artifact"]["id"]}, key=user.key))[
        "commitArtifact"
    ]
    assert committed["expiresAt"] == committed["createdAt"]
    assert (await make_worker().run_once()).expired >= 1
    assert (await artifact(store_api, user.key, run, "ds", "v0"))["state"] == "DELETED"  # type: ignore[index]
