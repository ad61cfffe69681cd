"""The one place that assembles the strawberry Schema.

Export it with ``python -m resolvers.export`` (writes schema.graphql; a test fails when the
checked-in file drifts from the code).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from resolvers.accounts.mutations import AccountMutations
from resolvers.accounts.queries import AccountQueries
from resolvers.accounts.types import Entity, User
from resolvers.artifacts.mutations import ArtifactMutations
from resolvers.artifacts.queries import ArtifactQueries
from resolvers.artifacts.types import Artifact, ArtifactCollection, ManifestEntry
from resolvers.connections import Connection, Edge
from resolvers.documents import PreparedDocuments
from resolvers.lineage.types import LineageEdge, LineageGraph
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

# What the fast executor completes itself: the objects big answers are made of (a lineage
# graph's up to 10,000 nodes and their edges, connection pages of up to 1,000 edges and
# their nodes). Every other type takes graphql-core's path.
FAST_TYPES = (LineageGraph, LineageEdge, Run, Artifact, Connection, Edge, ManifestEntry)


class LineageSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        # The HTTP layer logs unexpected errors once, with the request id; expected ones
        # (NOT_FOUND, BAD_USER_INPUT, ...) are the client's business, not log noise.
        return None


def _build(**options: Any) -> LineageSchema:
    return LineageSchema(
        query=Query,
        mutation=Mutation,
        types=[User, Entity, Project, Run, Sweep, ArtifactCollection, Artifact],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        # the document the endpoint parsed, limited and cached (with its validation result)
        extensions=[PreparedDocuments],
        **options,
    )


@cache
def lineage_schema(fast_execution: bool = True) -> LineageSchema:
    """The schema, completing FAST_TYPES through resolvers/execution.py; with
    ``fast_execution=False`` (``LINEAGE_FAST_EXECUTION=0``) through graphql-core alone,
    without importing the fast executor at all. Both give the same answers."""
    if not fast_execution:
        return _build()
    # imported only here: on import it checks the graphql-core and strawberry it extends
    from resolvers.execution import fast_execution_context, speed_up_unions

    schema = _build(execution_context_class=fast_execution_context(*FAST_TYPES))
    speed_up_unions(schema)
    return schema
