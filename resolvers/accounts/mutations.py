from __future__ import annotations

import strawberry

from resolvers.accounts.types import Entity
from resolvers.enums import MemberRole
from resolvers.info import Info, mutation
from server.domain import accounts


@strawberry.type
class AccountMutations:
    @strawberry.mutation
    async def create_team(self, info: Info, name: str) -> Entity:
        async with mutation(info) as db:
            return Entity.of(await accounts.create_team(db, info.context.viewer, name))

    @strawberry.mutation
    async def add_team_member(
        self, info: Info, team: str, username: str, role: MemberRole = MemberRole.MEMBER
    ) -> Entity:
        async with mutation(info) as db:
            entity = await accounts.add_team_member(
                db, info.context.viewer, team, username, role.value
            )
            return Entity.of(entity)
