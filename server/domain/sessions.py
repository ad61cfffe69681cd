"""Web app sessions: an API key exchanged for a random, expiring session token.

The token travels only in an HttpOnly cookie and is stored only as its sha256 (like API
keys: 256 random bits need no slow hash). A session grants exactly what its key grants
and ends with it: revoking the key ends every session made from it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from server.db.database import Queryable
from server.domain.access import Viewer
from server.domain.accounts import hash_key, viewer_from_rows
from server.errors import Unauthenticated

_KEY = """SELECT k.id, k.user_id, u.username
            FROM api_keys k JOIN users u ON u.id = k.user_id
           WHERE k.key_hash = $1 AND k.revoked_at IS NULL"""

# sessions past their end are of no use to anyone: dropped when the user signs in again
_FORGET_ENDED = """DELETE FROM web_sessions
                    WHERE user_id = $1 AND (expires_at < clock_timestamp() OR revoked_at IS NOT NULL)"""

_INSERT = """INSERT INTO web_sessions (token_hash, user_id, api_key_id, expires_at)
             VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))"""

_VIEWER = """SELECT u.id, u.username, u.entity_id, m.entity_id AS member_of, m.role
               FROM web_sessions s
               JOIN api_keys k ON k.id = s.api_key_id
               JOIN users u ON u.id = s.user_id
               LEFT JOIN memberships m ON m.user_id = u.id
              WHERE s.token_hash = $1 AND s.revoked_at IS NULL
                AND s.expires_at > clock_timestamp() AND k.revoked_at IS NULL"""

_REVOKE = """UPDATE web_sessions SET revoked_at = clock_timestamp()
              WHERE token_hash = $1 AND revoked_at IS NULL"""


@dataclass(frozen=True)
class StartedSession:
    token: str
    username: str


async def start_session(db: Queryable, api_key: str, ttl_seconds: int) -> StartedSession:
    """A new session for the user of ``api_key``; UNAUTHENTICATED for a wrong or revoked key."""
    key = await db.fetchrow(_KEY, hash_key(api_key.strip()))
    if key is None:
        raise Unauthenticated("this API key is not valid (wrong or revoked): use another key")
    await db.execute(_FORGET_ENDED, key["user_id"])
    token = secrets.token_urlsafe(32)
    await db.execute(_INSERT, hash_key(token), key["user_id"], key["id"], float(ttl_seconds))
    return StartedSession(token, key["username"])


async def session_viewer(db: Queryable, token: str) -> Viewer | None:
    """The viewer of a live session; None when it expired, was revoked or never existed."""
    return viewer_from_rows(await db.fetch(_VIEWER, hash_key(token)))


async def end_session(db: Queryable, token: str) -> None:
    await db.execute(_REVOKE, hash_key(token))
