from __future__ import annotations

import strawberry

from resolvers.info import Info
from resolvers.runs.types import Run, Sweep
from server.domain import runs, sweeps


@strawberry.type
class RunQueries:
    @strawberry.field(description='Path "entity/project/runId".')
    async def run(self, info: Info, path: str) -> Run | None:
        row = await runs.find_run(info.context.db, info.context.viewer, path)
        return Run.of(row) if row else None

    @strawberry.field(description='Path "entity/project/sweepId".')
    async def sweep(self, info: Info, path: str) -> Sweep | None:
        row = await sweeps.find_sweep(info.context.db, info.context.viewer, path)
        return Sweep.of(row) if row else None
