"""Collections as clients browse them: listing by type with cursors, versions, lookups."""

from __future__ import annotations

from typing import Any

from tests.fixtures.artifacts import (
    artifact,
    content,
    log_and_commit,
    log_artifact,
    new_run,
    versions,
)
from tests.fixtures.service import Api

COLLECTIONS = """query($e: String!, $p: String!, $type: String, $first: Int, $after: String) {
  project(entity: $e, name: $p) { artifactCollections(type: $type, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name type description project { name } } } } } }"""

COLLECTION = """query($e: String!, $p: String!, $n: String!, $first: Int, $after: String) {
  project(entity: $e, name: $p) { artifactCollection(name: $n) { id name type
    versions(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { version collection { name } } } }
    latest: version(alias: "latest") { version } v1: version(alias: "v1") { version }
    best: version(alias: "BEST") { version } none: version(alias: "nope") { version } } } }"""

NODE = """query($id: ID!) { node(id: $id) { ... on ArtifactCollection { name type } } }"""


async def test_collections_list_by_name_with_type_filter_and_cursors(
    api: Api, make_user: Any
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    entity, project, _ = run.split("/")
    kinds = {
        "c-data": "dataset",
        "a-model": "model",
        "b-data": "dataset",
        "d-code": "code",
        "e-data": "dataset",
    }
    for name, type_ in kinds.items():
        await log_and_commit(
            api, user.key, run, name, {"f": content()}, type=type_, description=f"about {name}"
        )
    # a collection whose only version is still PENDING exists, typed, but has no versions
    await log_artifact(api, user.key, run, "f-pending", {"f": content()}, type="dataset")

    seen, after = [], None
    while True:
        data = await api.ok(
            COLLECTIONS,
            {"e": entity, "p": project, "type": "dataset", "first": 2, "after": after},
            key=user.key,
        )
        page = data["project"]["artifactCollections"]
        assert page["totalCount"] == 4
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [c["name"] for c in seen] == ["b-data", "c-data", "e-data", "f-pending"]
    assert seen[0]["type"] == "dataset"
    assert seen[0]["description"] == "about b-data"
    assert seen[0]["project"] == {"name": project}
    everything = await api.ok(COLLECTIONS, {"e": entity, "p": project}, key=user.key)
    assert everything["project"]["artifactCollections"]["totalCount"] == 6
    first = await api.ok(COLLECTIONS, {"e": entity, "p": project, "first": 4}, key=user.key)
    page = first["project"]["artifactCollections"]
    after = page["pageInfo"]["endCursor"]
    rest = await api.ok(
        COLLECTIONS, {"e": entity, "p": project, "first": 4, "after": after}, key=user.key
    )
    assert [e["node"]["name"] for e in page["edges"]] == ["a-model", "b-data", "c-data", "d-code"]
    assert [e["node"]["name"] for e in rest["project"]["artifactCollections"]["edges"]] == [
        "e-data",
        "f-pending",
    ]
    node = await api.ok(NODE, {"id": seen[0]["id"]}, key=user.key)
    assert node["node"] == {"name": "b-data", "type": "dataset"}
    assert await versions(api, user.key, run, "f-pending") == []


async def test_collection_versions_and_lookups(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    entity, project, _ = run.split("/")
    for i in range(5):
        await log_and_commit(
            api, user.key, run, "ds", {"f": content()}, aliases=["best"] if i == 1 else []
        )
    names, after = [], None
    while True:
        variables = {"e": entity, "p": project, "n": "ds", "first": 2, "after": after}
        collection = (await api.ok(COLLECTION, variables, key=user.key))["project"][
            "artifactCollection"
        ]
        assert collection["versions"]["totalCount"] == 5
        names += [e["node"]["version"] for e in collection["versions"]["edges"]]
        if not collection["versions"]["pageInfo"]["hasNextPage"]:
            break
        after = collection["versions"]["pageInfo"]["endCursor"]
    assert names == ["v4", "v3", "v2", "v1", "v0"]
    assert collection["latest"] == {"version": "v4"}
    assert collection["v1"] == {"version": "v1"}
    assert collection["best"] == {"version": "v1"}
    assert collection["none"] is None


async def test_empty_artifacts_commit_at_once_and_deduplicate(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    first = await log_artifact(api, user.key, run, "empty", {}, entries=[])
    assert first["artifact"]["state"] == "COMMITTED"
    assert first["artifact"]["fileCount"] == 0
    again = await log_artifact(api, user.key, run, "empty", {}, entries=[])
    assert again["deduplicated"] is True
    assert again["artifact"]["id"] == first["artifact"]["id"]
    found = await artifact(api, user.key, run, "empty", "latest")
    assert found is not None
    assert found["size"] == 0
