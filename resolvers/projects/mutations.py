from __future__ import annotations

import strawberry

from resolvers.enums import Visibility
from resolvers.info import Info
from resolvers.projects.types import Project
from server.domain import projects


@strawberry.input
class CreateProjectInput:
    entity: str
    name: str
    visibility: Visibility = Visibility.PRIVATE


@strawberry.input
class UpdateProjectInput:
    entity: str
    name: str
    visibility: Visibility | None = None


@strawberry.type
class ProjectMutations:
    @strawberry.mutation
    async def create_project(self, info: Info, input: CreateProjectInput) -> Project:
        ctx = info.context
        row = await projects.create_project(
            ctx.db, ctx.viewer, input.entity, input.name, input.visibility.value
        )
        return Project.of(row)

    @strawberry.mutation
    async def update_project(self, info: Info, input: UpdateProjectInput) -> Project:
        ctx = info.context
        visibility = input.visibility.value if input.visibility else None
        row = await projects.update_project(
            ctx.db, ctx.viewer, input.entity, input.name, visibility
        )
        return Project.of(row)
