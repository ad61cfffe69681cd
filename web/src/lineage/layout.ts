// Where each drawn node goes: a layered left-to-right layout by dagre. Pure: data in,
// positions out; the renderer and the SVG export both read the result.
import dagre from "@dagrejs/dagre";
import type { DrawnGraph, DrawnNode } from "./cluster";

export interface Box {
  x: number; // centre
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  boxes: Map<string, Box>;
  width: number;
  height: number;
}

export const NODE_HEIGHT = 34;
const CHAR_WIDTH = 7;

/** A label cut to what fits in a box ``width`` wide. */
export function shorten(text: string, width: number): string {
  const max = Math.max(4, Math.floor((width - 12) / CHAR_WIDTH));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function nodeSize(node: DrawnNode): { width: number; height: number } {
  const text = Math.min(node.label.length, 32) * CHAR_WIDTH;
  const width = Math.max(90, text + (node.kind === "cluster" ? 40 : 28));
  return { width, height: node.kind === "cluster" ? NODE_HEIGHT + 10 : NODE_HEIGHT };
}

export function layoutGraph(graph: DrawnGraph): Layout {
  const g = new dagre.graphlib.Graph();
  // tight-tree ranking: network simplex (the default) costs seconds past a few hundred
  // nodes and mostly straightens edges that are short already in a lineage graph
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 70, marginx: 20, marginy: 20, ranker: "tight-tree" });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, nodeSize(node));
  for (const edge of graph.edges) g.setEdge(edge.source, edge.target);
  dagre.layout(g);
  const boxes = new Map<string, Box>();
  for (const node of graph.nodes) {
    const { x, y, width, height } = g.node(node.id);
    boxes.set(node.id, { x, y, width, height });
  }
  const { width = 0, height = 0 } = g.graph();
  return { boxes, width, height };
}
