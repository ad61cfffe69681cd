// The lineage tab of an artifact or run: fetches the graph (data.ts), clusters it
// (cluster.ts), lays it out (layout.ts) and draws it (render.ts), or lists it. The view
// (direction, depth, selected node, graph or list) lives in the URL so it can be shared.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError } from "../app/api";
import type { Direction } from "../app/routes";
import { ErrorBox } from "../components/Common";
import { type DrawnGraph, MAX_DRAWN, clusterLineage } from "./cluster";
import { type Lineage, fetchLineage, mergeLineage } from "./data";
import { download, graphToSvg } from "./exportSvg";
import { type Layout, layoutGraph } from "./layout";
import { ListView } from "./ListView";
import { GraphRenderer } from "./render";
import { SidePanel } from "./SidePanel";
import { timed, timedAsync } from "./timing";

const DIRECTIONS: Direction[] = ["UPSTREAM", "DOWNSTREAM", "BOTH"];
const DEPTHS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50, 100];
const DEFAULT_DEPTH = 3;

interface ViewState {
  direction: Direction;
  depth: number;
  node: string | null;
  view: "graph" | "list";
}

function readView(): ViewState {
  const params = new URLSearchParams(location.search);
  const direction = (params.get("direction") ?? "").toUpperCase() as Direction;
  const depth = Number.parseInt(params.get("depth") ?? "", 10);
  return {
    direction: DIRECTIONS.includes(direction) ? direction : "BOTH",
    depth: Number.isFinite(depth) && depth >= 0 && depth <= 100 ? depth : DEFAULT_DEPTH,
    node: params.get("node"),
    view: params.get("view") === "list" ? "list" : "graph",
  };
}

function writeView(view: ViewState): void {
  const params = new URLSearchParams({ direction: view.direction, depth: String(view.depth) });
  if (view.node) params.set("node", view.node);
  if (view.view === "list") params.set("view", "list");
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

type Status = "loading" | "drawing" | "ready" | "error";

/** The clusters to open so that a selected node (from a shared URL) is drawn. */
function clustersHiding(lineage: Lineage, nodeId: string, depth: number): Set<string> {
  const open = new Set<string>();
  for (let i = 0; i < 5; i += 1) {
    const graph = clusterLineage(lineage, { expanded: open, grown: new Set(), depth });
    const shown = graph.shownBy.get(nodeId);
    if (!shown || shown === nodeId || open.has(shown)) break;
    open.add(shown);
  }
  return open;
}

export function LineageTab(props: { startId: string }) {
  const [view, setView] = useState<ViewState>(readView);
  const [lineage, setLineage] = useState<Lineage | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<Status>("loading");
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [grown, setGrown] = useState<ReadonlySet<string>>(new Set());
  const [growing, setGrowing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const update = (change: Partial<ViewState>) => {
    // the graph element is "ready" again only once the new picture is drawn
    if (change.view === "graph" && lineage) setStatus("drawing");
    setView((old) => {
      const next = { ...old, ...change };
      writeView(next);
      return next;
    });
  };

  useEffect(() => writeView(view), []);

  useEffect(() => {
    let current = true;
    setStatus("loading");
    setError(null);
    timedAsync("lineage fetch", () => fetchLineage(props.startId, view.direction, view.depth)).then(
      (answer) => {
        if (!current) return;
        setExpanded(answer && view.node ? clustersHiding(answer, view.node, view.depth) : new Set());
        setGrown(new Set());
        setLineage(answer);
        // nothing to draw when the start node is not readable (any more)
        setStatus(answer ? "drawing" : "ready");
      },
      (e: unknown) => {
        if (!current) return;
        setError(e instanceof ApiError ? e : new ApiError("INTERNAL", String(e)));
        setStatus("error");
      },
    );
    return () => {
      current = false;
    };
  }, [props.startId, view.direction, view.depth]);

  // Not keyed on the selected node: selecting one must not redraw (or re-fit) the picture.
  const drawn = useMemo(
    () =>
      lineage
        ? timed("lineage cluster", () =>
            clusterLineage(lineage, { expanded, grown, depth: view.depth }),
          )
        : null,
    [lineage, expanded, grown, view.depth],
  );

  const activate = (id: string) => {
    if (!id.startsWith("cluster-")) {
      update({ node: id });
      return;
    }
    setNotice(null);
    const wider = new Set([...expanded, id]);
    // a cluster whose members cannot all be drawn stays one node: say so, rather than
    // redraw the same picture
    if (lineage && clusterLineage(lineage, { expanded: wider, grown, depth: view.depth }).coarse) {
      const label = drawn?.nodes.find((n) => n.id === id)?.label ?? "this cluster";
      setNotice(
        `Opening “${label}” would draw more than ${MAX_DRAWN} nodes: the list view shows every node.`,
      );
      return;
    }
    setStatus("drawing");
    setExpanded(wider);
  };

  const grow = async (id: string) => {
    if (!lineage) return;
    setGrowing(true);
    try {
      const more = await fetchLineage(id, view.direction, 1);
      if (more) {
        setStatus("drawing");
        setLineage((old) => (old ? mergeLineage(old, more) : old));
      }
      setGrown((old) => new Set([...old, id]));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError("INTERNAL", String(e)));
    } finally {
      setGrowing(false);
    }
  };

  const selected = view.node ? lineage?.nodes.get(view.node) ?? null : null;
  const selectedDrawn = view.node ? drawn?.nodes.find((n) => n.id === view.node) : undefined;

  return (
    <div class="lineage" data-lineage data-state={status} data-view={view.view}>
      <div class="lineage-controls" role="toolbar" aria-label="Lineage view">
        <label>
          Direction{" "}
          <select
            name="direction"
            value={view.direction}
            onChange={(e) => update({ direction: (e.currentTarget as HTMLSelectElement).value as Direction })}
          >
            {DIRECTIONS.map((d) => (
              <option value={d} key={d}>
                {d.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          Depth{" "}
          <select
            name="depth"
            value={String(view.depth)}
            onChange={(e) => update({ depth: Number((e.currentTarget as HTMLSelectElement).value) })}
          >
            {[...new Set([...DEPTHS, view.depth])].sort((a, b) => a - b).map((d) => (
              <option value={String(d)} key={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          class="toggle"
          onClick={() => update({ view: view.view === "graph" ? "list" : "graph" })}
        >
          {view.view === "graph" ? "List view" : "Graph view"}
        </button>
        <span class="graph-summary" role="status" data-testid="graph-summary">
          {lineage &&
            `${lineage.nodes.size} nodes, ${lineage.edges.length} edges${lineage.truncated ? ", truncated" : ""}`}
        </span>
      </div>
      {error && <ErrorBox error={error} />}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {!lineage && status === "loading" && <p class="muted">Loading the graph…</p>}
      {!lineage && status === "ready" && <p class="muted">Nothing to show.</p>}
      {lineage && drawn && view.view === "list" && (
        <ListView lineage={lineage} distances={drawn.distances} onReady={() => setStatus("ready")} />
      )}
      {lineage && drawn && view.view === "graph" && (
        <GraphCanvas
          graph={drawn}
          startShownBy={drawn.shownBy.get(lineage.startId)}
          selected={selectedDrawn ? selectedDrawn.id : null}
          onActivate={activate}
          onDrawn={() => setStatus("ready")}
          fileStem={lineage.nodes.get(lineage.startId)?.label ?? "lineage"}
        />
      )}
      {selected && (
        <SidePanel
          node={selected}
          distance={drawn?.distances.get(selected.id)}
          frontier={Boolean(selectedDrawn?.frontier)}
          growing={growing}
          onGrow={() => grow(selected.id)}
          onClose={() => update({ node: null })}
        />
      )}
    </div>
  );
}

function GraphCanvas(props: {
  graph: DrawnGraph;
  startShownBy: string | undefined;
  selected: string | null;
  onActivate: (id: string) => void;
  onDrawn: () => void;
  fileStem: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const renderer = useRef<GraphRenderer | null>(null);
  const activate = useRef(props.onActivate);
  activate.current = props.onActivate;
  const layout = useMemo<Layout>(() => timed("lineage layout", () => layoutGraph(props.graph)), [props.graph]);

  useEffect(() => {
    const r = new GraphRenderer(container.current as HTMLElement, {
      activate: (id) => activate.current(id),
    });
    renderer.current = r;
    return () => r.destroy();
  }, []);

  useEffect(() => {
    const r = renderer.current;
    if (!r) return;
    r.select(props.selected);
    timedAsync("lineage draw", () => r.draw(props.graph, layout, props.startShownBy)).then(props.onDrawn);
  }, [layout]);

  useEffect(() => renderer.current?.select(props.selected), [props.selected]);

  const name = props.fileStem.replace(/[^A-Za-z0-9_.-]+/g, "_");
  return (
    <div class="graph-wrap">
      <div class="graph-tools" role="toolbar" aria-label="Picture">
        <button type="button" onClick={() => renderer.current?.zoomBy(1.25)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => renderer.current?.zoomBy(0.8)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => renderer.current?.fit()}>
          Fit
        </button>
        <button
          type="button"
          onClick={() =>
            download(new Blob([graphToSvg(props.graph, layout)], { type: "image/svg+xml" }), `${name}-lineage.svg`)
          }
        >
          Export SVG
        </button>
        <button
          type="button"
          onClick={async () => {
            const png = await renderer.current?.png();
            if (png) download(png, `${name}-lineage.png`);
          }}
        >
          Export PNG
        </button>
      </div>
      <div class="graph" ref={container} data-testid="graph" />
      <p class="legend muted">
        Boxes with a border are runs, filled ones artifacts (coloured by type); double borders are clusters (click to
        expand); dashed amber borders mark nodes with more beyond them. Drag to pan, scroll to zoom.
      </p>
    </div>
  );
}
