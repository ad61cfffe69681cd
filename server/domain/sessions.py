"""Web app sessions: an API key exchanged for a random, expiring session token.

The token travels only in an HttpOnly cookie and is stored only as its sha256 (like API
keys: 256 random bits need no slow hash). A session grants exactly what its key grants
and ends with it: revoking the key ends every session made from it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from server.db.database import Database, Queryable
from server.domain.access import Viewer
from server.domain.accounts import hash_key, viewer_from_rows
from server.domain.sql import sessions as sql
from server.errors import Unauthenticated


@dataclass(frozen=True)
class StartedSession:
    token: str
    username: str


async def start_session(db: Database, api_key: str, ttl_seconds: int) -> StartedSession:
    """A new session for the user of ``api_key``; UNAUTHENTICATED for a wrong or revoked key."""
    async with db.transaction() as conn:
        key = await conn.fetchrow(sql.KEY_BY_HASH, key_hash=hash_key(api_key.strip()))
        if key is None:
            raise Unauthenticated("this API key is not valid (wrong or revoked): use another key")
        await conn.execute(sql.FORGET_ENDED, user_id=key["user_id"])
        token = secrets.token_urlsafe(32)
        await conn.execute(
            sql.INSERT,
            token_hash=hash_key(token),
            user_id=key["user_id"],
            api_key_id=key["id"],
            ttl_seconds=float(ttl_seconds),
        )
        return StartedSession(token, key["username"])


async def session_viewer(db: Queryable, token: str) -> Viewer | None:
    """The viewer of a live session; None when it expired, was revoked or never existed."""
    return viewer_from_rows(await db.fetch(sql.VIEWER_BY_TOKEN, token_hash=hash_key(token)))


async def end_session(db: Database, token: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(sql.REVOKE, token_hash=hash_key(token))
