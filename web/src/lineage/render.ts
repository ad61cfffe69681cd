// Draws a laid-out graph with cytoscape.js (canvas: a few thousand shapes pan smoothly)
// and keeps a layer of transparent buttons over the nodes, moved with the viewport.
// The buttons make nodes keyboard-focusable, carry data-node-id for scripts and tests,
// and take clicks; cytoscape takes drags (pan) and the wheel (zoom), because events on
// the buttons bubble to its container.
import cytoscape, { type Core } from "cytoscape";
import type { DrawnGraph, DrawnNode } from "./cluster";
import { nodeColor } from "./colors";
import { type Layout, shorten } from "./layout";

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: "node",
    style: {
      shape: "round-rectangle",
      width: "data(width)",
      height: "data(height)",
      label: "data(label)",
      "font-family": "system-ui, sans-serif",
      "font-size": 12,
      // too small to read: not drawn (a zoomed-out big graph draws shapes only)
      "min-zoomed-font-size": 7,
      "text-valign": "center",
      "text-halign": "center",
      "background-color": "data(color)",
      color: "#ffffff",
      "border-width": 0,
    },
  },
  {
    selector: "node.run",
    style: {
      shape: "rectangle",
      "background-color": "#ffffff",
      color: "#1e293b",
      "border-width": 2,
      "border-color": "data(color)",
    },
  },
  {
    selector: "node.cluster",
    style: { "border-width": 4, "border-style": "double", "border-color": "#1e293b", "font-weight": "bold" },
  },
  { selector: "node.cluster.of-run", style: { "background-color": "#e2e8f0", color: "#1e293b" } },
  { selector: "node.deleted", style: { opacity: 0.45, "border-style": "dashed", "border-width": 2, "border-color": "#64748b" } },
  { selector: "node.frontier", style: { "border-width": 3, "border-style": "dashed", "border-color": "#f59e0b" } },
  { selector: "node.start", style: { "border-width": 4, "border-color": "#0f172a", "border-style": "solid" } },
  { selector: "node.selected", style: { "overlay-color": "#facc15", "overlay-opacity": 0.35, "overlay-padding": 6 } },
  {
    selector: "edge",
    style: {
      width: "data(width)",
      "line-color": "#94a3b8",
      "target-arrow-color": "#94a3b8",
      "target-arrow-shape": "triangle",
      "curve-style": "straight",
      "arrow-scale": 0.8,
    },
  },
];

// cytoscape adds a <style> element to <head> unless one with this id exists; the page's
// CSP (no inline styles) would block it. Its one rule (the container is
// position: relative) is in app.css, so an empty marker element stands in for it.
function preventInlineStylesheet(): void {
  const id = "__________cytoscape_stylesheet";
  if (!document.getElementById(id)) {
    const marker = document.createElement("meta");
    marker.id = id;
    document.head.appendChild(marker);
  }
}

export interface RendererEvents {
  /** A node (or cluster) was clicked or activated from the keyboard. */
  activate: (id: string) => void;
}

export class GraphRenderer {
  private cy: Core;
  private layer: HTMLDivElement;
  private buttons = new Map<string, HTMLButtonElement>();
  private selected: string | null = null;
  private panAtPress: string | null = null;

  constructor(
    private container: HTMLElement,
    private events: RendererEvents,
  ) {
    preventInlineStylesheet();
    this.cy = cytoscape({
      container,
      style: STYLE,
      minZoom: 0.02,
      maxZoom: 4,
      autoungrabify: true,
      autounselectify: true,
      boxSelectionEnabled: false,
      // a cached picture for panning costs a whole-graph render when a pan starts (a
      // frame of several hundred ms at 600 nodes); redrawing the shapes each frame is cheaper
      textureOnViewport: false,
      hideEdgesOnViewport: false,
      pixelRatio: "auto",
    });
    this.layer = document.createElement("div");
    this.layer.className = "hit-layer";
    container.appendChild(this.layer);
    this.cy.on("viewport", () => this.syncLayer());
    this.layer.addEventListener("mousedown", () => {
      this.panAtPress = this.viewportKey();
    });
  }

  private viewportKey(): string {
    const pan = this.cy.pan();
    return `${pan.x},${pan.y},${this.cy.zoom()}`;
  }

  private syncLayer(): void {
    const pan = this.cy.pan();
    this.layer.style.transform = `translate(${pan.x}px, ${pan.y}px) scale(${this.cy.zoom()})`;
  }

  /** Replaces what is drawn; resolves once the canvas has drawn it. */
  draw(graph: DrawnGraph, layout: Layout, startShownBy: string | undefined): Promise<void> {
    const cy = this.cy;
    const elements: cytoscape.ElementDefinition[] = [];
    for (const node of graph.nodes) {
      const box = layout.boxes.get(node.id);
      if (!box) continue;
      const classes = [
        node.kind,
        node.kind === "cluster" ? `of-${node.memberKind}` : "",
        node.state === "DELETED" ? "deleted" : "",
        node.frontier ? "frontier" : "",
        node.id === startShownBy ? "start" : "",
      ];
      elements.push({
        group: "nodes",
        data: {
          id: node.id,
          // cut here, not by cytoscape's "ellipsis" wrap, which measures every label's text
          label: shorten(node.label, box.width),
          width: box.width,
          height: box.height,
          color: nodeColor(node.memberKind, node.type),
        },
        position: { x: box.x, y: box.y },
        classes: classes.filter(Boolean).join(" "),
      });
    }
    for (const edge of graph.edges) {
      elements.push({
        group: "edges",
        data: {
          id: edge.id,
          source: edge.source,
          target: edge.target,
          width: Math.min(1.5 + Math.log2(edge.count), 6),
        },
      });
    }
    const drawn = new Promise<void>((resolve) => cy.one("render", () => resolve()));
    cy.batch(() => {
      cy.elements().remove();
      cy.add(elements);
    });
    this.cy.resize();
    this.fitTo(layout);
    this.drawButtons(graph, layout);
    this.syncLayer();
    if (this.selected) this.select(this.selected);
    return drawn;
  }

  private drawButtons(graph: DrawnGraph, layout: Layout): void {
    this.layer.replaceChildren();
    this.buttons.clear();
    const fragment = document.createDocumentFragment();
    for (const node of graph.nodes) {
      const box = layout.boxes.get(node.id);
      if (!box) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "hit";
      if (node.kind === "cluster") {
        button.dataset.clusterId = node.id;
        button.setAttribute("aria-label", `${node.label}: expand`);
      } else {
        button.dataset.nodeId = node.id;
        button.setAttribute("aria-label", `${node.kind} ${node.label}`);
      }
      button.dataset.kind = node.kind;
      if (node.frontier) button.dataset.frontier = "true";
      button.style.left = `${box.x - box.width / 2}px`;
      button.style.top = `${box.y - box.height / 2}px`;
      button.style.width = `${box.width}px`;
      button.style.height = `${box.height}px`;
      button.addEventListener("click", (event) => {
        // a drag that started on a node pans; it is not a click on it
        if (event.detail > 0 && this.panAtPress !== this.viewportKey()) return;
        this.events.activate(node.id);
      });
      fragment.appendChild(button);
      this.buttons.set(node.id, button);
    }
    this.layer.appendChild(fragment);
  }

  select(id: string | null): void {
    if (this.selected) {
      this.cy.getElementById(this.selected).removeClass("selected");
      this.buttons.get(this.selected)?.removeAttribute("aria-pressed");
    }
    this.selected = id;
    if (id) {
      this.cy.getElementById(id).addClass("selected");
      this.buttons.get(id)?.setAttribute("aria-pressed", "true");
    }
  }

  private layout: Layout | null = null;

  /** cy.fit() measures every element (labels included: ~0.8 s at 600 nodes); the
   * layout already knows the graph's extent. */
  private fitTo(layout: Layout): void {
    this.layout = layout;
    const { width, height } = this.container.getBoundingClientRect();
    const padding = 24;
    const zoom = Math.min(
      4,
      Math.max(0.02, Math.min((width - 2 * padding) / layout.width, (height - 2 * padding) / layout.height)),
    );
    this.cy.viewport({
      zoom,
      pan: { x: (width - layout.width * zoom) / 2, y: (height - layout.height * zoom) / 2 },
    });
  }

  fit(): void {
    if (this.layout) this.fitTo(this.layout);
  }

  zoomBy(factor: number): void {
    const { width, height } = this.container.getBoundingClientRect();
    this.cy.zoom({
      level: this.cy.zoom() * factor,
      renderedPosition: { x: width / 2, y: height / 2 },
    });
  }

  png(): Promise<Blob> {
    return this.cy.png({ output: "blob-promise", full: true, scale: 2, bg: "#ffffff", maxWidth: 12000, maxHeight: 12000 });
  }

  destroy(): void {
    this.cy.destroy();
    this.layer.remove();
  }
}

export type { DrawnNode };
