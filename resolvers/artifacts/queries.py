from __future__ import annotations

import strawberry

from resolvers.artifacts.types import Artifact
from resolvers.info import Info
from resolvers.selection import below, fields_of
from server.domain import artifacts


@strawberry.type
class ArtifactQueries:
    @strawberry.field(
        description='Path "[entity/]project/name:alias" or "[entity/]project/name:vN"; the entity defaults to the viewer\'s default entity.'
    )
    async def artifact(self, info: Info, path: str) -> Artifact | None:
        context = info.context
        raw = info._raw_info
        if not any(f.name.value == "loggedBy" for f in fields_of(raw, below(raw.field_nodes))):
            row = await artifacts.find_artifact(context.db, context.viewer, path)
            return Artifact.of(row) if row else None
        # loggedBy is selected: the producer comes in the same round trip, and its loader
        # answers from it (None when the viewer may not read it, as the loader would)
        row, producer = await artifacts.find_artifact_and_producer(context.db, context.viewer, path)
        if row is None:
            return None
        context.loaders.run_by_id.prime(row.logged_by, producer)
        return Artifact.of(row)
