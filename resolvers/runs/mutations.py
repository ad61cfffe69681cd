from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from resolvers.enums import ResumeMode, RunState
from resolvers.info import Info
from resolvers.runs.types import Run, Sweep
from server.domain import runs, sweeps


@strawberry.input
class UpsertRunInput:
    entity: str | None = strawberry.field(
        default=None, description="Defaults to the viewer's default entity."
    )
    project: str
    run_id: str | None = strawberry.field(
        default=None, description="Generated (8 lowercase letters and digits) when absent."
    )
    name: str | None = None
    config: JSON | None = None
    sweep: str | None = strawberry.field(default=None, description="sweepId in the same project.")
    resume: ResumeMode = ResumeMode.NEVER


@strawberry.input
class UpdateRunInput:
    run: str = strawberry.field(description='Path "entity/project/runId".')
    config: JSON | None = None
    summary: JSON | None = None
    state: RunState | None = None


@strawberry.input
class CreateSweepInput:
    entity: str | None = None
    project: str
    sweep_id: str | None = strawberry.field(default=None, description="Generated when absent.")
    name: str | None = None
    config: JSON | None = None


@strawberry.type
class RunMutations:
    @strawberry.mutation(
        description="Create or resume a run (see ResumeMode); creates the project, private, if it does not exist and the viewer may create it."
    )
    async def upsert_run(self, info: Info, input: UpsertRunInput) -> Run:
        row = await runs.upsert_run(
            info.context.db,
            info.context.viewer,
            entity=input.entity,
            project=input.project,
            run_id=input.run_id,
            name=input.name,
            config=input.config,
            sweep=input.sweep,
            resume=input.resume.value,
        )
        return Run.of(row)

    @strawberry.mutation(description="Merge config/summary keys, and set the state.")
    async def update_run(self, info: Info, input: UpdateRunInput) -> Run:
        row = await runs.update_run(
            info.context.db,
            info.context.viewer,
            input.run,
            config=input.config,
            summary=input.summary,
            state=input.state.value if input.state else None,
        )
        return Run.of(row)

    @strawberry.mutation(
        description="Creates the project, private, if it does not exist and the viewer may create it."
    )
    async def create_sweep(self, info: Info, input: CreateSweepInput) -> Sweep:
        row = await sweeps.create_sweep(
            info.context.db,
            info.context.viewer,
            entity=input.entity,
            project=input.project,
            sweep_id=input.sweep_id,
            name=input.name,
            config=input.config,
        )
        return Sweep.of(row)
