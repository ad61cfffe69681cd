"""Query.projects: what the home page lists, private projects only for their members."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.service import Api, unique

pytestmark = pytest.mark.asyncio

LIST = """query($search: String, $first: Int, $after: String) {
  projects(search: $search, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { name entity { name } } }
  }
}"""


async def test_projects_lists_what_the_viewer_may_read_and_searches_by_name(
    api: Api, make_user: Any
) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    marker = unique("zq")
    made = {}
    for visibility in ("PRIVATE", "PUBLIC", "OPEN"):
        name = f"{marker}-{visibility.lower()}"
        await api.ok(
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
            {"i": {"entity": alice.name, "name": name, "visibility": visibility}},
            alice.key,
        )
        made[visibility] = name

    async def names(key: str | None, search: str) -> list[str]:
        data = await api.ok(LIST, {"search": search}, key)
        return [e["node"]["name"] for e in data["projects"]["edges"]]

    assert await names(alice.key, marker) == sorted(made.values())
    readable = sorted([made["PUBLIC"], made["OPEN"]])
    assert await names(None, marker) == readable
    assert await names(bob.key, marker) == readable
    data = await api.ok(LIST, {"search": marker}, None)
    assert data["projects"]["totalCount"] == 2, "the count leaves out what is hidden"
    # case-insensitive, anywhere in the name; % and _ are not wildcards
    assert await names(alice.key, marker.upper() + "-PUB") == [made["PUBLIC"]]
    assert await names(alice.key, f"{marker}%") == []
    assert await names(alice.key, f"{marker[:-1]}_") == []


async def test_projects_pages_by_entity_then_name(api: Api, make_user: Any) -> None:
    alice = await make_user("alice")
    marker = unique("pg")
    for i in range(5):
        await api.ok(
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
            {"i": {"entity": alice.name, "name": f"{marker}-{i}", "visibility": "PUBLIC"}},
            alice.key,
        )
    seen: list[str] = []
    after = None
    while True:
        data = await api.ok(LIST, {"search": marker, "first": 2, "after": after}, None)
        page = data["projects"]
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"{marker}-{i}" for i in range(5)]


async def test_projects_without_search_page_and_count_what_is_readable(
    api: Api, make_user: Any
) -> None:
    """The unfiltered listing: a cursor from anywhere continues in (entity, name) order,
    and the count includes a member's private projects only for that member."""
    alice = await make_user("alice")
    marker = unique("all")
    for i, visibility in enumerate(("PUBLIC", "PUBLIC", "PUBLIC", "PRIVATE")):
        await api.ok(
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
            {"i": {"entity": alice.name, "name": f"{marker}-{i}", "visibility": visibility}},
            alice.key,
        )
    first = await api.ok(LIST, {"search": f"{marker}-0", "first": 1}, None)
    cursor = first["projects"]["pageInfo"]["endCursor"]
    # nothing sorts between alice's own projects: her entity is new, its projects these
    rest = await api.ok(LIST, {"first": 2, "after": cursor}, None)
    assert [e["node"]["name"] for e in rest["projects"]["edges"]] == [f"{marker}-1", f"{marker}-2"]
    mine = await api.ok(LIST, {"first": 3, "after": cursor}, alice.key)
    assert [e["node"]["name"] for e in mine["projects"]["edges"]] == [
        f"{marker}-{i}" for i in (1, 2, 3)
    ]
    counted = {
        who: (await api.ok(LIST, {"first": 0}, key))["projects"]["totalCount"]
        for who, key in (("anonymous", None), ("alice", alice.key))
    }
    assert counted["alice"] == counted["anonymous"] + 1  # her private project
