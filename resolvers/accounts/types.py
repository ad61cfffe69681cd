"""User and Entity."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.connections import Connection, loaded_connection
from resolvers.info import Info
from resolvers.node import Node, node_loader
from server.domain import accounts, projects
from server.domain.ids import encode_id
from server.domain.names import check_name
from server.domain.pagination import page_args

if TYPE_CHECKING:
    from resolvers.projects.types import Project

ProjectType = Annotated["Project", strawberry.lazy("resolvers.projects.types")]


@strawberry.type
class Entity(Node):
    name: str
    is_team: bool
    row: strawberry.Private[accounts.EntityRow]

    @classmethod
    def of(cls, row: accounts.EntityRow) -> Entity:
        return cls(
            id=strawberry.ID(encode_id("Entity", row.id)),
            name=row.name,
            is_team=row.is_team,
            row=row,
        )

    @strawberry.field
    async def project(self, info: Info, name: str) -> ProjectType | None:
        from resolvers.projects.types import Project

        check_name(name, "project name")
        found = await info.context.loaders.project_by_name.load((self.row.id, name))
        return Project.of(found) if found else None

    @strawberry.field
    async def projects(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProjectType]:
        from resolvers.projects.types import Project

        loaders = info.context.loaders
        key = projects.project_page_key(self.row.id, page_args(first, after))
        return await loaded_connection(
            info, loaders.project_pages, loaders.project_count, key, self.row.id, Project.of
        )


@strawberry.type
class User(Node):
    username: str
    row: strawberry.Private[accounts.UserRow]

    @classmethod
    def of(cls, row: accounts.UserRow) -> User:
        return cls(id=strawberry.ID(encode_id("User", row.id)), username=row.username, row=row)

    @strawberry.field(description="The personal entity of the same name.")
    async def default_entity(self, info: Info) -> Entity:
        entity = await info.context.loaders.entity_by_id.load(self.row.entity_id)
        assert entity is not None
        return Entity.of(entity)

    @strawberry.field
    async def teams(self, info: Info) -> list[Entity]:
        return [
            Entity.of(e) for e in await info.context.loaders.teams_by_user.load(self.row.id) or []
        ]


@node_loader("Entity")
async def load_entity(info: Info, pk: int) -> Entity | None:
    row = await info.context.loaders.entity_by_id.load(pk)
    return Entity.of(row) if row else None


@node_loader("User")
async def load_user(info: Info, pk: int) -> User | None:
    row = await info.context.loaders.user_by_id.load(pk)
    return User.of(row) if row else None
