"""Statements of server/domain/accounts.py: users, API keys, entities and teams."""

from __future__ import annotations

from server.db.statements import Statement

ENTITY_COLUMNS = "e.id, e.name, e.is_team, e.created_at"

INSERT_KEY = Statement(
    "INSERT INTO api_keys (key_id, user_id, key_hash) VALUES (:key_id, :user_id, :key_hash)"
)

# A user's personal entity; no row when the name is taken by a user or a team.
INSERT_PERSONAL_ENTITY = Statement(
    """INSERT INTO entities (name, is_team) VALUES (:name, false)
       ON CONFLICT (name) DO NOTHING RETURNING id"""
)

INSERT_USER = Statement(
    "INSERT INTO users (username, entity_id) VALUES (:username, :entity_id) RETURNING id"
)

INSERT_ADMIN = Statement(
    "INSERT INTO memberships (entity_id, user_id, role) VALUES (:entity_id, :user_id, 'ADMIN')"
)

USER_ID_BY_NAME = Statement("SELECT id FROM users WHERE username = :username")

REVOKE_KEY = Statement("UPDATE api_keys SET revoked_at = clock_timestamp() WHERE key_id = :key_id")

COUNT_USERS = Statement("SELECT count(*) FROM users")

# Taken by the first start before it creates the admin: a second server starting on the
# same empty database waits, then finds the admin there.
LOCK_USERS = Statement("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")

# One row per membership (member_of and role NULL for a user of none); see viewer_from_rows.
VIEWER_BY_KEY = Statement(
    """SELECT u.id, u.username, u.entity_id, m.entity_id AS member_of, m.role
         FROM api_keys k
         JOIN users u ON u.id = k.user_id
         LEFT JOIN memberships m ON m.user_id = u.id
        WHERE k.key_hash = :key_hash AND k.revoked_at IS NULL"""
)

ENTITY_BY_NAME = Statement(f"SELECT {ENTITY_COLUMNS} FROM entities e WHERE e.name = :name")

ENTITIES_BY_IDS = Statement(
    f"SELECT {ENTITY_COLUMNS} FROM entities e WHERE e.id = ANY(:ids::bigint[])"
)

USERS_BY_IDS = Statement("SELECT id, username, entity_id FROM users WHERE id = ANY(:ids::bigint[])")

TEAMS_BY_USERS = Statement(
    f"""SELECT m.user_id AS member, {ENTITY_COLUMNS}
          FROM memberships m JOIN entities e ON e.id = m.entity_id
         WHERE m.user_id = ANY(:user_ids::bigint[]) AND e.is_team ORDER BY e.name"""
)

INSERT_TEAM = Statement(
    f"""INSERT INTO entities AS e (name, is_team) VALUES (:name, true)
        ON CONFLICT (name) DO NOTHING RETURNING {ENTITY_COLUMNS}"""
)

# the team's row lock: two admins demoting each other at once take turns
LOCK_ENTITY = Statement("SELECT 1 FROM entities WHERE id = :id FOR UPDATE")

TEAM_ADMINS = Statement(
    "SELECT user_id FROM memberships WHERE entity_id = :entity_id AND role = 'ADMIN'"
)

SET_MEMBERSHIP = Statement(
    """INSERT INTO memberships (entity_id, user_id, role) VALUES (:entity_id, :user_id, :role)
       ON CONFLICT (entity_id, user_id) DO UPDATE SET role = EXCLUDED.role"""
)
