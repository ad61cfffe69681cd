"""LineageGraph, LineageEdge and the LineageNode union."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.artifacts.types import Artifact
from resolvers.enums import LineageEdgeKind
from resolvers.fields import row_item
from resolvers.runs.types import Run

LineageNode = Annotated[Run | Artifact, strawberry.union("LineageNode")]


@strawberry.type
class LineageEdge:
    # (source, target, kind): global ids, and the kind's name ("LOGGED" or "USED")
    row: strawberry.Private[tuple[str, str, str]]
    source: strawberry.ID = row_item(
        0, "Global id of the producing side: the Run for LOGGED, the Artifact for USED."
    )
    target: strawberry.ID = row_item(1)
    kind: LineageEdgeKind = row_item(2)

    @classmethod
    def of(cls, source: str, target: str, kind: LineageEdgeKind | str) -> LineageEdge:
        return cls(row=(source, target, kind if isinstance(kind, str) else kind.value))


@strawberry.type
class LineageGraph:
    nodes: list[LineageNode] = strawberry.field(
        description="Every node reached, the start node included, each once."
    )
    edges: list[LineageEdge] = strawberry.field(
        description="Every edge between two nodes in nodes, each once."
    )
    truncated: bool = strawberry.field(description="True when a limit cut the traversal short.")
