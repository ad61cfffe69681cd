"""The one place that assembles the strawberry Schema.

Export it with ``python -m resolvers.export`` (writes schema.graphql; a test fails when the
checked-in file drifts from the code).
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from resolvers.accounts.mutations import AccountMutations
from resolvers.accounts.queries import AccountQueries
from resolvers.accounts.types import Entity, User
from resolvers.artifacts.mutations import ArtifactMutations
from resolvers.artifacts.queries import ArtifactQueries
from resolvers.artifacts.types import Artifact, ArtifactCollection
from resolvers.documents import PreparedDocuments
from resolvers.execution import FastExecutionContext, speed_up_unions
from resolvers.mutation import extend_mutations
from resolvers.node import NodeQueries
from resolvers.projects.mutations import ProjectMutations
from resolvers.projects.queries import ProjectQueries
from resolvers.projects.types import Project
from resolvers.runs.mutations import RunMutations
from resolvers.runs.queries import RunQueries
from resolvers.runs.types import Run, Sweep
from resolvers.scalars import SCALAR_MAP

Query = merge_types(
    "Query", (NodeQueries, AccountQueries, ProjectQueries, RunQueries, ArtifactQueries)
)
Mutation = merge_types(
    "Mutation", (AccountMutations, ProjectMutations, RunMutations, ArtifactMutations)
)
extend_mutations(Mutation)


class LineageSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        # The HTTP layer logs unexpected errors once, with the request id; expected ones
        # (NOT_FOUND, BAD_USER_INPUT, ...) are the client's business, not log noise.
        return None


schema = LineageSchema(
    query=Query,
    mutation=Mutation,
    types=[User, Entity, Project, Run, Sweep, ArtifactCollection, Artifact],
    config=StrawberryConfig(scalar_map=SCALAR_MAP),
    execution_context_class=FastExecutionContext,
    # the document the endpoint parsed, limited and cached (with its validation result)
    extensions=[PreparedDocuments],
)
speed_up_unions(schema)
