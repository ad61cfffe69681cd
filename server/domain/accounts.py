"""Users, API keys, entities and teams."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server.db.database import Queryable
from server.domain import access
from server.domain.access import Viewer
from server.domain.names import check_name
from server.errors import BadUserInput, Conflict, NotFound, Unauthenticated

KEY_PREFIX = "lin"


@dataclass(frozen=True)
class EntityRow:
    id: int
    name: str
    is_team: bool
    created_at: datetime


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    entity_id: int


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    key: str


def hash_key(key: str) -> bytes:
    # Keys carry 256 bits of randomness, so a fast hash is enough: no dictionary to try.
    return hashlib.sha256(key.encode()).digest()


def _entity(r: asyncpg.Record) -> EntityRow:
    return EntityRow(r["id"], r["name"], r["is_team"], r["created_at"])


async def issue_key(db: Queryable, user_id: int) -> IssuedKey:
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    await db.execute(
        "INSERT INTO api_keys (key_id, user_id, key_hash) VALUES ($1, $2, $3)",
        key_id,
        user_id,
        hash_key(key),
    )
    return IssuedKey(key_id, key)


async def create_user(db: Queryable, username: str) -> tuple[UserRow, IssuedKey]:
    """Create a user, its personal entity (ADMIN of it) and a first key. Use in a transaction."""
    check_name(username, "username")
    entity_id = await db.fetchval(
        "INSERT INTO entities (name, is_team) VALUES ($1, false)"
        " ON CONFLICT (name) DO NOTHING RETURNING id",
        username,
    )
    if entity_id is None:
        raise Conflict(f"the name {username!r} is taken by a user or team; choose another")
    user_id = await db.fetchval(
        "INSERT INTO users (username, entity_id) VALUES ($1, $2) RETURNING id", username, entity_id
    )
    await db.execute(
        "INSERT INTO memberships (entity_id, user_id, role) VALUES ($1, $2, 'ADMIN')",
        entity_id,
        user_id,
    )
    return UserRow(user_id, username, entity_id), await issue_key(db, user_id)


async def create_key_for(db: Queryable, username: str) -> IssuedKey:
    user_id = await db.fetchval("SELECT id FROM users WHERE username = $1", username)
    if user_id is None:
        raise NotFound(f"no user named {username!r}")
    return await issue_key(db, user_id)


async def revoke_key(db: Queryable, key_id: str) -> None:
    status = await db.execute(
        "UPDATE api_keys SET revoked_at = clock_timestamp() WHERE key_id = $1", key_id
    )
    if status.endswith(" 0"):
        raise NotFound(f"no API key with id {key_id!r}")


async def count_users(db: Queryable) -> int:
    return int(await db.fetchval("SELECT count(*) FROM users"))


async def authenticate(db: Queryable, authorization: str | None) -> Viewer | None:
    """The viewer for an Authorization header; no header is anonymous, a bad key is not."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <api key>'")
    rows = await db.fetch(
        """SELECT u.id, u.username, u.entity_id, m.entity_id AS member_of, m.role
             FROM api_keys k
             JOIN users u ON u.id = k.user_id
             LEFT JOIN memberships m ON m.user_id = u.id
            WHERE k.key_hash = $1 AND k.revoked_at IS NULL""",
        hash_key(key.strip()),
    )
    viewer = viewer_from_rows(rows)
    if viewer is None:
        raise Unauthenticated("this API key is not valid (wrong or revoked): use another key")
    return viewer


def viewer_from_rows(rows: Sequence[asyncpg.Record]) -> Viewer | None:
    """A Viewer from rows of (id, username, entity_id, member_of, role), one per membership."""
    if not rows:
        return None
    first = rows[0]
    roles = {r["member_of"]: r["role"] for r in rows if r["member_of"] is not None}
    return Viewer(first["id"], first["username"], first["entity_id"], roles)


async def entity_by_name(db: Queryable, name: str) -> EntityRow | None:
    row = await db.fetchrow("SELECT * FROM entities WHERE name = $1", name)
    return _entity(row) if row else None


async def require_entity(db: Queryable, name: str) -> EntityRow:
    check_name(name, "entity name")
    entity = await entity_by_name(db, name)
    if entity is None:
        raise NotFound(f"entity {name!r} not found")
    return entity


async def entities_by_ids(db: Queryable, ids: Sequence[int]) -> dict[int, EntityRow]:
    rows = await db.fetch("SELECT * FROM entities WHERE id = ANY($1::bigint[])", list(ids))
    return {r["id"]: _entity(r) for r in rows}


async def users_by_ids(db: Queryable, ids: Sequence[int]) -> dict[int, UserRow]:
    rows = await db.fetch("SELECT * FROM users WHERE id = ANY($1::bigint[])", list(ids))
    return {r["id"]: UserRow(r["id"], r["username"], r["entity_id"]) for r in rows}


async def teams_by_users(db: Queryable, user_ids: Sequence[int]) -> dict[int, list[EntityRow]]:
    """The teams each user is a member of, by name."""
    rows = await db.fetch(
        """SELECT m.user_id AS member, e.* FROM memberships m JOIN entities e ON e.id = m.entity_id
            WHERE m.user_id = ANY($1::bigint[]) AND e.is_team ORDER BY e.name""",
        list(user_ids),
    )
    teams: dict[int, list[EntityRow]] = {user: [] for user in user_ids}
    for r in rows:
        teams[r["member"]].append(_entity(r))
    return teams


async def create_team(db: Queryable, viewer: Viewer | None, name: str) -> EntityRow:
    signed_in = access.require_signed_in(viewer)
    check_name(name, "team name")
    row = await db.fetchrow(
        "INSERT INTO entities (name, is_team) VALUES ($1, true)"
        " ON CONFLICT (name) DO NOTHING RETURNING *",
        name,
    )
    if row is None:
        raise Conflict(f"the name {name!r} is taken by a user or team; choose another")
    await db.execute(
        "INSERT INTO memberships (entity_id, user_id, role) VALUES ($1, $2, 'ADMIN')",
        row["id"],
        signed_in.user_id,
    )
    return _entity(row)


async def add_team_member(
    db: Queryable, viewer: Viewer | None, team: str, username: str, role: str
) -> EntityRow:
    access.require_signed_in(viewer)
    entity = await require_entity(db, team)
    if not entity.is_team:
        raise BadUserInput(f"{team!r} is a personal entity, not a team: members go to teams only")
    access.require_entity_admin(viewer, entity.id, team)
    check_name(username, "username")
    user_id = await db.fetchval("SELECT id FROM users WHERE username = $1", username)
    if user_id is None:
        raise NotFound(f"no user named {username!r}")
    if role != "ADMIN":
        # a team keeps at least one admin, or nobody could manage it again; the team's
        # row lock makes two admins demoting each other at once take turns
        await db.execute("SELECT 1 FROM entities WHERE id = $1 FOR UPDATE", entity.id)
        admins = await db.fetch(
            "SELECT user_id FROM memberships WHERE entity_id = $1 AND role = 'ADMIN'", entity.id
        )
        if [r["user_id"] for r in admins] == [user_id]:
            raise Conflict(
                f"{username!r} is the last admin of team {team!r}: make another member ADMIN first"
            )
    await db.execute(
        """INSERT INTO memberships (entity_id, user_id, role) VALUES ($1, $2, $3)
           ON CONFLICT (entity_id, user_id) DO UPDATE SET role = EXCLUDED.role""",
        entity.id,
        user_id,
        role,
    )
    return entity
