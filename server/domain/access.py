"""Every access decision of the service, in one place (docs/semantics.md, "Access").

- PRIVATE: members of the owning entity read and write.
- PUBLIC: anyone reads; members write.
- OPEN: anyone reads; any signed-in user writes.
Anything the viewer may not read must behave as if it did not exist: lookups return
None (NOT_FOUND for mutations), lists leave it out. ``READABLE`` is the same rule as
``can_read`` for statements that filter in the database; both must change together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from server.errors import Forbidden, NotFound, Unauthenticated


@dataclass(frozen=True)
class Viewer:
    user_id: int
    username: str
    entity_id: int
    # entity id -> "ADMIN" | "MEMBER", the personal entity included
    roles: Mapping[int, str] = field(default_factory=dict)


# slots, not frozen: rows are built by the thousand (lineage hydration), and a frozen
# dataclass pays an object.__setattr__ per field; nothing mutates them
@dataclass(slots=True)
class ProjectAccess:
    """What an access check needs to know about a project."""

    entity_id: int
    visibility: str


def member_entity_ids(viewer: Viewer | None) -> list[int]:
    return [] if viewer is None else sorted(viewer.roles)


def is_member(viewer: Viewer | None, entity_id: int) -> bool:
    return viewer is not None and entity_id in viewer.roles


def is_admin(viewer: Viewer | None, entity_id: int) -> bool:
    return viewer is not None and viewer.roles.get(entity_id) == "ADMIN"


def can_read(viewer: Viewer | None, project: ProjectAccess) -> bool:
    return project.visibility != "PRIVATE" or is_member(viewer, project.entity_id)


def can_write(viewer: Viewer | None, project: ProjectAccess) -> bool:
    if viewer is None:
        return False
    return project.visibility == "OPEN" or is_member(viewer, project.entity_id)


# The SQL twin of ``can_read``, for a statement that names the project ``p``; it takes
# ``member_entity_ids(viewer)`` as ``:member_entity_ids``.
READABLE = "(p.visibility <> 'PRIVATE' OR p.entity_id = ANY(:member_entity_ids::bigint[]))"


def require_signed_in(viewer: Viewer | None) -> Viewer:
    if viewer is None:
        raise Unauthenticated(
            "this operation needs a signed-in user: send 'Authorization: Bearer <api key>'"
        )
    return viewer


def require_write(viewer: Viewer | None, project: ProjectAccess, what: str) -> Viewer:
    """Raise for anything but a writable project; invisible ones are NOT_FOUND."""
    signed_in = require_signed_in(viewer)
    if not can_read(viewer, project):
        raise NotFound(f"{what} not found")
    if not can_write(viewer, project):
        raise Forbidden(f"you may read {what} but not change it: ask an admin of its entity")
    return signed_in


def require_entity_member(viewer: Viewer | None, entity_id: int, entity_name: str) -> Viewer:
    signed_in = require_signed_in(viewer)
    if not is_member(viewer, entity_id):
        raise Forbidden(f"you are not a member of entity {entity_name!r}")
    return signed_in


def require_entity_admin(viewer: Viewer | None, entity_id: int, entity_name: str) -> Viewer:
    signed_in = require_signed_in(viewer)
    if not is_admin(viewer, entity_id):
        raise Forbidden(f"only admins of entity {entity_name!r} may do this")
    return signed_in
