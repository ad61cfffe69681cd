"""A query of artifact(path) alone looks its API key up in the version's own statement
(one round trip instead of two): the same refusals, privacy and freshness as when the
key is looked up before anything else."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.domain import accounts
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab
from tests.resolvers.lineage.test_round_trips import count_queries

# the shapes artifact(path) answers with one statement each: with usedBy's first page
# (the read-ahead), with its producer, alone
SHAPES = {
    "read-ahead": """query($a: String!) { artifact(path: $a) { name loggedBy { runId }
                       usedBy(first: 50) { edges { node { runId } } } } }""",
    "producer": "query($a: String!) { artifact(path: $a) { name loggedBy { runId } } }",
    "alone": "query($a: String!) { artifact(path: $a) { name } }",
    # with its lineage walked, and the nodes' rows read, in the same statement
    "lineage": """query($a: String!) { artifact(path: $a) { name loggedBy { runId }
                    lineage(direction: DOWNSTREAM, depth: 20) { truncated
                      nodes { __typename ... on Run { runId } ... on Artifact { name } }
                      edges { kind } } } }""",
}
WRONG_KEY = "lin_000000000000_not-a-key"


async def private_lab(api: Api, make_user: Any) -> tuple[Lab, Any]:
    """A private project of a team (admin: the returned user), "train" logged "model",
    used by "eval"."""
    admin = await make_user("kf")
    team = await api.team_with(admin, prefix="kft")
    lab = await Lab.open(api, admin, visibility="PRIVATE", entity=team)
    lab.run("train", "eval").log("train", "model").use("eval", lab.art("model"))
    await lab.flush()
    return lab, admin


def unauthenticated(response: httpx.Response) -> None:
    """The answer a bad key gets when it is looked up first: the error alone, no data."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" not in body, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error


async def post(api: Api, query: str, variables: dict[str, Any], key: str) -> httpx.Response:
    return await api.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {key}"},
    )


@pytest.mark.parametrize("shape", SHAPES)
async def test_each_shape_answers_its_members_in_one_round_trip(
    api: Api, make_user: Any, shape: str
) -> None:
    lab, admin = await private_lab(api, make_user)
    n, data = await count_queries(api, SHAPES[shape], {"a": lab.art("model")}, admin.key)
    assert n == 1
    assert data["artifact"]["name"] == "model"
    if shape != "alone":
        assert data["artifact"]["loggedBy"] == {"runId": "train"}
    if shape == "read-ahead":
        assert data["artifact"]["usedBy"]["edges"] == [{"node": {"runId": "eval"}}]
    if shape == "lineage":
        assert data["artifact"]["lineage"] == {
            "truncated": False,
            "nodes": [
                {"__typename": "Artifact", "name": "model"},
                {"__typename": "Run", "runId": "eval"},
            ],
            "edges": [{"kind": "USED"}],
        }


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_wrong_or_revoked_key_is_refused_whatever_the_path(
    api: Api, make_user: Any, db: Any, shape: str
) -> None:
    lab, admin = await private_lab(api, make_user)
    revoked = await accounts.create_key_for(db, admin.name)
    await accounts.revoke_key(db, revoked.key_id)
    paths = [
        lab.art("model"),  # exists, and the key's holder would read it
        f"{lab.entity}/{lab.project}/nothing:v0",  # does not exist
        f"{lab.project}/model:v0",  # no entity: the viewer's would be the default
        "not a path",  # the path itself is refused
    ]
    for key in (WRONG_KEY, revoked.key):
        for path in paths:
            unauthenticated(await post(api, SHAPES[shape], {"a": path}, key))
        # the document fails validation, or its variables their types: still 401
        unauthenticated(await post(api, "{ artifact(path: 1) { name } }", {}, key))
        unauthenticated(await post(api, SHAPES[shape], {"a": 5}, key))
    # the key's holder still reads it, with another key
    second = await accounts.create_key_for(db, admin.name)
    assert (await api.ok(SHAPES[shape], {"a": lab.art("model")}, second.key))["artifact"]


async def test_a_revoked_key_is_refused_on_its_next_request(
    api: Api, make_user: Any, db: Any
) -> None:
    lab, admin = await private_lab(api, make_user)
    key = await accounts.create_key_for(db, admin.name)
    query = SHAPES["read-ahead"]
    assert (await api.ok(query, {"a": lab.art("model")}, key.key))["artifact"]["name"] == "model"
    await accounts.revoke_key(db, key.key_id)
    unauthenticated(await post(api, query, {"a": lab.art("model")}, key.key))


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_new_membership_shows_on_the_next_request(
    api: Api, make_user: Any, shape: str
) -> None:
    lab, admin = await private_lab(api, make_user)
    outsider = await make_user("kfo")
    variables = {"a": lab.art("model")}
    assert await api.ok(SHAPES[shape], variables, outsider.key) == {"artifact": None}
    await api.ok(
        "mutation($t: String!, $u: String!) { addTeamMember(team: $t, username: $u) { name } }",
        {"t": lab.entity, "u": outsider.name},
        admin.key,
    )
    assert (await api.ok(SHAPES[shape], variables, outsider.key))["artifact"]["name"] == "model"


async def test_a_path_without_entity_defaults_to_the_key_holders(api: Api, make_user: Any) -> None:
    user = await make_user("kfd")
    lab = await Lab.open(api, user)
    lab.run("train", "eval").log("train", "model").use("eval", lab.art("model"))
    await lab.flush()
    for query in SHAPES.values():
        data = await api.ok(query, {"a": f"{lab.project}/model:v0"}, user.key)
        assert data["artifact"]["name"] == "model"


async def test_other_operations_look_the_key_up_first(api: Api, make_user: Any) -> None:
    """Two root fields, or another root field: the key is looked up before execution."""
    lab, admin = await private_lab(api, make_user)
    both = """query($a: String!) { artifact(path: $a) { name } viewer { username } }"""
    data = await api.ok(both, {"a": lab.art("model")}, admin.key)
    assert data == {"artifact": {"name": "model"}, "viewer": {"username": admin.name}}
    unauthenticated(await post(api, both, {"a": lab.art("model")}, WRONG_KEY))


async def test_a_wrong_keys_body_is_capped_as_an_anonymous_one(api: Api) -> None:
    """A body past the anonymous cap is not read for a key not yet found valid."""
    big = {"query": "{ viewer { username } }", "variables": {"x": "y" * (1024 * 1024 + 1)}}
    response = await api.http.post(
        "/graphql", json=big, headers={"authorization": f"Bearer {WRONG_KEY}"}
    )
    unauthenticated(response)


REFUSED_BEFORE_EXECUTION = {
    "bad-json": b'{"query": ',
    "no-query": b'{"variables": {}}',
    "syntax-error": b'{"query": "{ artifact(path: "}',
    "unknown-persisted-hash": (
        b'{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "' + b"ab" * 32 + b'"}}}'
    ),
    "two-operations": b'{"query": "query A { viewer { username } } query B { viewer { username } }"}',
    "too-deep": b'{"query": "{ artifact(path: \\"a/b/c:v0\\") '
    + b"{ loggedBy { project { runs { edges { node { project { runs { edges { node { id " * 6
    + b"}" * 72
    + b' } }"}',
}


@pytest.mark.parametrize("name", REFUSED_BEFORE_EXECUTION)
async def test_a_wrong_key_is_refused_before_whatever_else_is_wrong(
    api: Api, make_user: Any, name: str
) -> None:
    """Whatever refuses a request before execution, a wrong key is refused first, as when
    the key is looked up before anything else; a valid key gets the request's own error."""
    body = REFUSED_BEFORE_EXECUTION[name]
    user = await make_user("kfr")
    for key in (WRONG_KEY, user.key):
        headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
        response = await api.http.post("/graphql", content=body, headers=headers)
        if key == WRONG_KEY:
            unauthenticated(response)
        else:
            (error,) = response.json()["errors"]
            assert error["extensions"]["code"] not in ("UNAUTHENTICATED", "INTERNAL"), error
