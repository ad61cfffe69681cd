"""The web app's HTTP side, through the real app: page status codes (the 404 decision),
headers (CSP, caching), static assets and GraphiQL."""

from __future__ import annotations

from typing import Any

import pytest

from server.web.assets import manifest
from tests.fixtures.service import Account, Api, unique

pytestmark = pytest.mark.asyncio


async def _project(api: Api, owner: Account, visibility: str) -> str:
    name = unique("p")
    await api.ok(
        "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
        {"i": {"entity": owner.name, "name": name, "visibility": visibility}},
        owner.key,
    )
    await api.ok(
        'mutation($p: String!) { upsertRun(input: {project: $p, runId: "r1"}) { id } }',
        {"p": name},
        owner.key,
    )
    return name


async def _sign_in(api: Api, key: str) -> str:
    response = await api.http.post(
        "/-/session", json={"apiKey": key}, headers={"origin": "http://testserver"}
    )
    assert response.status_code == 200, response.text
    token: str = response.cookies["lineage_session"]
    api.http.cookies.clear()  # the shared client's jar must not sign other tests in
    return token


async def test_unknown_and_unreadable_paths_get_the_same_not_found_page(
    api: Api, make_user: Any
) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    private = await _project(api, alice, "PRIVATE")
    public = await _project(api, alice, "PUBLIC")
    hidden = [
        f"/{alice.name}/{private}",
        f"/{alice.name}/{private}/runs/r1",
        f"/{alice.name}/{private}/runs/r1/lineage",
    ]
    unknown = [
        f"/{alice.name}/no-such-project",
        f"/{alice.name}/{public}/runs/no-such-run",
        f"/{alice.name}/{public}/artifacts/nothing/latest",
        f"/{alice.name}/{public}/artifacts/nothing/v0/lineage",
        "/no/such/page/at/all",
        "/%00/x",
    ]
    bodies = set()
    for path in hidden + unknown:
        response = await api.http.get(path)
        assert response.status_code == 404, path
        bodies.add(response.text)
    # as a signed-in non-member too
    api.http.cookies.set("lineage_session", await _sign_in(api, bob.key))
    try:
        for path in hidden:
            response = await api.http.get(path)
            assert response.status_code == 404, path
            bodies.add(response.text)
    finally:
        api.http.cookies.clear()
    assert len(bodies) == 1, "the not-found page must not depend on what the path names"
    assert 'data-status="404"' in bodies.pop()

    for path in [f"/{alice.name}/{public}", f"/{alice.name}/{public}/runs/r1/lineage", "/"]:
        assert (await api.http.get(path)).status_code == 200, path
    api.http.cookies.set("lineage_session", await _sign_in(api, alice.key))
    try:
        for path in hidden:
            assert (await api.http.get(path)).status_code == 200, path
    finally:
        api.http.cookies.clear()


async def test_pages_forbid_inline_script_and_other_origins_and_are_never_cached(
    api: Api,
) -> None:
    for path in ["/", "/graphql", "/nothing/here"]:
        response = await api.http.get(path, headers={"accept": "text/html"})
        policy = response.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", policy
        assert directives["default-src"] == "'self'", policy
        assert "unsafe-inline" not in policy, policy
        assert "http" not in policy, policy
        assert response.headers["cache-control"] == "no-store"
        assert "<script>" not in response.text, "no inline script in the shell"


async def test_assets_are_immutable_compressed_and_limited_to_the_build(api: Api) -> None:
    url = manifest().url("app.js")
    response = await api.http.get(url, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/javascript")
    for bad in ["/-/static/manifest.json", "/-/static/..%2F__init__.py", "/-/static/nope.js"]:
        assert (await api.http.get(bad)).status_code == 404, bad


async def test_graphiql_is_served_by_the_service_itself(api: Api) -> None:
    response = await api.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert manifest().url("graphiql.js") in response.text
    assert "//" not in response.text.replace("<!doctype html>", "").split("<body")[0].replace(
        'content="width=device-width, initial-scale=1"', ""
    ), "no asset from another origin"


async def test_get_never_runs_a_mutation(api: Api, make_user: Any) -> None:
    alice = await make_user("alice")
    name = unique("p")
    mutation = (
        f'mutation {{ createProject(input: {{entity: "{alice.name}", name: "{name}"}}) {{ id }} }}'
    )
    response = await api.http.get(
        "/graphql", params={"query": mutation}, headers={"authorization": f"Bearer {alice.key}"}
    )
    assert response.status_code in (200, 400, 405)
    data = await api.ok(
        "query($e: String!, $n: String!) { project(entity: $e, name: $n) { id } }",
        {"e": alice.name, "n": name},
        alice.key,
    )
    assert data["project"] is None
