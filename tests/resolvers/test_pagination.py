"""Relay pagination: pages, cursors, limits on first, bad cursors."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.fixtures.service import Api, unique

TOTAL = 120
CREATE_PROJECT = """mutation($e: String!, $n: String!) {
  createProject(input: {entity: $e, name: $n}) { id } }"""
RUNS = """query($e: String!, $p: String!, $first: Int, $after: String, $order: RunOrder) {
  project(entity: $e, name: $p) {
    runs(first: $first, after: $after, orderBy: $order) {
      edges { cursor node { id runId } } pageInfo { hasNextPage endCursor } totalCount
    }
  }
}"""


@pytest.fixture(scope="module")
async def many_runs(api: Api, make_user: Any) -> tuple[str, str, str]:
    user = await make_user("pg")
    project = unique("p")
    for i in range(TOTAL):
        # bucket: ties in threes, and every tenth run lacks it
        config = {"bucket": i % 3} if i % 10 else {}
        await api.ok(
            """mutation($p: String!, $r: String!, $c: JSON) {
                 upsertRun(input: {project: $p, runId: $r, config: $c}) { id } }""",
            {"p": project, "r": f"r{i:03}", "c": config},
            user.key,
        )
    return user.name, user.key, project


async def pages(
    api: Api, many_runs: tuple[str, str, str], first: int, order: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    entity, key, project = many_runs
    result, after = [], None
    while True:
        data = await api.ok(
            RUNS, {"e": entity, "p": project, "first": first, "after": after, "order": order}, key
        )
        page = data["project"]["runs"]
        result.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return result
        after = page["pageInfo"]["endCursor"]
        assert len(result) <= TOTAL


@pytest.mark.parametrize(
    "order",
    [
        None,
        {"field": "createdAt", "direction": "ASC"},
        {"field": "config.bucket", "direction": "DESC"},
        {"field": "config.bucket", "direction": "ASC"},
    ],
    ids=["default", "createdAt-asc", "bucket-desc", "bucket-asc"],
)
async def test_pages_of_50_cover_120_runs_once(
    api: Api, many_runs: tuple[str, str, str], order: dict[str, str] | None
) -> None:
    result = await pages(api, many_runs, 50, order)
    assert [len(p["edges"]) for p in result] == [50, 50, 20]
    assert [p["pageInfo"]["hasNextPage"] for p in result] == [True, True, False]
    for page in result:
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["totalCount"] == TOTAL
    ids = [e["node"]["runId"] for p in result for e in p["edges"]]
    assert len(set(ids)) == TOTAL == len(ids)
    # the same pages again: stable
    again = await pages(api, many_runs, 50, order)
    assert [e["node"]["runId"] for p in again for e in p["edges"]] == ids
    # and one page of everything gives the same order
    whole = await pages(api, many_runs, 1000, order)
    assert [e["node"]["runId"] for e in whole[0]["edges"]] == ids
    if order and order["field"] == "config.bucket":
        missing = {f"r{i:03}" for i in range(0, TOTAL, 10)}
        assert set(ids[-len(missing) :]) == missing


async def test_a_new_run_does_not_shift_later_pages(api: Api, make_user: Any) -> None:
    user = await make_user("pg")
    project = unique("p")
    upsert = (
        "mutation($p: String!, $r: String!) { upsertRun(input: {project: $p, runId: $r}) { id } }"
    )
    for i in range(6):
        await api.ok(upsert, {"p": project, "r": f"r{i}"}, user.key)
    variables = {"e": user.name, "p": project, "first": 3}
    first = (await api.ok(RUNS, variables, user.key))["project"]["runs"]
    assert [e["node"]["runId"] for e in first["edges"]] == ["r5", "r4", "r3"]
    # newest first: the new run would land on page one; page two must not repeat r3
    await api.ok(upsert, {"p": project, "r": "new"}, user.key)
    second = (await api.ok(RUNS, {**variables, "after": first["pageInfo"]["endCursor"]}, user.key))[
        "project"
    ]["runs"]
    assert [e["node"]["runId"] for e in second["edges"]] == ["r2", "r1", "r0"]
    assert second["pageInfo"] == {"hasNextPage": False, "endCursor": second["edges"][-1]["cursor"]}
    assert second["totalCount"] == 7


async def test_an_empty_connection(api: Api, make_user: Any) -> None:
    user = await make_user("pg")
    project = unique("p")
    await api.ok(
        CREATE_PROJECT,
        {"e": user.name, "n": project},
        user.key,
    )
    runs = (await api.ok(RUNS, {"e": user.name, "p": project}, user.key))["project"]["runs"]
    assert runs == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "totalCount": 0,
    }


async def test_first_defaults_to_50_and_1000_is_the_most(
    api: Api, many_runs: tuple[str, str, str]
) -> None:
    entity, key, project = many_runs
    data = await api.ok(RUNS, {"e": entity, "p": project}, key)
    assert len(data["project"]["runs"]["edges"]) == 50
    data = await api.ok(RUNS, {"e": entity, "p": project, "first": 1000}, key)
    assert len(data["project"]["runs"]["edges"]) == TOTAL


@pytest.mark.parametrize("first", [1001, 100_000, -1])
async def test_first_out_of_range_is_bad_input(
    api: Api, many_runs: tuple[str, str, str], first: int
) -> None:
    entity, key, project = many_runs
    assert (
        await api.error(RUNS, {"e": entity, "p": project, "first": first}, key) == "BAD_USER_INPUT"
    )
    projects = (
        "query($e: String!, $f: Int) { entity(name: $e) { projects(first: $f) { totalCount } } }"
    )
    assert await api.error(projects, {"e": entity, "f": first}, key) == "BAD_USER_INPUT"
    sweeps = """query($e: String!, $p: String!, $f: Int) {
                  project(entity: $e, name: $p) { sweeps(first: $f) { totalCount } } }"""
    assert await api.error(sweeps, {"e": entity, "p": project, "f": first}, key) == "BAD_USER_INPUT"


def forged(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


GARBAGE_CURSORS = {
    "words": "garbage",
    "symbols": "!!!***",
    "empty": "",
    "not-a-list": forged({"a": 1}),  # type: ignore[arg-type]
    "wrong-shape": forged(["x"]),
    "bad-time": forged([{"t": "yesterday"}, 1]),
    "huge-id": forged([{"t": "2026-01-01T00:00:00+00:00"}, 10**30]),
    "bool-id": forged([{"t": "2026-01-01T00:00:00+00:00"}, True]),
}


@pytest.mark.parametrize("cursor", GARBAGE_CURSORS.values(), ids=GARBAGE_CURSORS.keys())
async def test_garbage_cursors_are_bad_input(
    api: Api, many_runs: tuple[str, str, str], cursor: str
) -> None:
    entity, key, project = many_runs
    assert (
        await api.error(RUNS, {"e": entity, "p": project, "after": cursor}, key) == "BAD_USER_INPUT"
    )
    order = {"field": "config.bucket", "direction": "ASC"}
    assert (
        await api.error(RUNS, {"e": entity, "p": project, "after": cursor, "order": order}, key)
        == "BAD_USER_INPUT"
    )


@pytest.mark.parametrize(
    "cursor",
    [
        forged([1, "NaN", "", {"t": "2026-01-01T00:00:00+00:00"}, 1]),
        forged([10**30, "1", "", {"t": "2026-01-01T00:00:00+00:00"}, 1]),
        forged([1, "1e99999999999", "", {"t": "2026-01-01T00:00:00+00:00"}, 1]),
    ],
    ids=["nan", "huge-group", "huge-number"],
)
async def test_forged_ordered_cursors_are_bad_input(
    api: Api, many_runs: tuple[str, str, str], cursor: str
) -> None:
    entity, key, project = many_runs
    order = {"field": "config.bucket", "direction": "ASC"}
    assert (
        await api.error(RUNS, {"e": entity, "p": project, "after": cursor, "order": order}, key)
        == "BAD_USER_INPUT"
    )


async def test_entity_projects_page_by_name(api: Api, make_user: Any) -> None:
    user = await make_user("pg")
    names = sorted(unique("p") for _ in range(5))
    for name in reversed(names):
        await api.ok(
            CREATE_PROJECT,
            {"e": user.name, "n": name},
            user.key,
        )
    query = """query($e: String!, $after: String) { entity(name: $e) {
                 projects(first: 2, after: $after) {
                   edges { node { name } } pageInfo { hasNextPage endCursor } totalCount } } }"""
    seen, after = [], None
    while True:
        page = (await api.ok(query, {"e": user.name, "after": after}, user.key))["entity"][
            "projects"
        ]
        assert page["totalCount"] == 5
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == names
    garbage = {"e": user.name, "after": forged([1])}
    assert await api.error(query, garbage, user.key) == "BAD_USER_INPUT"


async def test_sweeps_page_oldest_first(api: Api, make_user: Any) -> None:
    user = await make_user("sw")
    project = unique("p")
    for sweep in ("s-c", "s-a", "s-b"):
        await api.ok(
            """mutation($p: String!, $s: String!) {
                 createSweep(input: {project: $p, sweepId: $s}) { id } }""",
            {"p": project, "s": sweep},
            user.key,
        )
    query = """query($e: String!, $p: String!, $after: String) {
      project(entity: $e, name: $p) { sweeps(first: 1, after: $after) {
        totalCount edges { node { sweepId } } pageInfo { hasNextPage endCursor } } } }"""
    seen: list[str] = []
    after = None
    for _ in range(3):
        variables = {"e": user.name, "p": project, "after": after}
        page = (await api.ok(query, variables, user.key))["project"]["sweeps"]
        assert page["totalCount"] == 3
        seen += [e["node"]["sweepId"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
    assert seen == ["s-c", "s-a", "s-b"]
    assert not page["pageInfo"]["hasNextPage"]
