from __future__ import annotations

import strawberry

from resolvers.artifacts.types import Artifact
from resolvers.info import Info
from server.domain import artifacts


@strawberry.type
class ArtifactQueries:
    @strawberry.field(
        description='Path "[entity/]project/name:alias" or "[entity/]project/name:vN"; the entity defaults to the viewer\'s default entity.'
    )
    async def artifact(self, info: Info, path: str) -> Artifact | None:
        row = await artifacts.find_artifact(info.context.db, info.context.viewer, path)
        return Artifact.of(row) if row else None
