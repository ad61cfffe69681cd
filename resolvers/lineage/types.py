"""LineageGraph, LineageEdge and the LineageNode union."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.artifacts.types import Artifact
from resolvers.enums import LineageEdgeKind
from resolvers.runs.types import Run

LineageNode = Annotated[Run | Artifact, strawberry.union("LineageNode")]


@strawberry.type
class LineageEdge:
    source: strawberry.ID = strawberry.field(
        description="Global id of the producing side: the Run for LOGGED, the Artifact for USED."
    )
    target: strawberry.ID
    kind: LineageEdgeKind


@strawberry.type
class LineageGraph:
    nodes: list[LineageNode] = strawberry.field(
        description="Every node reached, the start node included, each once."
    )
    edges: list[LineageEdge] = strawberry.field(
        description="Every edge between two nodes in nodes, each once."
    )
    truncated: bool = strawberry.field(description="True when a limit cut the traversal short.")
