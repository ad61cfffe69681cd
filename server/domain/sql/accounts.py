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

# The viewer of an API key, computed inside another statement (``as_key_holder``): one row
# (none for a wrong or revoked key) with the memberships as two parallel arrays.
_KEY_HOLDER = """SELECT u.id AS v_id, u.username AS v_username, u.entity_id AS v_entity_id,
                        array_agg(m.entity_id ORDER BY m.entity_id)
                          FILTER (WHERE m.entity_id IS NOT NULL) AS v_member_of,
                        array_agg(m.role ORDER BY m.entity_id)
                          FILTER (WHERE m.entity_id IS NOT NULL) AS v_roles
                   FROM api_keys k
                   JOIN users u ON u.id = k.user_id
                   LEFT JOIN memberships m ON m.user_id = u.id
                  WHERE k.key_hash = :key_hash AND k.revoked_at IS NULL
                  GROUP BY u.id"""

# what access.READABLE takes the viewer's memberships as
MEMBER_IDS_PARAMETER = ":member_entity_ids::bigint[]"


def as_key_holder(source: str) -> str:
    """``source`` run as the holder of the API key whose hash is ``:key_hash``, in the
    same statement (and snapshot), so that the key costs no round trip of its own: the
    memberships READABLE reads come from the key's row (none when the key matches
    nothing, as for an anonymous viewer), and one more row, in which ``v_id`` is set,
    carries the viewer (see accounts.split_key_holder); no such row for a wrong or revoked
    key, whose caller must then refuse the request whatever else came back."""
    if MEMBER_IDS_PARAMETER not in source:
        raise ValueError("the statement does not read the viewer's memberships")
    body = source.replace(
        MEMBER_IDS_PARAMETER, "coalesce((SELECT v_member_of FROM viewer), '{}'::bigint[])"
    )
    if ":member_entity_ids" in body:
        raise ValueError("the statement reads :member_entity_ids other than as READABLE does")
    return (
        f"WITH viewer AS ({_KEY_HOLDER}), q AS ({body})\nSELECT * FROM q FULL JOIN viewer ON false"
    )


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
