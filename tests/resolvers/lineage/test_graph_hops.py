"""A walk's Graph keeps its nodes by hop; the nodes, the groups of one kind and the ids of
one kind read the same from a walk's graph as from one given node by node (BOTH's)."""

from __future__ import annotations

from server.domain.graph import ARTIFACT, RUN, Graph, NodeKey

HOPS = [(ARTIFACT, [7]), (RUN, [3, 1]), (ARTIFACT, [9, 2, 8]), (RUN, [4])]
NODES: list[NodeKey] = [(kind, i) for kind, ids in HOPS for i in ids]


def test_a_walks_nodes_in_order_from_its_hops() -> None:
    walked = Graph(node_hops=[(kind, list(ids)) for kind, ids in HOPS])
    assert walked.nodes == NODES
    assert walked.node_groups() == HOPS
    assert walked.ids_of(RUN) == [3, 1, 4]
    assert walked.ids_of(ARTIFACT) == [7, 9, 2, 8]


def test_a_graph_of_nodes_groups_them_by_kind_side_by_side() -> None:
    merged = Graph(list(NODES))
    assert merged.node_groups() == HOPS
    assert merged.ids_of(RUN) == [3, 1, 4]
    assert merged.ids_of(ARTIFACT) == [7, 9, 2, 8]
    assert Graph([]).node_groups() == []
    assert Graph().nodes == []
