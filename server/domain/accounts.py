"""Users, API keys, entities and teams."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server.db.database import Connection, Database, Queryable
from server.db.rows import RowBuilder
from server.domain import access
from server.domain.access import Viewer
from server.domain.names import check_name
from server.domain.sql import accounts as sql
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


_ENTITY = RowBuilder(EntityRow)
_USER = RowBuilder(UserRow)


async def _issue_key(conn: Connection, user_id: int) -> IssuedKey:
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    await conn.execute(sql.INSERT_KEY, key_id=key_id, user_id=user_id, key_hash=hash_key(key))
    return IssuedKey(key_id, key)


async def _create_user(conn: Connection, username: str) -> tuple[UserRow, IssuedKey]:
    check_name(username, "username")
    entity_id = await conn.fetchval(sql.INSERT_PERSONAL_ENTITY, name=username)
    if entity_id is None:
        raise Conflict(f"the name {username!r} is taken by a user or team; choose another")
    user_id = await conn.fetchval(sql.INSERT_USER, username=username, entity_id=entity_id)
    await conn.execute(sql.INSERT_ADMIN, entity_id=entity_id, user_id=user_id)
    return UserRow(user_id, username, entity_id), await _issue_key(conn, user_id)


async def create_user(db: Database, username: str) -> tuple[UserRow, IssuedKey]:
    """Create a user, its personal entity (ADMIN of it) and a first key."""
    async with db.transaction() as conn:
        return await _create_user(conn, username)


async def bootstrap_admin(db: Database) -> IssuedKey | None:
    """On a database without users, create the user ``admin``; its key, or None when
    there are users already (another server starting at the same time included)."""
    async with db.transaction() as conn:
        await conn.execute(sql.LOCK_USERS)
        if await conn.fetchval(sql.COUNT_USERS):
            return None
        _, key = await _create_user(conn, "admin")
        return key


async def create_key_for(db: Database, username: str) -> IssuedKey:
    async with db.transaction() as conn:
        user_id = await conn.fetchval(sql.USER_ID_BY_NAME, username=username)
        if user_id is None:
            raise NotFound(f"no user named {username!r}")
        return await _issue_key(conn, user_id)


async def revoke_key(db: Database, key_id: str) -> None:
    async with db.transaction() as conn:
        status = await conn.execute(sql.REVOKE_KEY, key_id=key_id)
        if status.endswith(" 0"):
            raise NotFound(f"no API key with id {key_id!r}")


def bearer_key_hash(authorization: str | None) -> bytes | None:
    """The hash of the API key an Authorization header sends; None for no header
    (anonymous); UNAUTHENTICATED for a header that is not 'Bearer <key>'."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <api key>'")
    return hash_key(key.strip())


def key_refused() -> Unauthenticated:
    return Unauthenticated("this API key is not valid (wrong or revoked): use another key")


async def authenticate(db: Queryable, authorization: str | None) -> Viewer | None:
    """The viewer for an Authorization header; no header is anonymous, a bad key is not."""
    key_hash = bearer_key_hash(authorization)
    return None if key_hash is None else await viewer_by_key_hash(db, key_hash)


async def viewer_by_key_hash(db: Queryable, key_hash: bytes) -> Viewer:
    """The holder of the key with this hash; UNAUTHENTICATED for a wrong or revoked key."""
    viewer = await viewer_by_key_hash_or_none(db, key_hash)
    if viewer is None:
        raise key_refused()
    return viewer


async def viewer_by_key_hash_or_none(db: Queryable, key_hash: bytes) -> Viewer | None:
    return viewer_from_rows(await db.fetch(sql.VIEWER_BY_KEY, key_hash=key_hash))


def viewer_from_rows(rows: Sequence[asyncpg.Record]) -> Viewer | None:
    """A Viewer from rows of (id, username, entity_id, member_of, role), one per membership."""
    if not rows:
        return None
    first = rows[0]
    roles = {r["member_of"]: r["role"] for r in rows if r["member_of"] is not None}
    return Viewer(first["id"], first["username"], first["entity_id"], roles)


def split_key_holder(
    records: Sequence[asyncpg.Record],
) -> tuple[Viewer | None, list[asyncpg.Record]]:
    """The viewer (None: the key matched nothing) and the other records of a statement
    run through sql.as_key_holder."""
    viewer = None
    rest = []
    at = list(records[0].keys()).index("v_id") if records else 0
    for r in records:
        if r[at] is None:
            rest.append(r)
        else:
            roles = dict(zip(r["v_member_of"] or (), r["v_roles"] or (), strict=True))
            viewer = Viewer(r["v_id"], r["v_username"], r["v_entity_id"], roles)
    return viewer, rest


async def entity_by_name(db: Queryable, name: str) -> EntityRow | None:
    row = await db.fetchrow(sql.ENTITY_BY_NAME, name=name)
    return _ENTITY.one(row) if row else None


async def require_entity(db: Queryable, name: str) -> EntityRow:
    check_name(name, "entity name")
    entity = await entity_by_name(db, name)
    if entity is None:
        raise NotFound(f"entity {name!r} not found")
    return entity


async def entities_by_ids(db: Queryable, ids: Sequence[int]) -> dict[int, EntityRow]:
    return {e.id: e for e in _ENTITY.all(await db.fetch(sql.ENTITIES_BY_IDS, ids=list(ids)))}


async def users_by_ids(db: Queryable, ids: Sequence[int]) -> dict[int, UserRow]:
    return {u.id: u for u in _USER.all(await db.fetch(sql.USERS_BY_IDS, ids=list(ids)))}


async def teams_by_users(db: Queryable, user_ids: Sequence[int]) -> dict[int, list[EntityRow]]:
    """The teams each user is a member of, by name."""
    rows = await db.fetch(sql.TEAMS_BY_USERS, user_ids=list(user_ids))
    teams: dict[int, list[EntityRow]] = {user: [] for user in user_ids}
    for r, team in zip(rows, _ENTITY.all(rows), strict=True):
        teams[r["member"]].append(team)
    return teams


async def create_team(db: Database, viewer: Viewer | None, name: str) -> EntityRow:
    signed_in = access.require_signed_in(viewer)
    check_name(name, "team name")
    async with db.transaction() as conn:
        row = await conn.fetchrow(sql.INSERT_TEAM, name=name)
        if row is None:
            raise Conflict(f"the name {name!r} is taken by a user or team; choose another")
        team = _ENTITY.one(row)
        await conn.execute(sql.INSERT_ADMIN, entity_id=team.id, user_id=signed_in.user_id)
        return team


async def add_team_member(
    db: Database, viewer: Viewer | None, team: str, username: str, role: str
) -> EntityRow:
    access.require_signed_in(viewer)
    async with db.transaction() as conn:
        entity = await require_entity(conn, team)
        if not entity.is_team:
            raise BadUserInput(
                f"{team!r} is a personal entity, not a team: members go to teams only"
            )
        access.require_entity_admin(viewer, entity.id, team)
        check_name(username, "username")
        user_id = await conn.fetchval(sql.USER_ID_BY_NAME, username=username)
        if user_id is None:
            raise NotFound(f"no user named {username!r}")
        if role != "ADMIN":
            # a team keeps at least one admin, or nobody could manage it again
            await conn.execute(sql.LOCK_ENTITY, id=entity.id)
            admins = await conn.fetch(sql.TEAM_ADMINS, entity_id=entity.id)
            if [r["user_id"] for r in admins] == [user_id]:
                raise Conflict(
                    f"{username!r} is the last admin of team {team!r}: "
                    "make another member ADMIN first"
                )
        await conn.execute(sql.SET_MEMBERSHIP, entity_id=entity.id, user_id=user_id, role=role)
        return entity
