from __future__ import annotations

import strawberry

from resolvers.accounts.types import Entity, User
from resolvers.info import Info
from server.domain import accounts
from server.domain.names import check_name


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in user; null for anonymous requests.")
    async def viewer(self, info: Info) -> User | None:
        viewer = info.context.viewer
        if viewer is None:
            return None
        return User.of(accounts.UserRow(viewer.user_id, viewer.username, viewer.entity_id))

    @strawberry.field
    async def entity(self, info: Info, name: str) -> Entity | None:
        check_name(name, "entity name")
        row = await accounts.entity_by_name(info.context.db, name)
        return Entity.of(row) if row else None
