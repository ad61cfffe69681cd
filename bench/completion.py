"""GraphQL completion of one big lineage answer, in process and without SQL: the fast
executor (resolvers/execution.py) against graphql-core's own path (LINEAGE_FAST_EXECUTION=0).

A LineageGraph of --nodes Run and Artifact views over made-up rows, and as many edges, is
completed with bench/lineage_bench.py's Q2 selection by the project's own types and execution
contexts (the fast one completing resolvers/schema.py's FAST_TYPES), alternating the two,
after checking they give the same answer. About 20 s with the defaults.

    python bench/completion.py [--nodes 10000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # server, resolvers

import strawberry  # noqa: E402
from strawberry.schema.config import StrawberryConfig  # noqa: E402

from resolvers.artifacts.types import Artifact  # noqa: E402
from resolvers.enums import LineageEdgeKind  # noqa: E402
from resolvers.execution import fast_execution_context, speed_up_unions  # noqa: E402
from resolvers.lineage.types import LineageEdge, LineageGraph  # noqa: E402
from resolvers.runs.types import Run  # noqa: E402
from resolvers.scalars import SCALAR_MAP  # noqa: E402
from resolvers.schema import FAST_TYPES  # noqa: E402
from server.domain.artifacts import ArtifactRow  # noqa: E402
from server.domain.runs import RunRow  # noqa: E402

# bench/lineage_queries.py's Q2, asked of the graph itself
QUERY = """{ graph { truncated
  nodes { __typename ... on Run { id runId runState: state }
          ... on Artifact { id name version type artifactState: state } }
  edges { source target kind } } }"""


def made_up_graph(nodes: int) -> LineageGraph:
    now = datetime.now(UTC)
    built: list[Run | Artifact] = []
    for i in range(nodes // 2):
        built.append(
            Run.of(RunRow(i, 1, "e", "p", f"run{i}", None, "FINISHED", {}, {}, None, now, now))
        )
        built.append(Artifact.of(ArtifactRow(
            1, "public", i, 1, 1, "e", "p", f"data{i}", "dataset", 0, "COMMITTED", "0" * 64, None,
            {}, 1, 1, None, None, now, 1,
        )))  # fmt: skip
    edges = [
        LineageEdge.of(node.row.global_id, built[0].row.global_id, LineageEdgeKind.USED)
        for node in built
    ]
    return LineageGraph(nodes=built, edges=edges, truncated=False)


def schema(graph: LineageGraph, fast: bool) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def graph(self) -> LineageGraph:
            return graph

    context = fast_execution_context(*FAST_TYPES) if fast else None
    built = strawberry.Schema(
        Query, types=[Run, Artifact], execution_context_class=context,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )  # fmt: skip
    if fast:
        speed_up_unions(built)
    return built


async def measure(nodes: int, rounds: int) -> None:
    graph = made_up_graph(nodes)
    schemas = {
        "fast executor": schema(graph, True),
        "graphql-core's own path": schema(graph, False),
    }
    answers = [(await s.execute(QUERY)) for s in schemas.values()]
    assert not any(a.errors for a in answers), [a.errors for a in answers]
    assert answers[0].data == answers[1].data, "the two paths answer differently"
    gc.collect()
    gc.freeze()  # as `lineage serve` does at start-up
    seconds: dict[str, list[float]] = {name: [] for name in schemas}
    for _ in range(rounds):
        for name, s in schemas.items():
            started = time.perf_counter()
            await s.execute(QUERY)
            seconds[name].append(time.perf_counter() - started)
    print(f"completing {nodes:,} nodes and {nodes:,} edges, {rounds} rounds:")
    for name, times in seconds.items():
        print(
            f"  {name:24s} median {statistics.median(times) * 1e3:7.1f} ms, min {min(times) * 1e3:7.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(measure(args.nodes, args.rounds))


if __name__ == "__main__":
    main()
