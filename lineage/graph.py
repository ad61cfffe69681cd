"""Lineage answers: nodes (Runs and Artifacts), the edges between them, and whether a
limit cut the walk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lineage import queries
from lineage.errors import BadInput, NotFound
from lineage.nodes import Node, node_from

if TYPE_CHECKING:
    from lineage.api import Api

DIRECTIONS = ("upstream", "downstream", "both")


@dataclass(frozen=True)
class LineageEdge:
    """Data flows source -> target: Run -LOGGED-> Artifact, Artifact -USED-> Run."""

    source: Node
    target: Node
    kind: str  # "LOGGED" or "USED"


@dataclass(frozen=True)
class LineageGraph:
    start: Node
    nodes: list[Node]
    edges: list[LineageEdge]
    truncated: bool

    def successors(self, node: Node) -> list[Node]:
        """Nodes one hop downstream of ``node`` within this graph."""
        return [e.target for e in self.edges if e.source == node]

    def predecessors(self, node: Node) -> list[Node]:
        return [e.source for e in self.edges if e.target == node]


def fetch_lineage(api: Api, start: Node, direction: str, depth: int, limit: int) -> LineageGraph:
    if direction.lower() not in DIRECTIONS:
        raise BadInput(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    variables = {"id": start.id, "direction": direction.upper(), "depth": depth, "limit": limit}
    data = api.graphql(queries.LINEAGE, variables)["node"]
    if data is None:
        raise NotFound(f"{start.path} is no longer readable")
    answer: dict[str, Any] = data.get("runGraph") or data["artifactGraph"]
    by_id: dict[str, Node] = {}
    for node_data in answer["nodes"]:
        node = start if node_data["id"] == start.id else node_from(api, node_data)
        by_id[node.id] = node
    edges = [
        LineageEdge(by_id[e["source"]], by_id[e["target"]], e["kind"]) for e in answer["edges"]
    ]
    return LineageGraph(start, list(by_id.values()), edges, bool(answer["truncated"]))
