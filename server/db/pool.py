"""The asyncpg pool: JSON codecs and the mapping of connection failures to UNAVAILABLE."""

from __future__ import annotations

import json
from typing import Any

import asyncpg


def _encode_jsonb(value: Any) -> bytes:
    # Binary format (version byte 1 + text) so COPY works too: a text codec breaks
    # copy_records_to_table (see GOTCHAS.md).
    return b"\x01" + json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _decode_jsonb(data: bytes) -> Any:
    return json.loads(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("jsonb", "json"):
        await conn.set_type_codec(
            typename,
            schema="pg_catalog",
            encoder=_encode_jsonb if typename == "jsonb" else lambda v: json.dumps(v).encode(),
            decoder=_decode_jsonb if typename == "jsonb" else lambda b: json.loads(b),
            format="binary",
        )


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        # Statements are cached per connection; big generated IN lists are not used.
        command_timeout=60,
    )
    assert pool is not None
    return pool


# Failures that mean "the database is not reachable right now" rather than a bug.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    # An idle pooled connection the server has just shut down (FATAL "terminating
    # connection due to administrator command") is left waiting for a ReadyForQuery
    # that never comes; the next query on it fails with this before the loss is seen.
    asyncpg.exceptions.InternalClientError,
    TimeoutError,
)
