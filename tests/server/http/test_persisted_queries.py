"""Persisted queries (Apollo's protocol) and queries over GET."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from server.http.documents import DocumentCache, PreparedDocument
from tests.fixtures.service import Api, unique

NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def auth(key: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"} if key else {}


async def post(api: Api, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    return await api.http.post("/graphql", json=body, headers=auth(key))


def a_query() -> str:
    # unique text, so no other test registered it
    return f"query {unique('Q').replace('-', '_')}($p: String!) {{ run(path: $p) {{ runId }} }}"


async def make_run(api: Api, make_user: Any) -> tuple[Any, str]:
    """A user and the path of a run in their private project."""
    user = await make_user("pq")
    data = await api.ok(
        'mutation { upsertRun(input: {project: "secret", runId: "r1"}) { path } }', key=user.key
    )
    return user, data["upsertRun"]["path"]


async def test_an_unknown_hash_is_not_found_so_the_client_sends_the_query(api: Api) -> None:
    response = await post(api, {"extensions": persisted(sha(a_query()))})
    assert response.status_code == 200
    assert response.json() == NOT_FOUND


async def test_a_registered_hash_runs_the_stored_document(api: Api, make_user: Any) -> None:
    user, path = await make_run(api, make_user)
    query = a_query()
    variables = {"p": path}
    missed = await post(
        api, {"variables": variables, "extensions": persisted(sha(query))}, user.key
    )
    assert missed.json() == NOT_FOUND
    # Apollo's retry: the document and its hash together run it and register it
    sent = await post(
        api,
        {"query": query, "variables": variables, "extensions": persisted(sha(query))},
        user.key,
    )
    assert sent.json() == {"data": {"run": {"runId": "r1"}}}
    # from now on the hash alone is enough (any case of hex digits)
    for digest in (sha(query), sha(query).upper()):
        hit = await post(api, {"variables": variables, "extensions": persisted(digest)}, user.key)
        assert hit.status_code == 200
        assert hit.json() == {"data": {"run": {"runId": "r1"}}}


async def test_a_hash_that_is_not_the_query_s_is_refused_and_not_registered(api: Api) -> None:
    query, other = a_query(), a_query()
    response = await post(api, {"query": query, "extensions": persisted(sha(other))})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "SHA-256" in response.json()["errors"][0]["message"]
    assert (await post(api, {"extensions": persisted(sha(other))})).json() == NOT_FOUND


async def test_malformed_persisted_query_extensions_are_bad_input(api: Api) -> None:
    query = a_query()
    for extensions in (
        {"persistedQuery": {"version": 2, "sha256Hash": sha(query)}},
        {"persistedQuery": {"version": 1, "sha256Hash": "abc"}},
        {"persistedQuery": "x"},
        [1],
    ):
        response = await post(api, {"query": query, "extensions": extensions})
        assert response.status_code == 400, extensions
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # neither a query nor a hash
    response = await post(api, {"variables": {}})
    assert response.status_code == 400


async def test_a_persisted_query_answers_each_viewer_with_their_own_access(
    api: Api, make_user: Any
) -> None:
    """The store holds documents, never answers: the owner registered it, others asking by
    the hash see what they may see (here: nothing of a private project)."""
    owner, path = await make_run(api, make_user)
    other = await make_user("pq-other")
    query = a_query()
    body = {"query": query, "variables": {"p": path}, "extensions": persisted(sha(query))}
    assert (await post(api, body, owner.key)).json() == {"data": {"run": {"runId": "r1"}}}
    by_hash = {"variables": {"p": path}, "extensions": persisted(sha(query))}
    for key in (None, other.key):
        answer = (await post(api, by_hash, key)).json()
        assert "r1" not in json.dumps(answer)
        assert answer.get("data", {}).get("run") is None
    assert (await post(api, by_hash, owner.key)).json() == {"data": {"run": {"runId": "r1"}}}


async def test_get_runs_a_query(api: Api, make_user: Any) -> None:
    user, path = await make_run(api, make_user)
    query = a_query()
    response = await api.http.get(
        "/graphql",
        params={"query": query, "variables": json.dumps({"p": path})},
        headers=auth(user.key),
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"run": {"runId": "r1"}}}
    # a signed-in answer must not be kept by shared caches; any answer varies by credentials
    assert response.headers["cache-control"] == "private, no-store"
    assert "Authorization" in response.headers["vary"]
    anonymous = await api.http.get("/graphql", params={"query": "{ viewer { username } }"})
    assert anonymous.json() == {"data": {"viewer": None}}
    assert "cache-control" not in anonymous.headers
    assert "Authorization" in anonymous.headers["vary"]


async def test_get_runs_a_persisted_query_by_hash(api: Api, make_user: Any) -> None:
    user, path = await make_run(api, make_user)
    query = a_query()
    params = {"variables": json.dumps({"p": path}), "extensions": json.dumps(persisted(sha(query)))}
    missed = await api.http.get("/graphql", params=params, headers=auth(user.key))
    assert missed.json() == NOT_FOUND
    registered = await api.http.get(
        "/graphql", params={**params, "query": query}, headers=auth(user.key)
    )
    assert registered.json() == {"data": {"run": {"runId": "r1"}}}
    hit = await api.http.get("/graphql", params=params, headers=auth(user.key))
    assert hit.json() == {"data": {"run": {"runId": "r1"}}}


async def test_get_refuses_a_mutation_without_running_it(api: Api, make_user: Any) -> None:
    user = await make_user("pq-get")
    project = unique("p")
    mutation = f'mutation {{ upsertRun(input: {{project: "{project}", runId: "x"}}) {{ id }} }}'
    response = await api.http.get("/graphql", params={"query": mutation}, headers=auth(user.key))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # nothing ran: the project the mutation would have created does not exist
    data = await api.ok(
        "query($e: String!, $p: String!) { project(entity: $e, name: $p) { name } }",
        {"e": user.name, "p": project},
        user.key,
    )
    assert data == {"project": None}
    # nor does a persisted mutation run over GET
    await post(api, {"query": mutation, "extensions": persisted(sha(mutation))}, user.key)
    again = await api.http.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(sha(mutation)))},
        headers=auth(user.key),
    )
    assert again.status_code == 405


async def test_get_from_a_browser_still_opens_graphiql(api: Api) -> None:
    response = await api.http.get(
        "/graphql",
        params={"query": "{ viewer { username } }"},
        headers={"accept": "text/html,application/xhtml+xml"},
    )
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "graphiql" in response.text.lower()


async def test_get_with_malformed_variables_is_bad_input(api: Api) -> None:
    response = await api.http.get(
        "/graphql", params={"query": "{ viewer { username } }", "variables": "{oops"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_evicted_document_forgets_its_hash() -> None:
    """The persisted store is the bounded document cache: what it drops, a hash no longer
    finds (and the client sends the document again)."""
    cache = DocumentCache(total_chars=100, document_chars=100)
    first = PreparedDocument("{ a }" + " " * 60, None)  # type: ignore[arg-type]
    cache.put(first)
    cache.persist(first, "h1")
    assert cache.persisted("h1") is first
    second = PreparedDocument("{ b }" + " " * 60, None)  # type: ignore[arg-type]
    cache.put(second)  # 130 characters in all: the first is evicted
    assert cache.persisted("h1") is None
    assert cache.get(first.query) is None
    # a document too big to cache is never registered
    big = PreparedDocument("{ c }" + " " * 200, None)  # type: ignore[arg-type]
    cache.put(big)
    cache.persist(big, "h2")
    assert cache.persisted("h2") is None
