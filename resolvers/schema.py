"""The one place that assembles the strawberry Schema.

Export it with ``python -m resolvers.export`` (writes schema.graphql; a test fails when the
checked-in file drifts from the code).
"""

from __future__ import annotations

from functools import cache
from inspect import isawaitable
from typing import Any, cast

import strawberry
from graphql import ExecutionResult, GraphQLError, execute
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionResult as StrawberryResult

from resolvers.accounts.mutations import AccountMutations
from resolvers.accounts.queries import AccountQueries
from resolvers.accounts.types import Entity, User
from resolvers.artifacts.mutations import ArtifactMutations
from resolvers.artifacts.queries import ArtifactQueries
from resolvers.artifacts.types import Artifact, ArtifactCollection, ManifestEntry
from resolvers.connections import Connection, Edge
from resolvers.documents import PreparedDocuments, validation_errors
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
    # whether execute_prepared hands documents to graphql-core itself (the fast schema)
    direct = False

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        # The HTTP layer logs unexpected errors once, with the request id; expected ones
        # (NOT_FOUND, BAD_USER_INPUT, ...) are the client's business, not log noise.
        return None

    async def execute_prepared(
        self,
        prepared: Any,
        variables: dict[str, Any] | None,
        context: Any,
        operation_name: str | None,
    ) -> ExecutionResult | StrawberryResult:
        """The answer to the endpoint's prepared document (server/http/documents.py).

        Strawberry's ``execute`` wraps graphql-core's in per-request machinery (an
        execution context, an extensions runner with its hooks, result conversion) that
        cost about a third of a small request's CPU; all it does for this schema is what
        ``PreparedDocuments`` does: take the parsed document and its cached validation
        result. The direct schema does that itself and calls graphql-core's ``execute``
        with the same execution context class, so answers and errors are the same
        (tests/resolvers/test_execution.py compares); the plain one
        (``LINEAGE_FAST_EXECUTION=0``) keeps strawberry's path.
        """
        if not self.direct:
            return await self.execute(
                prepared.query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
            )
        errors = await validation_errors(self._schema, prepared)
        if errors:
            return ExecutionResult(None, list(errors))
        # only the direct (fast) schema gets here: it imported the fast executor already
        from resolvers.root_plan import root_plan, run_root_plan

        plan = root_plan(self, prepared, operation_name)
        if plan is not None:
            answer = await run_root_plan(plan, self, variables, context)
            if answer is not None:
                return answer
        try:
            result = execute(
                self._schema,
                prepared.document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                executor_class=self.execution_context_class,
                is_awaitable=cast("Any", optimized_is_awaitable),
            )
            if isawaitable(result):
                result = await result
        except Exception as exc:  # noqa: BLE001 - as strawberry's execute answers it
            error = (
                exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
            )
            return ExecutionResult(None, [error])
        return result


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
    # imported only here: on import it checks the graphql-core and strawberry it extends;
    # the root plan reads graphql-core internals too, so a version without them stops the
    # start instead of failing every request on its first use
    import resolvers.root_plan  # noqa: F401
    from resolvers.execution import fast_execution_context, speed_up_unions

    schema = _build(execution_context_class=fast_execution_context(*FAST_TYPES))
    speed_up_unions(schema)
    # strawberry's per-request wrapper adds nothing while the only extension is ours
    schema.direct = list(schema.extensions) == [PreparedDocuments] and not schema.directives
    return schema
