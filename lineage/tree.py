"""``lineage lineage PATH``: the graph printed as a tree from the start node."""

from __future__ import annotations

from lineage.api import Api
from lineage.artifacts import Artifact
from lineage.graph import LineageGraph
from lineage.nodes import Node


def start_node(api: Api, path: str) -> Node:
    """An artifact path has a ``:``; anything else is a run."""
    return api.artifact(path) if ":" in path else api.run(path)


def label(node: Node) -> str:
    if isinstance(node, Artifact):
        state = "" if node.state == "COMMITTED" else f" [{node.state}]"
        return f"artifact {node.path} ({node.type}){state}"
    return f"run {node.path}"


def render(graph: LineageGraph, direction: str) -> list[str]:
    """Lines of the tree: children are the next hop in ``direction``; a node reached
    again is named with "(see above)" instead of repeating its subtree."""
    step = graph.successors if direction == "downstream" else graph.predecessors
    lines = [label(graph.start)]
    seen = {graph.start}

    def walk(node: Node, indent: str) -> None:
        children = step(node)
        for index, child in enumerate(children):
            last = index == len(children) - 1
            repeated = child in seen
            lines.append(f"{indent}{'└── ' if last else '├── '}{label(child)}"
                         + (" (see above)" if repeated else ""))  # fmt: skip
            if not repeated:
                seen.add(child)
                walk(child, indent + ("    " if last else "│   "))

    walk(graph.start, "")
    return lines


def print_lineage(api: Api, path: str, direction: str, depth: int, limit: int) -> None:
    start = start_node(api, path)
    directions = ("upstream", "downstream") if direction == "both" else (direction,)
    for index, way in enumerate(directions):
        graph = start.lineage(direction=way, depth=depth, limit=limit)  # type: ignore[attr-defined]
        if len(directions) > 1:
            print(("" if index == 0 else "\n") + f"{way}:")
        print("\n".join(render(graph, way)))
        if graph.truncated:
            print(f"(truncated: more lies beyond depth {depth} or limit {limit})")
