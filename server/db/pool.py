"""The asyncpg pool: JSON codecs and the mapping of connection failures to UNAVAILABLE."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import orjson

from server.json_numbers import has_long_number


def _encode_jsonb(value: Any) -> bytes:
    # Binary format (version byte 1 + text) so COPY works too: a text codec breaks
    # copy_records_to_table ("no binary format encoder for type jsonb").
    return b"\x01" + json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _decode_jsonb(data: bytes) -> Any:
    # orjson: several times faster than json.loads, which shows when hydrating thousands
    # of runs with their config and summary
    if has_long_number(data):  # json.loads keeps big integers exact
        return json.loads(data[1:])
    return orjson.loads(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("jsonb", "json"):
        await conn.set_type_codec(
            typename,
            schema="pg_catalog",
            encoder=_encode_jsonb if typename == "jsonb" else lambda v: json.dumps(v).encode(),
            decoder=_decode_jsonb if typename == "jsonb" else lambda b: json.loads(b),
            format="binary",
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query on release (a round trip per checkout): the service
    never changes session state (no SET, LISTEN or session-level advisory locks except
    the migration lock, which is released explicitly)."""


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 20,
    statement_timeout_seconds: float | None = None,
) -> asyncpg.Pool:
    # Postgres cancels a statement that runs longer (QueryCanceledError): one expensive
    # query cannot hold a connection and a core for long.
    server_settings = (
        {"statement_timeout": str(int(statement_timeout_seconds * 1000))}
        if statement_timeout_seconds
        else None
    )
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings=server_settings,
        init=_init_connection,
        reset=_keep_session,
        # Statements are cached per connection; big generated IN lists are not used.
        command_timeout=60,
    )
    assert pool is not None
    return pool


# What an asyncpg call raises when Postgres cannot be reached or the connection to it
# was lost, rather than because of the query. Only the calls to asyncpg are judged by
# this (server/db/database.py): an OSError or TimeoutError raised by anything else, such
# as the blob store, is no database outage. asyncpg's plain InterfaceError is in the
# list only for a connection that is closed (``is_closed``): it also means misuse.
CONNECTION_FAILURES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, or a socket file that is gone while the server is down
    TimeoutError,  # connect timeout, or command_timeout on a stalled server
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
)


# Postgres aborted the transaction to resolve a conflict with another one: nothing it did
# remains, and running it again is expected to succeed (resolvers/mutation.py does).
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)
