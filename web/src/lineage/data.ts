// Lineage data: what the server answered, merged across "expand" requests. No layout
// or drawing here.
import { gql } from "../app/api";
import type { Direction } from "../app/routes";

export type NodeKind = "run" | "artifact";

export interface LineageNode {
  id: string;
  kind: NodeKind;
  /** Artifact "name:vN", run name or id. */
  label: string;
  /** The artifact type; "run" for runs. */
  type: string;
  path: string;
  state: string;
  /** What siblings must share to form one cluster: the type for artifacts, the name
   * without its trailing numbers for runs ("eval-3-017" -> "eval"). */
  group: string;
}

export interface LineageEdge {
  source: string;
  target: string;
  kind: "LOGGED" | "USED";
}

export interface Lineage {
  startId: string;
  nodes: Map<string, LineageNode>;
  edges: LineageEdge[];
  truncated: boolean;
}

/** The server's maximum: one answer holds at most this many nodes. */
export const NODE_LIMIT = 10_000;

const GRAPH_FIELDS = `truncated
  nodes {
    __typename
    ... on Run { id runId runName: name path runState: state }
    ... on Artifact { id name type version path artifactState: state }
  }
  edges { source target kind }`;

const QUERY = `query Lineage($id: ID!, $direction: LineageDirection!, $depth: Int!, $limit: Int!) {
  node(id: $id) {
    ... on Run { runGraph: lineage(direction: $direction, depth: $depth, limit: $limit) { ${GRAPH_FIELDS} } }
    ... on Artifact { artifactGraph: lineage(direction: $direction, depth: $depth, limit: $limit) { ${GRAPH_FIELDS} } }
  }
}`;

type RawNode =
  | { __typename: "Run"; id: string; runId: string; runName: string | null; path: string; runState: string }
  | {
      __typename: "Artifact";
      id: string;
      name: string;
      type: string;
      version: string | null;
      path: string;
      artifactState: string;
    };

interface RawGraph {
  truncated: boolean;
  nodes: RawNode[];
  edges: LineageEdge[];
}

export function runGroup(name: string | null): string {
  return (name ?? "").replace(/([-_.\s]*\d+)+$/, "");
}

function toNode(raw: RawNode): LineageNode {
  if (raw.__typename === "Run") {
    return {
      id: raw.id,
      kind: "run",
      label: raw.runName || raw.runId,
      type: "run",
      path: raw.path,
      state: raw.runState,
      group: runGroup(raw.runName),
    };
  }
  return {
    id: raw.id,
    kind: "artifact",
    label: `${raw.name}:${raw.version ?? "pending"}`,
    type: raw.type,
    path: raw.path,
    state: raw.artifactState,
    group: raw.type,
  };
}

export async function fetchLineage(
  id: string,
  direction: Direction,
  depth: number,
): Promise<Lineage | null> {
  const data = await gql<{ node: { runGraph?: RawGraph; artifactGraph?: RawGraph } | null }>(QUERY, {
    id,
    direction,
    depth,
    limit: NODE_LIMIT,
  });
  const graph = data.node?.runGraph ?? data.node?.artifactGraph;
  if (!graph) return null;
  return {
    startId: id,
    nodes: new Map(graph.nodes.map((n) => [n.id, toNode(n)])),
    edges: graph.edges,
    truncated: graph.truncated,
  };
}

/** `more` (one more hop from a frontier node) added to `base`; each node and edge once. */
export function mergeLineage(base: Lineage, more: Lineage): Lineage {
  const nodes = new Map(base.nodes);
  for (const [id, node] of more.nodes) if (!nodes.has(id)) nodes.set(id, node);
  const seen = new Set(base.edges.map(edgeKey));
  const edges = [...base.edges];
  for (const edge of more.edges) {
    if (!seen.has(edgeKey(edge))) {
      seen.add(edgeKey(edge));
      edges.push(edge);
    }
  }
  return { startId: base.startId, nodes, edges, truncated: base.truncated || more.truncated };
}

export function edgeKey(edge: LineageEdge): string {
  return `${edge.source}>${edge.target}`;
}

/** Hops from the start node, following edges either way (what the list view shows). */
export function hopDistances(lineage: Lineage): Map<string, number> {
  const neighbours = new Map<string, string[]>();
  const link = (a: string, b: string) => {
    const list = neighbours.get(a);
    if (list) list.push(b);
    else neighbours.set(a, [b]);
  };
  for (const { source, target } of lineage.edges) {
    link(source, target);
    link(target, source);
  }
  const distance = new Map<string, number>([[lineage.startId, 0]]);
  let level = [lineage.startId];
  for (let hop = 1; level.length; hop += 1) {
    const next: string[] = [];
    for (const id of level) {
      for (const other of neighbours.get(id) ?? []) {
        if (!distance.has(other)) {
          distance.set(other, hop);
          next.push(other);
        }
      }
    }
    level = next;
  }
  return distance;
}
