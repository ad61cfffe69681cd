"""Statements of server/domain/sessions.py: web app sessions."""

from __future__ import annotations

from server.db.statements import Statement

KEY_BY_HASH = Statement(
    """SELECT k.id, k.user_id, u.username
         FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE k.key_hash = :key_hash AND k.revoked_at IS NULL"""
)

# sessions past their end are of no use to anyone: dropped when the user signs in again
FORGET_ENDED = Statement(
    """DELETE FROM web_sessions
        WHERE user_id = :user_id
          AND (expires_at < clock_timestamp() OR revoked_at IS NOT NULL)"""
)

# ...and by the worker, for users who never sign in again (a batch at a time)
REMOVE_ENDED = Statement(
    """DELETE FROM web_sessions
        WHERE id IN (SELECT id FROM web_sessions
                      WHERE expires_at < clock_timestamp() OR revoked_at IS NOT NULL
                      LIMIT :batch FOR UPDATE SKIP LOCKED)"""
)

INSERT = Statement(
    """INSERT INTO web_sessions (token_hash, user_id, api_key_id, expires_at)
       VALUES (:token_hash, :user_id, :api_key_id,
               clock_timestamp() + make_interval(secs => :ttl_seconds))"""
)

# One row per membership, as accounts.VIEWER_BY_KEY (see accounts.viewer_from_rows).
VIEWER_BY_TOKEN = Statement(
    """SELECT u.id, u.username, u.entity_id, m.entity_id AS member_of, m.role
         FROM web_sessions s
         JOIN api_keys k ON k.id = s.api_key_id
         JOIN users u ON u.id = s.user_id
         LEFT JOIN memberships m ON m.user_id = u.id
        WHERE s.token_hash = :token_hash AND s.revoked_at IS NULL
          AND s.expires_at > clock_timestamp() AND k.revoked_at IS NULL"""
)

REVOKE = Statement(
    """UPDATE web_sessions SET revoked_at = clock_timestamp()
        WHERE token_hash = :token_hash AND revoked_at IS NULL"""
)
