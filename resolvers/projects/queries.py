from __future__ import annotations

import strawberry

from resolvers.connections import Connection
from resolvers.info import Info
from resolvers.projects.types import Project
from server.domain import projects
from server.domain.pagination import page_args


@strawberry.type
class ProjectQueries:
    @strawberry.field
    async def project(self, info: Info, entity: str, name: str) -> Project | None:
        row = await projects.find_project(info.context.db, info.context.viewer, entity, name)
        return Project.of(row) if row else None

    @strawberry.field(
        description="Every project the viewer may read (public and open ones when anonymous), by entity then name; search keeps those whose name contains it, ignoring case."
    )
    async def projects(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Project]:
        page = await projects.list_readable_projects(
            info.context.db, info.context.viewer, search, page_args(first, after)
        )
        return Connection.of(page, Project.of)
