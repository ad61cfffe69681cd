"""Request bodies past the limit are refused with HTTP 413, with or without Content-Length:
32 MiB for a signed-in caller, 1 MiB for an anonymous one (known from the headers, before
any of the body is read)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fixtures.service import Account, Api

LIMIT = 32 * 1024 * 1024
ANONYMOUS_LIMIT = 1024 * 1024
CHUNK = 1024 * 1024
JSON = {"content-type": "application/json"}


def padded_request(size: int) -> bytes:
    """A valid GraphQL request of exactly ``size`` bytes (JSON allows trailing blanks)."""
    body = json.dumps({"query": "{ viewer { username } }"}).encode()
    return body + b" " * (size - len(body))


@pytest.fixture(scope="module")
async def signed_in(make_user: Any) -> dict[str, str]:
    user: Account = await make_user("body")
    return {**JSON, "authorization": f"Bearer {user.key}"}


async def test_a_body_of_exactly_32_mib_is_served_to_a_signed_in_caller(
    api: Api, signed_in: dict[str, str]
) -> None:
    response = await api.http.post("/graphql", content=padded_request(LIMIT), headers=signed_in)
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["username"].startswith("body")


async def test_a_body_over_32_mib_is_413(api: Api, signed_in: dict[str, str]) -> None:
    response = await api.http.post("/graphql", content=padded_request(LIMIT + 1), headers=signed_in)
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "32 MiB" in error["message"]


async def test_an_anonymous_body_of_exactly_1_mib_is_served(api: Api) -> None:
    response = await api.http.post(
        "/graphql", content=padded_request(ANONYMOUS_LIMIT), headers=JSON
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_an_anonymous_body_over_1_mib_is_413_and_says_to_sign_in(api: Api) -> None:
    response = await api.http.post(
        "/graphql", content=padded_request(ANONYMOUS_LIMIT + 1), headers=JSON
    )
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "1 MiB for anonymous requests" in error["message"]
    assert "sign in" in error["message"]


async def test_a_wrong_key_is_unauthenticated_before_its_body_is_read(api: Api) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(40):
            sent += CHUNK
            yield b" " * CHUNK

    response = await api.http.post(
        "/graphql",
        content=chunks(),
        headers={**JSON, "authorization": "Bearer not-a-key"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert sent <= 2 * CHUNK


@pytest.mark.parametrize(
    ("signed", "limit"), [(True, LIMIT), (False, ANONYMOUS_LIMIT)], ids=["signed-in", "anonymous"]
)
async def test_a_chunked_body_over_the_limit_is_413_and_not_read_to_the_end(
    api: Api, signed_in: dict[str, str], signed: bool, limit: int
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        # twice the limit, with no Content-Length: the server must count as it reads
        for _ in range(2 * limit // CHUNK):
            sent += CHUNK
            yield b" " * CHUNK

    response = await api.http.post(
        "/graphql", content=chunks(), headers=signed_in if signed else JSON
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert sent <= limit + CHUNK


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    api: Api, signed_in: dict[str, str]
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(40):
            sent += CHUNK
            yield b" " * CHUNK

    response = await api.http.post(
        "/graphql",
        content=chunks(),
        headers={**signed_in, "content-length": str(40 * CHUNK)},
    )
    assert response.status_code == 413
    assert sent <= CHUNK


async def test_a_client_that_leaves_mid_body_is_an_error_outcome_not_a_server_failure(
    api: Api, signed_in: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A client that disconnects before sending its whole body (wrk does when it stops)
    is counted as an error outcome and logged at most as one debug line: no traceback,
    no INTERNAL."""
    from tests.server.http.test_endpoints import request_counts

    transport: Any = api.http._transport  # noqa: SLF001 - the app with its lifespan state
    app = transport.app
    headers = [(k.encode(), v.encode()) for k, v in signed_in.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [*headers, (b"content-length", b"1000")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    incoming: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"query": "{ viewer', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    before = await request_counts(api)
    with caplog.at_level("DEBUG"):
        await app(scope, receive, send)
    after = await request_counts(api)
    assert after.get(("unknown", "error"), 0) == before.get(("unknown", "error"), 0) + 1
    assert sent[0]["status"] == 400
    served = [r for r in caplog.records if r.name.startswith("server.http")]
    assert len(served) <= 1
    assert all(r.levelname == "DEBUG" and r.exc_info is None for r in served)
    assert not any("failed" in r.getMessage() for r in caplog.records)
