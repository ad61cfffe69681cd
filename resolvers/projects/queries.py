from __future__ import annotations

import strawberry

from resolvers.info import Info
from resolvers.projects.types import Project
from server.domain import projects


@strawberry.type
class ProjectQueries:
    @strawberry.field
    async def project(self, info: Info, entity: str, name: str) -> Project | None:
        row = await projects.find_project(info.context.db, info.context.viewer, entity, name)
        return Project.of(row) if row else None
