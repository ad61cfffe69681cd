"""Project."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.accounts.types import Entity
from resolvers.connections import Connection, loaded_connection
from resolvers.enums import Visibility
from resolvers.info import Info
from resolvers.node import Node, node_loader
from server.domain import artifacts, runs, sweeps
from server.domain.ids import encode_id
from server.domain.names import check_name
from server.domain.pagination import page_args
from server.domain.projects import ProjectRow

if TYPE_CHECKING:
    from resolvers.artifacts.types import ArtifactCollection
    from resolvers.runs.types import Run, RunOrder, Sweep

RunType = Annotated["Run", strawberry.lazy("resolvers.runs.types")]
SweepType = Annotated["Sweep", strawberry.lazy("resolvers.runs.types")]
RunOrderType = Annotated["RunOrder", strawberry.lazy("resolvers.runs.types")]
CollectionType = Annotated["ArtifactCollection", strawberry.lazy("resolvers.artifacts.types")]


@strawberry.type
class Project(Node):
    name: str
    visibility: Visibility
    created_at: datetime
    row: strawberry.Private[ProjectRow]

    @classmethod
    def of(cls, row: ProjectRow) -> Project:
        return cls(
            id=strawberry.ID(encode_id("Project", row.id)),
            name=row.name,
            visibility=Visibility(row.visibility),
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field
    async def entity(self, info: Info) -> Entity:
        entity = await info.context.loaders.entity_by_id.load(self.row.entity_id)
        assert entity is not None
        return Entity.of(entity)

    @strawberry.field
    async def runs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        order_by: RunOrderType | None = None,
    ) -> Connection[RunType]:
        from resolvers.runs.types import Run

        loaders = info.context.loaders
        order = order_by.to_domain() if order_by else None
        key = runs.run_page_key("project", self.row.id, order, page_args(first, after))
        return await loaded_connection(
            info, loaders.run_pages, loaders.project_run_count, key, self.row.id, Run.of
        )

    @strawberry.field
    async def sweeps(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[SweepType]:
        from resolvers.runs.types import Sweep

        loaders = info.context.loaders
        key = sweeps.sweep_page_key(self.row.id, page_args(first, after))
        return await loaded_connection(
            info, loaders.sweep_pages, loaders.sweep_count, key, self.row.id, Sweep.of
        )

    @strawberry.field
    async def artifact_collection(self, info: Info, name: str) -> CollectionType | None:
        from resolvers.artifacts.types import ArtifactCollection

        check_name(name, "artifact name")
        row = await info.context.loaders.collection_by_name.load((self.row.id, name))
        return ArtifactCollection.of(row) if row else None

    @strawberry.field
    async def artifact_collections(
        self,
        info: Info,
        type: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CollectionType]:
        from resolvers.artifacts.types import ArtifactCollection

        loaders = info.context.loaders
        key = artifacts.collection_page_key(self.row.id, type, page_args(first, after))
        return await loaded_connection(
            info, loaders.collection_pages, loaders.collection_count, key, (self.row.id, type),
            ArtifactCollection.of,
        )  # fmt: skip


@node_loader("Project")
async def load_project(info: Info, pk: int) -> Project | None:
    row = await info.context.loaders.project_by_id.load(pk)
    return Project.of(row) if row else None
