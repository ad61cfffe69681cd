"""Query limits, checked before anything runs: depth 15 and a 500,000-node budget."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import get_introspection_query

from server.http.guard import MAX_NODES
from tests.fixtures.service import Api


def depth_query(depth: int) -> str:
    """``depth`` levels: run { project { entity { project(name) { entity { ... { id } } } } } }."""
    levels = ["run(path: $p)", "project"]
    while len(levels) < depth - 1:
        levels.append("entity" if levels[-1].startswith("project") else 'project(name: "x")')
    body = "id"
    for level in reversed(levels):
        body = f"{level} {{ {body} }}"
    return f"query($p: String!) {{ {body} }}"


async def test_fifteen_levels_run_and_sixteen_are_too_complex(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    await api.ok('mutation { upsertRun(input: {project: "x", runId: "r"}) { id } }', key=alice.key)
    path = {"p": f"{alice.name}/x/r"}
    data = await api.ok(depth_query(15), path, alice.key)
    assert data["run"]["project"]["entity"]["project"]["entity"] is not None
    body = await api.gql(depth_query(16), path, alice.key)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "15" in body["errors"][0]["message"]
    assert body.get("data") is None


async def test_a_depth_bomb_is_refused_before_it_runs(api: Api) -> None:
    body = await api.gql(depth_query(200), {"p": "a/b/c"})
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_depth_through_fragments_counts_too(api: Api) -> None:
    deep = "name"
    for _ in range(7):  # 14 more levels below the fragment's 3
        deep = f'project(name: "x") {{ entity {{ {deep} }} }}'
    query = f"""query($p: String!) {{ run(path: $p) {{ ...R }} }}
      fragment R on Run {{ project {{ entity {{ ...E }} }} }}
      fragment E on Entity {{ {deep} }}"""
    body = await api.gql(query, {"p": "a/b/c"})
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


NODE_BOMB = """query($e: String!) { entity(name: $e) {
  projects(first: 1000) { edges { node { runs(first: 1000) { edges { node { id } } } } } } } }"""


async def test_nested_connections_over_the_node_budget_are_refused(
    api: Api, make_user: Any
) -> None:
    alice = await make_user("a")
    body = await api.gql(NODE_BOMB, {"e": alice.name}, alice.key)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "500,000" in body["errors"][0]["message"]
    # 1000 + 1000 x 499 = 500,000 nodes is exactly the budget
    fits = NODE_BOMB.replace("runs(first: 1000)", "runs(first: 499)")
    assert (await api.ok(fits, {"e": alice.name}, alice.key))["entity"]["projects"]["edges"] == []


async def test_default_first_counts_as_50(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    # unset first counts 50: 1000 projects + 1000 x 50 runs + 1000 x 50 x 50 sweeps
    query = """query($e: String!) { entity(name: $e) { projects(first: 1000) { edges { node {
                 runs { edges { node { project { sweeps { totalCount } } } } } } } } } }"""
    body = await api.gql(query, {"e": alice.name}, alice.key)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_first_from_variables_counts(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    query = NODE_BOMB.replace("query($e: String!)", "query($e: String!, $n: Int)").replace(
        "runs(first: 1000)", "runs(first: $n)"
    )
    body = await api.gql(query, {"e": alice.name, "n": 1000}, alice.key)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "errors" not in await api.gql(query, {"e": alice.name, "n": 10}, alice.key)


async def test_a_cached_document_is_checked_again_for_other_variables(
    api: Api, make_user: Any
) -> None:
    """The verdict of a document whose counts come from variables holds for those values
    only: passing once (and being cached) lets no bigger value through later."""
    alice = await make_user("a")
    query = NODE_BOMB.replace("query($e: String!)", "query($e: String!, $n: Int)").replace(
        "runs(first: 1000)", "runs(first: $n)"
    )
    for n in (10, 1000, 10, 1000):
        body = await api.gql(query, {"e": alice.name, "n": n}, alice.key)
        assert ("errors" in body) == (n == 1000), body
        if n == 1000:
            assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_kept_verdict_is_for_the_values_of_every_count_variable(
    api: Api, make_user: Any
) -> None:
    """A passing verdict is kept per values of all the variables counts came from (a
    lineage's depth and limit, say), whatever the others: a request repeating one of
    them but not the other is checked again."""
    alice = await make_user("a")
    query = NODE_BOMB.replace("query($e: String!)", "query($e: String!, $p: Int, $r: Int)")
    query = query.replace("projects(first: 1000)", "projects(first: $p)")
    query = query.replace("runs(first: 1000)", "runs(first: $r)")
    # 1,000 x 1,000 is past the budget; either alone is not
    for p, r in ((10, 10), (1000, 10), (1000, 1000), (10, 1000), (1000, 1000), (10, 10)):
        body = await api.gql(query, {"e": alice.name, "p": p, "r": r}, alice.key)
        refused = p * r > MAX_NODES
        assert ("errors" in body) == refused, (p, r, body)
        if refused:
            assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_each_operation_of_a_cached_document_is_checked(api: Api, make_user: Any) -> None:
    """A document's small operation passing (and being remembered) says nothing of its
    other operations."""
    alice = await make_user("a")
    small = NODE_BOMB.replace("query($e: String!)", "query Small($e: String!)").replace(
        "runs(first: 1000)", "runs(first: 10)"
    )
    document = small + "\n" + NODE_BOMB.replace("query($e: String!)", "query Bomb($e: String!)")
    for name in ("Small", "Bomb", "Small", "Bomb"):
        response = await api.http.post(
            "/graphql",
            json={"query": document, "variables": {"e": alice.name}, "operationName": name},
            headers={"authorization": f"Bearer {alice.key}"},
        )
        body = response.json()
        assert ("errors" in body) == (name == "Bomb"), body
        if name == "Bomb":
            assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize("anonymous", [True, False])
async def test_the_standard_introspection_query_works(
    api: Api, make_user: Any, anonymous: bool
) -> None:
    key = None if anonymous else (await make_user("a")).key
    data = await api.ok(get_introspection_query(descriptions=True), key=key)
    types = {t["name"] for t in data["__schema"]["types"]}
    assert {"Query", "Mutation", "Run", "Project", "Sweep", "RunConnection"} <= types


async def test_the_budget_is_summed_over_the_whole_query(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    half = """entity(name: $e) {
                projects(first: 1000) { edges { node { runs(first: 300) { totalCount } } } } }"""
    assert "errors" not in await api.gql(
        f"query($e: String!) {{ a: {half} }}", {"e": alice.name}, alice.key
    )
    body = await api.gql(
        f"query($e: String!) {{ a: {half} b: {half} }}", {"e": alice.name}, alice.key
    )
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_an_introspection_bomb_is_refused(api: Api) -> None:
    """Introspection does not count towards depth, but nesting its lists is still refused."""
    query = "{ __schema { types { " + "fields { type { " * 12 + "name" + " } }" * 12 + " } } }"
    body = await api.gql(query)
    assert body["errors"][0]["extensions"]["code"] in ("QUERY_TOO_COMPLEX", "BAD_USER_INPUT")
    assert body.get("data") is None
