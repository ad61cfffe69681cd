from __future__ import annotations

import strawberry

from resolvers.accounts.types import Entity
from resolvers.enums import MemberRole
from resolvers.info import Info
from server.domain import accounts


@strawberry.type
class AccountMutations:
    @strawberry.mutation
    async def create_team(self, info: Info, name: str) -> Entity:
        ctx = info.context
        return Entity.of(await accounts.create_team(ctx.db, ctx.viewer, name))

    @strawberry.mutation
    async def add_team_member(
        self, info: Info, team: str, username: str, role: MemberRole = MemberRole.MEMBER
    ) -> Entity:
        ctx = info.context
        entity = await accounts.add_team_member(ctx.db, ctx.viewer, team, username, role.value)
        return Entity.of(entity)
