"""Forty clients logging into one collection at once, through HTTP: every request succeeds.

A log whose content is already held commits inside the log's own transaction, right after
inserting its PENDING version; these tests mix that path with log -> PUT -> commit and
check the outcome a user sees: no errors, versions v0..vN with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fixtures.artifacts import (
    COMMIT,
    LOG,
    content,
    entries_for,
    log_and_commit,
    new_run,
    upload_all,
    versions,
)
from tests.fixtures.service import Api, unique

CLIENTS = 40


async def _log(api: Api, key: str, run: str, name: str, files: dict[str, bytes]) -> dict[str, Any]:
    """log (-> PUT -> commit), failing on any GraphQL error rather than raising it away."""
    variables = {
        "input": {"run": run, "name": name, "type": "dataset", "entries": entries_for(files)}
    }
    logged = await api.gql(LOG, variables, key=key)
    assert "errors" not in logged, logged["errors"]
    payload = logged["data"]["logArtifact"]
    if payload["artifact"]["state"] == "COMMITTED":
        return payload["artifact"]  # type: ignore[no-any-return]
    await upload_all(api, payload, files)
    committed = await api.gql(COMMIT, {"id": payload["artifact"]["id"]}, key=key)
    assert "errors" not in committed, committed["errors"]
    return committed["data"]["commitArtifact"]  # type: ignore[no-any-return]


async def _concurrent_logs(api: Api, make_user: Any, held: int, new: int) -> None:
    user = await make_user()
    project = unique("p")
    runs = [await new_run(api, user.key, project) for _ in range(4)]
    shared = content("held")
    # v0 makes the collection exist and the shared content held
    await log_and_commit(api, user.key, runs[0], "ds", {"seed.bin": shared})
    # distinct manifests (so none deduplicates), all of held content or all of new content
    jobs = [{f"held-{i}.bin": shared} for i in range(held)]
    jobs += [{f"new-{i}.bin": content(f"new{i}")} for i in range(new)]
    results = await asyncio.gather(
        *(_log(api, user.key, runs[i % len(runs)], "ds", files) for i, files in enumerate(jobs))
    )
    assert [a["state"] for a in results] == ["COMMITTED"] * len(jobs)
    assert sorted(a["versionIndex"] for a in results) == list(range(1, len(jobs) + 1))
    assert len({a["id"] for a in results}) == len(jobs)
    listed = await versions(api, user.key, runs[0], "ds")
    assert [v["version"] for v in listed] == [f"v{i}" for i in reversed(range(len(jobs) + 1))]


async def test_forty_concurrent_logs_of_held_content_all_commit(api: Api, make_user: Any) -> None:
    await _concurrent_logs(api, make_user, held=CLIENTS, new=0)


async def test_forty_concurrent_logs_of_new_content_all_commit(api: Api, make_user: Any) -> None:
    await _concurrent_logs(api, make_user, held=0, new=CLIENTS)


async def test_forty_concurrent_logs_mixing_held_and_new_content_all_commit(
    api: Api, make_user: Any
) -> None:
    await _concurrent_logs(api, make_user, held=CLIENTS // 2, new=CLIENTS // 2)


async def test_two_concurrent_logs_of_held_content_on_an_existing_collection(
    api: Api, make_user: Any
) -> None:
    for _ in range(5):
        await _concurrent_logs(api, make_user, held=2, new=0)
