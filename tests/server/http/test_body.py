"""Request bodies over 32 MiB are refused with HTTP 413, with or without Content-Length."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from tests.fixtures.service import Api

LIMIT = 32 * 1024 * 1024
CHUNK = 1024 * 1024


def padded_request(size: int) -> bytes:
    """A valid GraphQL request of exactly ``size`` bytes (JSON allows trailing blanks)."""
    body = json.dumps({"query": "{ viewer { username } }"}).encode()
    return body + b" " * (size - len(body))


async def test_a_body_of_exactly_32_mib_is_served(api: Api) -> None:
    response = await api.http.post(
        "/graphql", content=padded_request(LIMIT), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_a_body_over_32_mib_is_413(api: Api) -> None:
    response = await api.http.post(
        "/graphql", content=padded_request(LIMIT + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "32 MiB" in error["message"]


async def test_a_chunked_body_over_32_mib_is_413_and_not_read_to_the_end(api: Api) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        # twice the limit, with no Content-Length: the server must count as it reads
        for _ in range(2 * LIMIT // CHUNK):
            sent += CHUNK
            yield b" " * CHUNK

    response = await api.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert sent <= LIMIT + CHUNK


async def test_a_declared_length_over_the_limit_is_refused_before_reading(api: Api) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(40):
            sent += CHUNK
            yield b" " * CHUNK

    response = await api.http.post(
        "/graphql",
        content=chunks(),
        headers={"content-type": "application/json", "content-length": str(40 * CHUNK)},
    )
    assert response.status_code == 413
    assert sent <= CHUNK
