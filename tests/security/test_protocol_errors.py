"""Protocol mistakes are the client's: BAD_USER_INPUT (HTTP 400 for a body that is not a
GraphQL request at all) with a message, an ``extensions.code`` and the request id, never
a bare 500 or INTERNAL. Each case here came back as one of those before."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.fixtures.service import Api, unique


async def send(api: Api, body: bytes | str, key: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    response = await api.http.post("/graphql", content=body, headers=headers)
    assert response.headers.get("x-request-id"), response.headers
    return response.status_code, response.json()


def client_error(status: int, answer: dict[str, Any]) -> str:
    assert status in (200, 400), (status, answer)
    (error, *_) = answer["errors"]
    assert error["message"]
    code: str = error["extensions"]["code"]
    assert code == "BAD_USER_INPUT", answer
    return str(error["message"])


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ viewer { id } }", "variables": {"x": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}",
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({"query": "{ viewer { id } }", "extensions": nested(150)}).encode(),
    ],
    ids=["variables-100000", "body-100000", "extensions-150"],
)
async def test_deeply_nested_json_is_a_400(api: Api, body: bytes) -> None:
    status, answer = await send(api, body)
    assert status == 400
    assert "nested" in client_error(status, answer)


UPSERT = """mutation($i: UpsertRunInput!) { upsertRun(input: $i) { id } }"""
LOG = """mutation($i: LogArtifactInput!) { logArtifact(input: $i) { artifact { id } } }"""


@pytest.mark.parametrize("where", ["config", "metadata"])
async def test_deeply_nested_documents_are_refused_and_moderate_ones_stored(
    api: Api, make_user: Any, where: str
) -> None:
    user = await make_user()
    project = unique("p")
    deep, fine = {"k": nested(200)}, {"k": nested(40)}
    await api.ok(UPSERT, {"i": {"project": project, "runId": "r"}}, key=user.key)
    for document, ok in ((deep, False), (fine, True)):
        variables: dict[str, Any]
        if where == "config":
            variables = {
                "i": {"project": project, "runId": "r", "resume": "ALLOW", where: document}
            }
            query = UPSERT
        else:
            entries = [{"path": "f", "digest": "a" * 64, "size": 1}]
            variables = {"i": {"run": f"{user.name}/{project}/r", "name": "n", "type": "t",
                               "entries": entries, where: document}}  # fmt: skip
            query = LOG
        status, answer = await send(
            api, json.dumps({"query": query, "variables": variables}), user.key
        )
        if ok:
            assert "errors" not in answer, answer
        else:
            assert status == 400
            client_error(status, answer)


async def test_a_deeply_nested_literal_in_the_query_is_bad_input(api: Api) -> None:
    literal = "{a: " * 400 + "1" + "}" * 400
    query = f'mutation {{ upsertRun(input: {{project: "p", config: {literal}}}) {{ id }} }}'
    client_error(*await send(api, json.dumps({"query": query})))
    selections = "{ viewer " * 400 + "{ id }" + " }" * 400
    status, answer = await send(api, json.dumps({"query": selections}))
    assert answer["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "QUERY_TOO_COMPLEX")


@pytest.mark.parametrize(
    ("query", "operation_name"),
    [
        ("query A { viewer { id } }", "B"),
        ("fragment F on Query { viewer { id } }", None),
        ("fragment F on Query { viewer { id } }", "F"),
        ("query A { viewer { id } } query B { viewer { id } }", None),
        ("{ viewer { id } }", "A"),
    ],
    ids=["unknown-name", "fragment-only", "fragment-by-name", "two-unnamed", "anonymous-named"],
)
async def test_choosing_the_operation_is_checked(
    api: Api, query: str, operation_name: str | None
) -> None:
    body = json.dumps({"query": query, "operationName": operation_name})
    client_error(*await send(api, body))


async def test_several_operations_without_a_name_run_none(api: Api, make_user: Any) -> None:
    user = await make_user()
    team = unique("team")
    query = f'mutation M {{ createTeam(name: "{team}") {{ name }} }} query Q {{ viewer {{ id }} }}'
    message = client_error(*await send(api, json.dumps({"query": query}), user.key))
    assert "operationName" in message
    assert (await api.ok(f'{{ entity(name: "{team}") {{ name }} }}'))["entity"] is None
    named = json.dumps({"query": query, "operationName": "M"})
    assert "errors" not in (await send(api, named, user.key))[1]


@pytest.fixture
async def world(api: Api, make_user: Any) -> dict[str, str]:
    """A user with a project, a run in a sweep, and a logged artifact."""
    user = await make_user()
    project = unique("p")
    sweep = await api.ok(
        'mutation($p: String!) { createSweep(input: {project: $p, sweepId: "s"}) { path } }',
        {"p": project},
        key=user.key,
    )
    await api.ok(UPSERT, {"i": {"project": project, "runId": "r", "sweep": "s"}}, key=user.key)
    return {"key": user.key, "entity": user.name, "project": project,
            "run": f"{user.name}/{project}/r", "sweep": sweep["createSweep"]["path"]}  # fmt: skip


NUL_QUERIES: dict[str, tuple[str, dict[str, Any]]] = {
    "entity-name": ("query($v: String!) { entity(name: $v) { name } }", {}),
    "project-name": (
        "query($e: String!, $v: String!) { project(entity: $e, name: $v) { id } }",
        {},
    ),
    "collection-type": (
        "query($e: String!, $p: String!, $v: String) { project(entity: $e, name: $p) "
        "{ artifactCollections(type: $v) { totalCount } } }",
        {},
    ),
    "logged-type": (
        "query($r: String!, $v: String) { run(path: $r) { loggedArtifacts(type: $v) { totalCount } } }",
        {},
    ),
    "best-run-metric": (
        "query($s: String!, $v: String!) { sweep(path: $s) { bestRun(metric: $v) { id } } }",
        {},
    ),
    "order-by-field": (
        "query($e: String!, $p: String!, $v: String!) { project(entity: $e, name: $p) "
        "{ runs(orderBy: {field: $v}) { totalCount } } }",
        {},
    ),
    "run-name": (
        "mutation($p: String!, $v: String) { upsertRun(input: {project: $p, name: $v}) { id } }",
        {},
    ),
}


@pytest.mark.parametrize("case", sorted(NUL_QUERIES))
@pytest.mark.parametrize("form", ["variable", "literal-escape"])
async def test_nul_in_any_string_argument_is_bad_input(
    api: Api, world: dict[str, str], case: str, form: str
) -> None:
    query, _ = NUL_QUERIES[case]
    variables = {"e": world["entity"], "p": world["project"], "r": world["run"],
                 "s": world["sweep"], "v": "summary.a\x00b"}  # fmt: skip
    if form == "literal-escape":
        query = query.replace(", $v: String!", "").replace(", $v: String", "")
        query = query.replace("($v: String!)", "").replace("($v: String)", "")
        query = query.replace("$v", '"summary.a\\u0000b"')
        del variables["v"]
    used = {k: v for k, v in variables.items() if f"${k}" in query}
    body = json.dumps({"query": query, "variables": used})
    assert "NUL" in client_error(*await send(api, body, world["key"]))


async def test_nul_in_the_query_text_is_bad_input(api: Api) -> None:
    client_error(*await send(api, json.dumps({"query": "{ viewer\x00 { id } }"})))
    client_error(*await send(api, json.dumps({"query": '{ entity(name: "a\x00") { name } }'})))


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        cursor_of(b"[" * 2000 + b"]" * 2000),
        cursor_of(b"[" * 100_000 + b"]" * 100_000),
        cursor_of(json.dumps([nested(30, "x")]).encode()),
        cursor_of(json.dumps([{"t": {"t": 1}}, 1]).encode()),
        "!!not base64!!",
        "x" * 100_000,
    ],
    ids=["nested-2000", "nested-100000", "nested-30", "nested-datetime", "garbage", "huge"],
)
async def test_forged_cursors_are_bad_input(api: Api, world: dict[str, str], after: str) -> None:
    query = """query($e: String!, $p: String!, $a: String) { project(entity: $e, name: $p) {
        runs(after: $a) { totalCount } sweeps(after: $a) { totalCount } } }"""
    variables = {"e": world["entity"], "p": world["project"], "a": after}
    client_error(
        *await send(api, json.dumps({"query": query, "variables": variables}), world["key"])
    )


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize(
    "query",
    ["sig=%C3%A9", "sig=%00", "exp=99999999999999999999999&sig=x", "exp=-1&sig=" + "a" * 64],
    ids=["non-ascii-sig", "nul-sig", "huge-exp", "negative-exp"],
)
async def test_forged_file_urls_are_refused_not_500(api: Api, method: str, query: str) -> None:
    digest = "ab" * 32
    key = f"blobs/ab/ab/{digest}" if method == "GET" else f"staging/1/{digest}"
    op = method.lower()
    response = await api.http.request(
        method, f"/files/{key}?op={op}&sha256={digest}&size=1&exp=4102444800&{query}"
    )
    assert response.status_code in (403, 404), (response.status_code, response.text)
