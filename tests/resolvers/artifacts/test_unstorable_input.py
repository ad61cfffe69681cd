"""Input JSON can carry but Postgres cannot store: NUL, unpaired surrogates, NaN, sizes past
int64, cursors forged to hold such values. Each is the client's mistake (BAD_USER_INPUT, or
simply "no such thing" for lookups), never an INTERNAL error.

Requests are sent as raw JSON text: ``json.dumps`` writes a lone surrogate as the escape
``\\ud800``, which is how a client can send one.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.fixtures.artifacts import (
    ARTIFACT,
    ENTRIES,
    USE,
    VERSIONS,
    artifact_path,
    content,
    log_and_commit,
    new_run,
    versions,
)
from tests.fixtures.service import Api

LOG = """mutation($i: LogArtifactInput!) { logArtifact(input: $i) { artifact { state } } }"""
ALIASES = """mutation($id: ID!, $add: [String!]) {
  updateArtifactAliases(input: {id: $id, add: $add}) { aliases } }"""


async def raw(
    api: Api, key: str, query: str, variables: dict[str, Any], *, allow_nan: bool = False
) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables}, allow_nan=allow_nan)
    response = await api.http.post(
        "/graphql",
        content=body,
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    return errors[0]["extensions"]["code"] if errors else None


GOOD = {"path": "f", "digest": "c" * 64, "size": 1}
BAD_LOGS = {
    "description-nul": {"description": "a\x00b"},
    "description-surrogate": {"description": "a\ud800b"},
    "metadata-nul": {"metadata": {"k": "a\x00b"}},
    "metadata-nul-key": {"metadata": {"k\x00": 1}},
    "metadata-surrogate": {"metadata": {"k": ["\udfff"]}},
    "metadata-surrogate-key": {"metadata": {"\ud800": 1}},
    "metadata-nan": {"metadata": {"k": float("nan")}},
    "metadata-infinity": {"metadata": {"k": {"deep": float("inf")}}},
    "alias-surrogate": {"aliases": ["a\ud800"]},
    "path-surrogate": {"entries": [{**GOOD, "path": "p\ud800"}]},
    "ref-surrogate": {"entries": [{"path": "p", "ref": "s3://bucket/k\ud800", "checksum": False}]},
    "ref-nul": {"entries": [{"path": "p", "ref": "s3://bucket/k\x00", "checksum": False}]},
    "size-past-int64": {"entries": [{**GOOD, "size": 2**63}]},
    "sizes-adding-past-int64": {
        "entries": [
            {"path": "a", "digest": "a" * 64, "size": 2**62},
            {"path": "b", "digest": "b" * 64, "size": 2**62},
        ]
    },
}


@pytest.mark.parametrize("fields", BAD_LOGS.values(), ids=BAD_LOGS.keys())
async def test_unstorable_log_input_is_bad_input(
    api: Api, make_user: Any, fields: dict[str, Any]
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    inp = {"run": run, "name": "ds", "type": "t", "entries": [GOOD], **fields}
    assert code(await raw(api, user.key, LOG, {"i": inp}, allow_nan=True)) == "BAD_USER_INPUT"
    assert await versions(api, user.key, run, "ds") == []


async def test_largest_sizes_that_fit_are_fine(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    entries = [
        {"path": "a", "digest": "a" * 64, "size": 2**62},
        {"path": "b", "digest": "b" * 64, "size": 2**62 - 1},
    ]
    body = await raw(
        api, user.key, LOG, {"i": {"run": run, "name": "ds", "type": "t", "entries": entries}}
    )
    assert body["data"]["logArtifact"]["artifact"]["state"] == "PENDING"


@pytest.mark.parametrize("alias", ["a\ud800", "a\x00"])
async def test_unstorable_aliases_and_specs(api: Api, make_user: Any, alias: str) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    v0 = await log_and_commit(api, user.key, run, "ds", {"f": content()})
    assert (
        code(await raw(api, user.key, ALIASES, {"id": v0["id"], "add": [alias]}))
        == "BAD_USER_INPUT"
    )
    # a lookup by a spelling no alias can have is refused for the whole request: text no
    # field can store (NUL, an unpaired surrogate) is the client's mistake wherever it is
    path = artifact_path(run, "ds", alias)
    body = await raw(api, user.key, ARTIFACT, {"path": path})
    assert code(body) == "BAD_USER_INPUT"
    entity, project, _ = run.split("/")
    query = """query($e: String!, $p: String!, $a: String!) { project(entity: $e, name: $p) {
               artifactCollection(name: "ds") { version(alias: $a) { id } } } }"""
    body = await raw(api, user.key, query, {"e": entity, "p": project, "a": alias})
    assert code(body) == "BAD_USER_INPUT"
    assert code(await raw(api, user.key, USE, {"run": run, "art": path})) in (
        "BAD_USER_INPUT",
        "NOT_FOUND",
    )


def cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


async def test_unstorable_prefixes_and_forged_cursors(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    await log_and_commit(api, user.key, run, "ds", {"f": content()})
    path = artifact_path(run, "ds", "v0")
    for prefix in ["\ud800", "a\x00"]:
        assert (
            code(await raw(api, user.key, ENTRIES, {"path": path, "prefix": prefix}))
            == "BAD_USER_INPUT"
        )
    for forged in [cursor(["a\x00"]), cursor(["\ud800"])]:
        assert (
            code(await raw(api, user.key, ENTRIES, {"path": path, "after": forged}))
            == "BAD_USER_INPUT"
        )
    entity, project, _ = run.split("/")
    collections = """query($e: String!, $p: String!, $after: String) {
      project(entity: $e, name: $p) { artifactCollections(after: $after) { totalCount } } }"""
    body = await raw(
        api, user.key, collections, {"e": entity, "p": project, "after": cursor(["\x00"])}
    )
    assert code(body) == "BAD_USER_INPUT"
    # version cursors are indices: a forged one past a Postgres integer is refused, not a crash
    versions_after = VERSIONS.replace(
        "versions(first: 1000)", "versions(first: 10, after: $after)"
    ).replace("$n: String!)", "$n: String!, $after: String)")
    for index in [2**31, -1]:
        body = await raw(
            api,
            user.key,
            versions_after,
            {"e": entity, "p": project, "n": "ds", "after": cursor([index])},
        )
        assert code(body) == "BAD_USER_INPUT"
    body = await raw(
        api, user.key, versions_after, {"e": entity, "p": project, "n": "ds", "after": cursor([1])}
    )
    assert [
        e["node"]["version"]
        for e in body["data"]["project"]["artifactCollection"]["versions"]["edges"]
    ] == ["v0"]
