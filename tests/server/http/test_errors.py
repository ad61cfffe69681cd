"""Every error reaches the client with its code and a message that says what to fix."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.domain import accounts
from tests.fixtures.service import Api, unique

VIEWER = "{ viewer { username } }"


async def post_with_header(api: Api, authorization: str, query: str = VIEWER) -> httpx.Response:
    return await api.http.post(
        "/graphql", json={"query": query}, headers={"authorization": authorization}
    )


def only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "data" not in body or body["data"] is None, body
    (error,) = body["errors"]
    return error  # type: ignore[no-any-return]


# ---- UNAUTHENTICATED ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Bearer lin_000000000000_not-a-key",
        "Bearer",
        "Bearer    ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "lin_abc",
    ],
    ids=["wrong-key", "no-key", "blank-key", "basic", "token", "bare-key"],
)
async def test_a_bad_authorization_header_is_never_silently_anonymous(
    api: Api, header: str
) -> None:
    response = await post_with_header(api, header)
    error = only_error(response)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Bearer" in error["message"] or "key" in error["message"]


async def test_a_revoked_key_stops_working_and_others_go_on(
    api: Api, make_user: Any, db: Any
) -> None:
    alice = await make_user("a")
    second = await accounts.create_key_for(db, alice.name)
    assert (await api.ok(VIEWER, key=alice.key))["viewer"] == {"username": alice.name}
    await accounts.revoke_key(db, alice.key_id)
    error = only_error(await post_with_header(api, f"Bearer {alice.key}"))
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api.ok(VIEWER, key=second.key))["viewer"] == {"username": alice.name}


async def test_no_header_is_anonymous_and_anonymous_writes_are_unauthenticated(api: Api) -> None:
    assert (await api.ok(VIEWER))["viewer"] is None
    for mutation in (
        'mutation { upsertRun(input: {project: "p"}) { id } }',
        'mutation { createSweep(input: {project: "p"}) { id } }',
        'mutation { createProject(input: {entity: "e", name: "p"}) { id } }',
        'mutation { updateRun(input: {run: "e/p/r"}) { id } }',
        'mutation { createTeam(name: "t") { id } }',
    ):
        assert await api.error(mutation) == "UNAUTHENTICATED", mutation


# ---- BAD_USER_INPUT ----------------------------------------------------------------------

BAD_NAMES = {
    "empty": "",
    "129-chars": "x" * 129,
    "umlaut": "ü",
    "dotdot-slash": "../x",
    "slash": "a/b",
    "space": "a b",
    "tab": "a\tb",
    "colon": "a:b",
}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
async def test_bad_names_are_refused_everywhere(api: Api, make_user: Any, name: str) -> None:
    alice = await make_user("a")
    project = unique("p")
    create = (
        "mutation($e: String!, $n: String!) { createProject(input: {entity: $e, name: $n}) { id } }"
    )
    upsert = (
        "mutation($p: String!, $r: String) { upsertRun(input: {project: $p, runId: $r}) { id } }"
    )
    sweep = """mutation($p: String!, $s: String) {
                 createSweep(input: {project: $p, sweepId: $s}) { id } }"""
    for query, variables in [
        (create, {"e": alice.name, "n": name}),
        (upsert, {"p": name}),
        (upsert, {"p": project, "r": name}),
        (sweep, {"p": project, "s": name}),
        ("mutation($n: String!) { createTeam(name: $n) { id } }", {"n": name}),
        ("query($n: String!) { entity(name: $n) { id } }", {"n": name}),
        (
            "query($e: String!, $n: String!) { project(entity: $e, name: $n) { id } }",
            {"e": alice.name, "n": name},
        ),
    ]:
        body = await api.gql(query, variables, alice.key)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (query, body)
        assert "1-128 characters" in body["errors"][0]["message"]
    # nothing was created under any of them
    projects = await api.ok(
        "query($e: String!) { entity(name: $e) { projects { totalCount } } }", {"e": alice.name}
    )
    assert projects["entity"]["projects"]["totalCount"] == 0


async def test_names_of_128_allowed_characters_are_fine(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    name = ("A-z_0.9" * 19)[:128]
    data = await api.ok(
        "mutation($n: String!) { upsertRun(input: {project: $n, runId: $n}) { path } }",
        {"n": name},
        alice.key,
    )
    assert data["upsertRun"]["path"] == f"{alice.name}/{name}/{name}"


BAD_PATHS = ["", "a", "a/b", "a/b/c/d", "a//c", "/a/b", "a/b/", "a/b/ü", "a b/c/d"]


@pytest.mark.parametrize("path", BAD_PATHS)
async def test_bad_paths_are_bad_input(api: Api, make_user: Any, path: str) -> None:
    alice = await make_user("a")
    for query in (
        "query($p: String!) { run(path: $p) { id } }",
        "query($p: String!) { sweep(path: $p) { id } }",
        "mutation($p: String!) { updateRun(input: {run: $p}) { id } }",
    ):
        body = await api.gql(query, {"p": path}, alice.key)
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (query, body)
        assert "path" in error["message"] or "1-128 characters" in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        "{ nope }",
        "{ viewer { username ",
        "query { run(path: 1) { id } }",
        "query($x: Int!) { viewer { username } }",
        'mutation { updateRun(input: {run: "a/b/c", state: DONE}) { id } }',
    ],
    ids=["unknown-field", "syntax", "wrong-arg-type", "missing-variable", "unknown-enum"],
)
async def test_invalid_documents_are_bad_input(api: Api, query: str) -> None:
    response = await api.post(query)
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"query": 5}',
        b'{"query": "{ viewer { username } }", "variables": [1]}',
        b'{"query": "{ viewer { username } }", "operationName": 5}',
    ],
    ids=[
        "broken",
        "not-utf8",
        "list",
        "query-not-string",
        "variables-not-object",
        "operation-name-not-string",
    ],
)
async def test_malformed_request_bodies_are_http_400(api: Api, body: bytes) -> None:
    response = await api.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    error = only_error(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "JSON" in error["message"] or '"' in error["message"]


# ---- NOT_FOUND, CONFLICT, FORBIDDEN ------------------------------------------------------


async def test_not_found_conflict_and_forbidden(api: Api, make_user: Any) -> None:
    alice, bob = await make_user("a"), await make_user("b")
    project = unique("p")
    create = """mutation($e: String!, $n: String!, $v: Visibility!) {
                  createProject(input: {entity: $e, name: $n, visibility: $v}) { id } }"""
    await api.ok(create, {"e": alice.name, "n": project, "v": "PUBLIC"}, alice.key)

    body = await api.gql(create, {"e": alice.name, "n": project, "v": "PUBLIC"}, alice.key)
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert project in body["errors"][0]["message"]

    assert (
        await api.error(create, {"e": alice.name, "n": unique("p"), "v": "PRIVATE"}, bob.key)
        == "FORBIDDEN"
    )
    upsert = (
        "mutation($e: String!, $p: String!) { upsertRun(input: {entity: $e, project: $p}) { id } }"
    )
    assert await api.error(upsert, {"e": alice.name, "p": project}, bob.key) == "FORBIDDEN"

    update = "mutation($r: String!) { updateRun(input: {run: $r, state: FINISHED}) { id } }"
    assert await api.error(update, {"r": f"{alice.name}/{project}/nope"}, alice.key) == "NOT_FOUND"
    assert (
        await api.error(create, {"e": unique("ghost"), "n": "p", "v": "PRIVATE"}, alice.key)
        == "NOT_FOUND"
    )


async def test_unpaired_surrogate_anywhere_is_bad_user_input(api: Api, make_user: Any) -> None:
    user = await make_user("sur")
    # json.dumps would escape it for us; write the escape by hand as a client could
    body = (
        '{"query": "mutation($c: JSON) { upsertRun(input: {project: \\"p\\", config: $c}) { id } }",'
        ' "variables": {"c": {"k": "\\ud800"}}}'
    )
    response = await api.http.post(
        "/graphql",
        content=body.encode(),
        headers={"authorization": f"Bearer {user.key}", "content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "surrogate" in response.json()["errors"][0]["message"]
    # a valid surrogate pair (an emoji, escaped) is fine
    ok = body.replace("\\ud800", "\\ud83d\\ude00")
    response = await api.http.post(
        "/graphql",
        content=ok.encode(),
        headers={"authorization": f"Bearer {user.key}", "content-type": "application/json"},
    )
    assert "errors" not in response.json(), response.json()
