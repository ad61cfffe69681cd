"""Artifact.manifest.entries: path order, prefix, keyset cursors; and a 100,000-entry log."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.fixtures.artifacts import (
    COMMIT,
    artifact_path,
    content,
    entries,
    get,
    log_and_commit,
    log_artifact,
    new_run,
    sha,
    upload_all,
)
from tests.fixtures.service import Api

# byte (UTF-8) order, as the version digest sorts them
PATHS = ["a/1", "a/10", "a/2", "a_b", "ab", "b/x", "z", "é/y", "\ud7ff/q", "\ue000/r"]


@pytest.fixture(scope="module")
async def listed(api: Api, make_user: Any) -> tuple[str, str]:
    user = await make_user()
    run = await new_run(api, user.key)
    data = content()
    await log_and_commit(api, user.key, run, "ds", {p: data for p in reversed(PATHS)})
    return user.key, artifact_path(run, "ds", "v0")


async def walk(
    api: Api, key: str, path: str, first: int, prefix: str | None = None
) -> tuple[list[str], list[int]]:
    """Every page in turn: the paths seen, and each page's totalCount."""
    seen: list[str] = []
    totals: list[int] = []
    after = None
    while True:
        page = await entries(api, key, path, first=first, after=after, prefix=prefix)
        seen += [e["node"]["path"] for e in page["edges"]]
        totals.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen, totals
        assert len(page["edges"]) == first
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("first", [1, 3, 10, 50])
async def test_pages_cover_every_entry_once_in_path_order(
    api: Api, listed: tuple[str, str], first: int
) -> None:
    key, path = listed
    seen, totals = await walk(api, key, path, first)
    assert seen == sorted(PATHS, key=str.encode) == PATHS
    assert set(totals) == {len(PATHS)}


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("a/", ["a/1", "a/10", "a/2"]),
        ("a", ["a/1", "a/10", "a/2", "a_b", "ab"]),
        ("a_", ["a_b"]),  # no LIKE wildcards
        ("a/1", ["a/1", "a/10"]),
        ("é", ["é/y"]),
        ("\ud7ff", ["\ud7ff/q"]),  # the code point just before the surrogates
        ("z", ["z"]),
        ("zz", []),
        ("", PATHS),
    ],
)
async def test_prefix_keeps_matching_entries(
    api: Api, listed: tuple[str, str], prefix: str, expected: list[str]
) -> None:
    key, path = listed
    for first in (1, 2, 1000):
        seen, totals = await walk(api, key, path, first, prefix)
        assert seen == expected
        assert set(totals) == {len(expected)}


async def test_cursor_from_outside_the_prefix(api: Api, listed: tuple[str, str]) -> None:
    key, path = listed
    page = await entries(api, key, path, first=1, prefix="a/")
    cursor = page["pageInfo"]["endCursor"]  # after "a/1"
    later = await entries(api, key, path, first=10, after=cursor, prefix="b/")
    assert [e["node"]["path"] for e in later["edges"]] == ["b/x"]
    first_z = await entries(api, key, path, first=1, prefix="z")
    assert await entries(api, key, path, after=first_z["pageInfo"]["endCursor"], prefix="a") == {
        "totalCount": 5, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []
    }  # fmt: skip


@pytest.mark.parametrize(
    "args", [{"first": 1001}, {"first": -1}, {"after": "garbage"}, {"after": "W10"}]
)
async def test_bad_page_arguments_are_bad_input(
    api: Api, listed: tuple[str, str], args: dict[str, Any]
) -> None:
    key, path = listed
    from tests.fixtures.artifacts import ENTRIES

    assert await api.error(ENTRIES, {"path": path, **args}, key=key) == "BAD_USER_INPUT"


async def test_a_hundred_thousand_entries(api: Api, make_user: Any, capsys: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    shared, odd = content("shared"), content("odd")
    count = 100_000
    manifest = [
        {"path": f"d{i // 1000:03d}/f{i:05d}", "digest": sha(shared), "size": len(shared)}
        for i in range(count - 1)
    ]
    manifest.append({"path": "odd/one", "digest": sha(odd), "size": len(odd)})
    started = time.perf_counter()
    payload = await log_artifact(api, user.key, run, "huge", {}, entries=manifest)
    logged = time.perf_counter()
    assert sorted(u["path"] for u in payload["uploads"]) == ["d000/f00000", "odd/one"]
    await upload_all(api, payload, {"d000/f00000": shared, "odd/one": odd})
    committed = (await api.ok(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key))[
        "commitArtifact"
    ]
    done = time.perf_counter()
    with capsys.disabled():
        log_s, commit_s = logged - started, done - logged
        print(f"\n100,000-entry logArtifact {log_s:.2f}s, upload+commit {commit_s:.2f}s")
    assert committed["state"] == "COMMITTED"
    assert committed["fileCount"] == count
    assert committed["size"] == (count - 1) * len(shared) + len(odd)

    path = artifact_path(run, "huge", "v0")
    page = await entries(api, user.key, path, first=1000, prefix="d042/")
    assert page["totalCount"] == 1000
    assert not page["pageInfo"]["hasNextPage"]
    assert [e["node"]["path"] for e in page["edges"]] == [
        f"d042/f{i:05d}" for i in range(42_000, 43_000)
    ]
    last = await entries(api, user.key, path, first=5, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["path"] for e in last["edges"]] == [
        f"d043/f{i:05d}" for i in range(43_000, 43_005)
    ]
    assert last["totalCount"] == count
    tail = await entries(api, user.key, path, prefix="odd/")
    assert (await get(tail["edges"][0]["node"]["downloadUrl"], api)).content == odd
