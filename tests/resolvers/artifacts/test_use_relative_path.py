"""useArtifact with "name:alias": the artifact is looked up in the using run's project."""

from __future__ import annotations

from typing import Any

from tests.fixtures.artifacts import USE, content, log_and_commit, new_run
from tests.fixtures.service import Api, unique

USED_BY = """query($path: String!) { artifact(path: $path) {
  usedBy { edges { node { path } } } } }"""


async def test_name_and_alias_resolve_in_the_using_runs_project(api: Api, make_user: Any) -> None:
    user = await make_user()
    project = unique("p")
    producer = await new_run(api, user.key, project)
    consumer = await new_run(api, user.key, project)
    await log_and_commit(
        api, user.key, producer, "table", {"a.csv": content("a")}, aliases=["best"]
    )

    used = (await api.ok(USE, {"run": consumer, "art": "table:best"}, key=user.key))["useArtifact"]

    assert used["path"] == f"{user.name}/{project}/table:v0"
    data = await api.ok(USED_BY, {"path": f"{user.name}/{project}/table:v0"}, key=user.key)
    assert [e["node"]["path"] for e in data["artifact"]["usedBy"]["edges"]] == [consumer]


async def test_a_name_missing_from_the_runs_project_is_not_found(api: Api, make_user: Any) -> None:
    user = await make_user()
    other = await new_run(api, user.key)
    await log_and_commit(api, user.key, other, "table", {"a.csv": content("a")})
    consumer = await new_run(api, user.key)  # another project: "table" is not there

    assert (
        await api.error(USE, {"run": consumer, "art": "table:latest"}, key=user.key) == "NOT_FOUND"
    )


async def test_a_name_without_alias_is_bad_input(api: Api, make_user: Any) -> None:
    user = await make_user()
    consumer = await new_run(api, user.key)
    body = await api.gql(USE, {"run": consumer, "art": "table"}, key=user.key)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "name:alias" in body["errors"][0]["message"]
