"""Signing in to the web app: an API key exchanged for an HttpOnly session cookie, and
requests with that cookie refused when they come from another site (CSRF)."""

from __future__ import annotations

from typing import Any

import pytest

from server.db.database import Database
from server.settings import Settings
from tests.fixtures.service import Account, Api, running_api, unique

pytestmark = pytest.mark.asyncio

SAME_ORIGIN = {"origin": "http://testserver"}
VIEWER = "{ viewer { username } }"


async def sign_in(api: Api, key: str, headers: dict[str, str] | None = None) -> Any:
    response = await api.http.post(
        "/-/session", json={"apiKey": key}, headers=SAME_ORIGIN if headers is None else headers
    )
    # the client is shared by every test: its jar must not sign their requests in
    api.http.cookies.clear()
    return response


async def with_cookie(
    api: Api, token: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    """A POST /graphql carrying only the session cookie, as the browser sends it."""
    return await api.http.post(
        "/graphql",
        json=body,
        headers={
            "cookie": f"lineage_session={token}",
            **(SAME_ORIGIN if headers is None else headers),
        },
    )


async def test_sign_in_sets_an_http_only_lax_cookie_that_acts_as_the_user(
    api: Api, make_user: Any
) -> None:
    alice: Account = await make_user("alice")
    response = await sign_in(api, alice.key)
    assert response.status_code == 200
    assert response.json() == {"username": alice.name}
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Max-Age=" in cookie
    assert "Secure" not in cookie, "plain http: a Secure cookie would never come back"
    token = response.cookies["lineage_session"]
    assert alice.key not in cookie
    assert token != alice.key

    answer = await with_cookie(api, token, {"query": VIEWER})
    assert answer.json() == {"data": {"viewer": {"username": alice.name}}}


async def test_the_cookie_is_secure_under_https(settings: Settings, make_user: Any) -> None:
    alice = await make_user("alice")
    https = Settings(**{**settings.__dict__, "public_url": "https://lineage.example"})
    async with running_api(https) as api:
        response = await sign_in(api, alice.key, {"origin": "https://lineage.example"})
        assert response.status_code == 200, response.text
        assert "Secure" in response.headers["set-cookie"]


async def test_a_wrong_key_or_a_bad_body_signs_nobody_in(api: Api, make_user: Any) -> None:
    alice = await make_user("alice")
    wrong = await sign_in(api, alice.key + "x")
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "set-cookie" not in wrong.headers
    for body in [b"not json", b"[]", b'{"apiKey": 3}', b'{"apiKey": ""}']:
        response = await api.http.post(
            "/-/session",
            content=body,
            headers={**SAME_ORIGIN, "content-type": "application/json"},
        )
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "set-cookie" not in response.headers


async def test_cross_site_requests_with_the_cookie_are_refused_and_change_nothing(
    api: Api, make_user: Any
) -> None:
    alice = await make_user("alice")
    token = (await sign_in(api, alice.key)).cookies["lineage_session"]
    name = unique("p")
    create = {
        "query": "mutation($e: String!, $n: String!) { createProject(input: {entity: $e, name: $n}) { id } }",
        "variables": {"e": alice.name, "n": name},
    }
    attempts = [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {},  # neither Origin nor Referer
        {"referer": "https://evil.example/page"},
        {"origin": "http://testserver.evil.example"},
    ]
    for headers in attempts:
        response = await with_cookie(api, token, create, headers)
        assert response.status_code == 403, headers
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "cross-site" in error["message"]
    # a "simple" content type (what a cross-site form can send) is refused even same-origin
    response = await api.http.post(
        "/graphql",
        content=b'{"query": "{ viewer { username } }"}',
        headers={
            "cookie": f"lineage_session={token}",
            "content-type": "text/plain",
            **SAME_ORIGIN,
        },
    )
    assert response.status_code == 403
    # the referer of a same-origin page is enough when a browser sends no Origin
    response = await with_cookie(api, token, {"query": VIEWER}, {"referer": "http://testserver/x"})
    assert response.json()["data"]["viewer"]["username"] == alice.name

    check = "query($e: String!, $n: String!) { project(entity: $e, name: $n) { id } }"
    data = await api.ok(check, {"e": alice.name, "n": name}, alice.key)
    assert data["project"] is None, "a refused request must change nothing"


async def test_bearer_requests_need_no_origin(api: Api, make_user: Any) -> None:
    alice = await make_user("alice")
    response = await api.http.post(
        "/graphql",
        json={"query": VIEWER},
        headers={"authorization": f"Bearer {alice.key}", "origin": "https://other.example"},
    )
    assert response.json() == {"data": {"viewer": {"username": alice.name}}}


async def test_sign_in_itself_is_refused_cross_site(api: Api, make_user: Any) -> None:
    alice = await make_user("alice")
    response = await sign_in(api, alice.key, {"origin": "https://evil.example"})
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_sign_out_revokes_the_session_even_if_the_cookie_is_replayed(
    api: Api, make_user: Any
) -> None:
    alice = await make_user("alice")
    token = (await sign_in(api, alice.key)).cookies["lineage_session"]
    response = await api.http.request(
        "DELETE",
        "/-/session",
        headers={
            "cookie": f"lineage_session={token}",
            "content-type": "application/json",
            **SAME_ORIGIN,
        },
    )
    assert response.status_code == 200
    assert 'lineage_session=""' in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]
    replay = await with_cookie(api, token, {"query": VIEWER})
    error = replay.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", "never silently anonymous"
    assert "sign in again" in error["message"]


async def test_sessions_expire_and_end_with_their_api_key(
    api: Api, make_user: Any, db: Database
) -> None:
    alice = await make_user("alice")
    expiring = (await sign_in(api, alice.key)).cookies["lineage_session"]
    await db.pool.execute(
        "UPDATE web_sessions SET expires_at = clock_timestamp() - interval '1 second'"
        " WHERE user_id = (SELECT id FROM users WHERE username = $1)",
        alice.name,
    )
    answer = await with_cookie(api, expiring, {"query": VIEWER})
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    live = (await sign_in(api, alice.key)).cookies["lineage_session"]
    assert (await with_cookie(api, live, {"query": VIEWER})).json()["data"]["viewer"]
    await db.pool.execute(
        "UPDATE api_keys SET revoked_at = clock_timestamp() WHERE key_id = $1", alice.key_id
    )
    answer = await with_cookie(api, live, {"query": VIEWER})
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_only_hashes_of_session_tokens_are_stored(
    api: Api, make_user: Any, db: Database
) -> None:
    alice = await make_user("alice")
    token = (await sign_in(api, alice.key)).cookies["lineage_session"]
    rows = await db.pool.fetch("SELECT * FROM web_sessions")
    stored = b"".join(
        bytes(str(v), "utf-8") if not isinstance(v, bytes) else v for r in rows for v in r.values()
    )
    assert token.encode() not in stored


async def test_the_worker_removes_ended_sessions_and_keeps_live_ones(
    api: Api, make_user: Any, make_worker: Any, db: Database
) -> None:
    """Ended sessions are dropped when their user signs in again; the worker drops those
    of users who never do."""
    alice, bob = await make_user("alice"), await make_user("bob")
    expired = (await sign_in(api, alice.key)).cookies["lineage_session"]
    await db.pool.execute(
        "UPDATE web_sessions SET expires_at = clock_timestamp() - interval '1 second'"
        " WHERE user_id = (SELECT id FROM users WHERE username = $1)",
        alice.name,
    )
    live = (await sign_in(api, bob.key)).cookies["lineage_session"]
    signed_out = (await sign_in(api, bob.key)).cookies["lineage_session"]
    cookie = {"cookie": f"lineage_session={signed_out}"}
    response = await api.http.delete(
        "/-/session", headers={**cookie, "content-type": "application/json", **SAME_ORIGIN}
    )
    assert response.status_code == 200
    sessions_of = (
        "SELECT count(*) FROM web_sessions s JOIN users u ON u.id = s.user_id"
        " WHERE u.username = ANY($1::text[])"
    )
    assert await db.pool.fetchval(sessions_of, [alice.name, bob.name]) == 3

    stats = await make_worker().run_once()

    assert stats.sessions_removed >= 2
    assert await db.pool.fetchval(sessions_of, [alice.name, bob.name]) == 1
    answer = await with_cookie(api, live, {"query": VIEWER})
    assert answer.json()["data"]["viewer"]["username"] == bob.name
    for ended in (expired, signed_out):
        answer = await with_cookie(api, ended, {"query": VIEWER})
        assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
