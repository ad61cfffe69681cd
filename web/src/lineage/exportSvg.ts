// The drawn graph as a standalone SVG file, from the same layout the canvas shows. Built
// with DOM calls: labels are text nodes, so names from users cannot inject markup.
import type { DrawnGraph } from "./cluster";
import { nodeColor } from "./colors";
import { type Layout, shorten } from "./layout";

const SVG = "http://www.w3.org/2000/svg";

function el(name: string, attributes: Record<string, string | number>): SVGElement {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

export function graphToSvg(graph: DrawnGraph, layout: Layout): string {
  const svg = el("svg", {
    xmlns: SVG,
    width: Math.ceil(layout.width),
    height: Math.ceil(layout.height),
    viewBox: `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`,
    "font-family": "system-ui, sans-serif",
    "font-size": 12,
  });
  const defs = el("defs", {});
  const marker = el("marker", {
    id: "arrow",
    viewBox: "0 0 10 10",
    refX: 10,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: "auto-start-reverse",
  });
  marker.appendChild(el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#94a3b8" }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  svg.appendChild(el("rect", { width: "100%", height: "100%", fill: "#ffffff" }));

  for (const edge of graph.edges) {
    const a = layout.boxes.get(edge.source);
    const b = layout.boxes.get(edge.target);
    if (!a || !b) continue;
    const x1 = a.x + a.width / 2;
    const x2 = b.x - b.width / 2;
    const bend = Math.max(30, Math.abs(x2 - x1) / 2);
    svg.appendChild(
      el("path", {
        d: `M ${x1} ${a.y} C ${x1 + bend} ${a.y}, ${x2 - bend} ${b.y}, ${x2} ${b.y}`,
        fill: "none",
        stroke: "#94a3b8",
        "stroke-width": Math.min(1.5 + Math.log2(edge.count), 6),
        "marker-end": "url(#arrow)",
      }),
    );
  }
  for (const node of graph.nodes) {
    const box = layout.boxes.get(node.id);
    if (!box) continue;
    const color = nodeColor(node.memberKind, node.type);
    const run = node.memberKind === "run";
    const group = el("g", { "data-kind": node.kind });
    group.appendChild(
      el("rect", {
        x: box.x - box.width / 2,
        y: box.y - box.height / 2,
        width: box.width,
        height: box.height,
        rx: run ? 0 : 6,
        fill: node.kind === "cluster" && run ? "#e2e8f0" : run ? "#ffffff" : color,
        stroke: node.kind === "cluster" ? "#1e293b" : color,
        "stroke-width": node.kind === "cluster" ? 3 : 2,
        opacity: node.state === "DELETED" ? 0.45 : 1,
      }),
    );
    const label = el("text", {
      x: box.x,
      y: box.y + 4,
      "text-anchor": "middle",
      fill: run ? "#1e293b" : "#ffffff",
      "font-weight": node.kind === "cluster" ? "bold" : "normal",
    });
    label.textContent = shorten(node.label, box.width);
    group.appendChild(label);
    svg.appendChild(group);
  }
  return new XMLSerializer().serializeToString(svg);
}

export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
