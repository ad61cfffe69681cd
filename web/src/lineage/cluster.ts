// From lineage data to the graph that is drawn: siblings of one kind collapse into a
// cluster node. Siblings are nodes one hop further from the start than the same
// parents, of the same kind and group. Levels are processed outwards, with parents
// already replaced by their cluster, so a cluster's children cluster too (120 eval runs,
// then their 120 result artifacts). This is what keeps a 10,000-node answer drawable.
import { type Lineage, type LineageNode, hopDistances } from "./data";

/** More siblings than this become one cluster node. */
export const CLUSTER_THRESHOLD = 8;
/** Past this many drawn nodes, siblings cluster by level alone (parents ignored). */
export const MAX_DRAWN = 600;

export interface DrawnNode {
  id: string;
  kind: "run" | "artifact" | "cluster";
  /** For clusters: the kind of their members. */
  memberKind: "run" | "artifact";
  label: string;
  type: string;
  state: string;
  members: string[];
  distance: number;
  /** True when the answer was truncated and this node may have neighbours not shown. */
  frontier: boolean;
}

export interface DrawnEdge {
  id: string;
  source: string;
  target: string;
  /** How many lineage edges this one stands for. */
  count: number;
}

export interface DrawnGraph {
  nodes: DrawnNode[];
  edges: DrawnEdge[];
  /** Lineage node id -> the drawn node that shows it. */
  shownBy: Map<string, string>;
  distances: Map<string, number>;
  /** True when the graph was too big to draw with parents respected (see MAX_DRAWN). */
  coarse: boolean;
}

export interface ClusterOptions {
  /** Cluster ids the user expanded. */
  expanded: ReadonlySet<string>;
  /** Node ids whose next hop was fetched already. */
  grown: ReadonlySet<string>;
  depth: number;
  threshold?: number;
  maxDrawn?: number;
}

// FNV-1a: short, stable cluster ids (they name the same siblings across redraws).
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function clusterLabel(count: number, node: LineageNode): string {
  if (node.kind === "run") return node.group ? `${count} runs: ${node.group}` : `${count} runs`;
  return `${count} artifacts: ${node.type}`;
}

export function clusterLineage(lineage: Lineage, options: ClusterOptions): DrawnGraph {
  const drawn = buildClusters(lineage, options, false);
  const max = options.maxDrawn ?? MAX_DRAWN;
  return drawn.nodes.length > max ? buildClusters(lineage, options, true) : drawn;
}

function buildClusters(lineage: Lineage, options: ClusterOptions, coarse: boolean): DrawnGraph {
  const threshold = options.threshold ?? CLUSTER_THRESHOLD;
  const distances = hopDistances(lineage);
  let maxDistance = 0;
  for (const d of distances.values()) maxDistance = Math.max(maxDistance, d);
  const far = maxDistance + 1;
  const distanceOf = (id: string) => distances.get(id) ?? far;
  const neighbours = new Map<string, string[]>();
  for (const { source, target } of lineage.edges) {
    pushTo(neighbours, source, target);
    pushTo(neighbours, target, source);
  }
  const levels = new Map<number, LineageNode[]>();
  for (const node of lineage.nodes.values()) {
    pushTo(levels, distanceOf(node.id), node);
  }
  const shownBy = new Map<string, string>();
  const nodes: DrawnNode[] = [];
    const frontierFrom = Math.min(options.depth, maxDistance);
  const isFrontier = (id: string) =>
    lineage.truncated && distanceOf(id) >= frontierFrom && !options.grown.has(id);

  for (const d of [...levels.keys()].sort((a, b) => a - b)) {
    const groups = new Map<string, LineageNode[]>();
    for (const node of levels.get(d) ?? []) {
      // The parents' drawn nodes (one hop nearer the start), or, in coarse mode, which
      // side of the start the node is on.
      const parents = coarse
        ? ""
        : [...new Set((neighbours.get(node.id) ?? []).filter((n) => distanceOf(n) === d - 1).map((n) => shownBy.get(n) ?? n))]
            .sort()
            .join(",");
      // coarse: runs of any name group together, so the drawn count is bounded by the
      // levels times the artifact types
      const group = coarse && node.kind === "run" ? "" : node.group;
      const key = `${node.kind}|${group}|${d}|${parents}`;
      pushTo(groups, key, node);
    }
    for (const [key, members] of groups) {
      const id = `cluster-${hash(key)}`;
      const start = members.some((m) => m.id === lineage.startId);
      if (members.length > threshold && !start && !options.expanded.has(id)) {
        const first = coarse && members[0].kind === "run" ? { ...members[0], group: "" } : members[0];
        for (const m of members) shownBy.set(m.id, id);
        nodes.push({
          id,
          kind: "cluster",
          memberKind: first.kind,
          label: clusterLabel(members.length, first),
          type: first.type,
          state: "",
          members: members.map((m) => m.id),
          distance: d,
          frontier: members.some((m) => isFrontier(m.id)),
        });
      } else {
        for (const m of members) {
          shownBy.set(m.id, m.id);
          nodes.push({
            id: m.id,
            kind: m.kind,
            memberKind: m.kind,
            label: m.label,
            type: m.type,
            state: m.state,
            members: [m.id],
            distance: d,
            frontier: isFrontier(m.id),
          });
        }
      }
    }
  }

  const edges = new Map<string, DrawnEdge>();
  for (const edge of lineage.edges) {
    const source = shownBy.get(edge.source);
    const target = shownBy.get(edge.target);
    if (!source || !target || source === target) continue;
    const id = `${source}>${target}`;
    const found = edges.get(id);
    if (found) found.count += 1;
    else edges.set(id, { id, source, target, count: 1 });
  }
  return { nodes, edges: [...edges.values()], shownBy, distances, coarse };
}
