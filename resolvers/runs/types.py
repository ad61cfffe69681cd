"""Run, Sweep and RunOrder."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from resolvers.connections import Connection, hop_connections, loaded_connection
from resolvers.enums import LineageDirection, OptimizationGoal, RunState, SortDirection
from resolvers.fields import BATCH_RESOLVER, row_field
from resolvers.info import Info
from resolvers.lineage.fields import hop_connection, lineage_graph
from resolvers.node import NODE_ID_DESCRIPTION, Node, node_loader
from resolvers.projects.types import Project
from server.domain import runs
from server.domain.ids import encode_id
from server.domain.pagination import page_args
from server.domain.runs import RunRow
from server.domain.sweeps import SweepRow

if TYPE_CHECKING:
    from resolvers.artifacts.types import Artifact
    from resolvers.lineage.types import LineageGraph

ArtifactType = Annotated["Artifact", strawberry.lazy("resolvers.artifacts.types")]
LineageGraphType = Annotated["LineageGraph", strawberry.lazy("resolvers.lineage.types")]


LINEAGE_DESCRIPTION = "Nodes reachable within depth hops (0 = this node only); at most limit nodes, then truncated is true. BOTH is the union of the UPSTREAM and DOWNSTREAM results, not an undirected walk."


@strawberry.input
class RunOrder:
    field: str = strawberry.field(
        description='"createdAt", "summary.<key>" or "config.<key>" (dotted keys reach into nested objects). Numbers sort numerically; runs without the key come last in either direction; ties break by createdAt.'
    )
    direction: SortDirection = SortDirection.DESC

    def to_domain(self) -> runs.RunOrder:
        return runs.RunOrder(self.field, self.direction.value)


async def _project(info: Info, project_id: int) -> Project:
    row = await info.context.loaders.project_by_id.load(project_id)
    assert row is not None  # readable: the child was only visible through it
    return Project.of(row)


async def _hop_batch(
    runs: list[Run], info: Info, name: str, type: str | None, first: int | None, after: str | None
) -> list[Connection[Artifact]]:
    from resolvers.artifacts.types import Artifact

    loaders = info.context.loaders
    return await hop_connections(
        info, getattr(loaders, f"{name}_page"), getattr(loaders, f"{name}_count"), Artifact.of,
        [run.row.id for run in runs], first, after, type,
    )  # fmt: skip


async def _logged_artifacts_batch(
    runs: list[Run],
    info: Info,
    type: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> list[Connection[Artifact]]:
    return await _hop_batch(runs, info, "logged_artifacts", type, first, after)


async def _used_artifacts_batch(
    runs: list[Run],
    info: Info,
    type: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> list[Connection[Artifact]]:
    return await _hop_batch(runs, info, "used_artifacts", type, first, after)


@strawberry.type
class Run(Node):
    row: strawberry.Private[RunRow]
    id: strawberry.ID = row_field("global_id", NODE_ID_DESCRIPTION)
    run_id: str = row_field("run_id")
    name: str | None = row_field("name")
    path: str = row_field("path")
    state: RunState = row_field("state")
    config: JSON = row_field("config")
    summary: JSON = row_field("summary")
    created_at: datetime = row_field("created_at")
    updated_at: datetime = row_field("updated_at")

    @classmethod
    def of(cls, row: RunRow) -> Run:
        return cls(row=row)

    @strawberry.field
    async def project(self, info: Info) -> Project:
        return await _project(info, self.row.project_id)

    @strawberry.field
    async def sweep(self, info: Info) -> Sweep | None:
        if self.row.sweep_id is None:
            return None
        row = await info.context.loaders.sweep_by_id.load(self.row.sweep_id)
        return Sweep.of(row) if row else None

    @strawberry.field(
        description="Artifact versions this run logged (outputs), oldest first.",
        metadata={BATCH_RESOLVER: _logged_artifacts_batch},
    )
    async def logged_artifacts(
        self,
        info: Info,
        type: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ArtifactType]:
        from resolvers.artifacts.types import Artifact

        loaders = info.context.loaders
        return await hop_connection(
            info, loaders.logged_artifacts_page, loaders.logged_artifacts_count,
            Artifact.of, self.row.id, first, after, type,
        )  # fmt: skip

    @strawberry.field(
        description="Artifact versions this run used (inputs), in order of first use.",
        metadata={BATCH_RESOLVER: _used_artifacts_batch},
    )
    async def used_artifacts(
        self,
        info: Info,
        type: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ArtifactType]:
        from resolvers.artifacts.types import Artifact

        loaders = info.context.loaders
        return await hop_connection(
            info, loaders.used_artifacts_page, loaders.used_artifacts_count,
            Artifact.of, self.row.id, first, after, type,
        )  # fmt: skip

    @strawberry.field(description=LINEAGE_DESCRIPTION)
    async def lineage(
        self,
        info: Info,
        direction: LineageDirection = LineageDirection.BOTH,
        depth: int = 1,
        limit: int = 1000,
    ) -> LineageGraphType:
        return await lineage_graph(info, "Run", self.row.id, direction.value, depth, limit)  # type: ignore[no-any-return]


@strawberry.type
class Sweep(Node):
    sweep_id: str
    name: str | None
    path: str
    config: JSON
    created_at: datetime
    row: strawberry.Private[SweepRow]

    @classmethod
    def of(cls, row: SweepRow) -> Sweep:
        return cls(
            id=strawberry.ID(encode_id("Sweep", row.id)),
            sweep_id=row.sweep_id,
            name=row.name,
            path=row.path,
            config=JSON(row.config),
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field
    async def project(self, info: Info) -> Project:
        return await _project(info, self.row.project_id)

    @strawberry.field
    async def runs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        order_by: RunOrder | None = None,
    ) -> Connection[Run]:
        loaders = info.context.loaders
        order = order_by.to_domain() if order_by else None
        key = runs.run_page_key("sweep", self.row.id, order, page_args(first, after))
        return await loaded_connection(
            info, loaders.run_pages, loaders.sweep_run_count, key, self.row.id, Run.of
        )

    @strawberry.field(
        description='The run whose summary value at metric (a dotted key, e.g. "val.acc") is best; runs without a number there are ignored; null if none has one.'
    )
    async def best_run(
        self, info: Info, metric: str, goal: OptimizationGoal = OptimizationGoal.MAXIMIZE
    ) -> Run | None:
        runs.check_metric(metric)
        row = await info.context.loaders.best_run.load((self.row.id, metric, goal.value))
        return Run.of(row) if row else None


@node_loader("Run")
async def load_run(info: Info, pk: int) -> Run | None:
    row = await info.context.loaders.run_by_id.load(pk)
    return Run.of(row) if row else None


@node_loader("Sweep")
async def load_sweep(info: Info, pk: int) -> Sweep | None:
    row = await info.context.loaders.sweep_by_id.load(pk)
    return Sweep.of(row) if row else None
