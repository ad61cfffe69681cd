import { useEffect } from "preact/hooks";
import { artifactUrl, runUrl } from "../app/routes";
import { Link } from "../components/Link";
import type { Lineage } from "./data";

/** The same graph as tables, for keyboards and screen readers. */
export function ListView(props: {
  lineage: Lineage;
  distances: Map<string, number>;
  onReady: () => void;
}) {
  const { lineage, distances } = props;
  useEffect(() => props.onReady(), [lineage]);
  const nodes = [...lineage.nodes.values()].sort(
    (a, b) => (distances.get(a.id) ?? 1e9) - (distances.get(b.id) ?? 1e9) || a.path.localeCompare(b.path),
  );
  const pathOf = (id: string) => lineage.nodes.get(id)?.path ?? id;
  return (
    <div class="lineage-list">
      <h2>Nodes</h2>
      <table class="table" data-testid="lineage-nodes">
        <thead>
          <tr>
            <th>Kind</th>
            <th>Path</th>
            <th>Type</th>
            <th class="num">Hops</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr key={n.id} data-node-id={n.id}>
              <td>{n.kind}</td>
              <td>
                <Link href={n.kind === "run" ? runUrl(n.path) : artifactUrl(n.path)}>{n.path}</Link>
              </td>
              <td>{n.kind === "run" ? "" : n.type}</td>
              <td class="num">{distances.get(n.id) ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Edges</h2>
      <table class="table" data-testid="lineage-edges">
        <thead>
          <tr>
            <th>From</th>
            <th>Kind</th>
            <th>To</th>
          </tr>
        </thead>
        <tbody>
          {lineage.edges.map((e) => (
            <tr key={`${e.source}>${e.target}`}>
              <td>{pathOf(e.source)}</td>
              <td>{e.kind.toLowerCase()}</td>
              <td>{pathOf(e.target)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
