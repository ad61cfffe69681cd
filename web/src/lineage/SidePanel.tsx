import { useQuery } from "../app/useQuery";
import { artifactUrl, runUrl } from "../app/routes";
import { formatBytes, formatDate } from "../app/format";
import { Aliases, Fields, StateBadge } from "../components/Common";
import { Link } from "../components/Link";
import type { LineageNode } from "./data";

const QUERY = `query NodeDetails($id: ID!) {
  node(id: $id) {
    ... on Run { createdAt summary sweep { sweepId name } }
    ... on Artifact { aliases createdAt size fileCount digest description }
  }
}`;

interface Details {
  node: {
    createdAt?: string;
    summary?: Record<string, unknown>;
    sweep?: { sweepId: string; name: string | null } | null;
    aliases?: string[];
    size?: number;
    fileCount?: number;
    digest?: string;
    description?: string | null;
  } | null;
}

/** Shows what the graph knows at once; the rest arrives with one small query. */
export function SidePanel(props: {
  node: LineageNode;
  distance: number | undefined;
  frontier: boolean;
  growing: boolean;
  onGrow: () => void;
  onClose: () => void;
}) {
  const { node } = props;
  const { data } = useQuery<Details>(QUERY, { id: node.id });
  const details = data?.node;
  const href = node.kind === "run" ? runUrl(node.path) : artifactUrl(node.path);
  const rows: [string, preact.ComponentChildren][] = [
    ["Kind", node.kind === "run" ? "run" : `artifact (${node.type})`],
    ["Path", <code>{node.path}</code>],
    ["State", <StateBadge state={node.state} />],
    ["Hops from start", props.distance ?? "?"],
  ];
  if (details?.createdAt) rows.push(["Created", formatDate(details.createdAt)]);
  if (details?.aliases) rows.push(["Aliases", <Aliases aliases={details.aliases} />]);
  if (details?.size !== undefined) rows.push(["Size", `${formatBytes(details.size)} in ${details.fileCount} files`]);
  if (details?.sweep) rows.push(["Sweep", details.sweep.name || details.sweep.sweepId]);
  return (
    <aside class="side-panel" aria-label="Selected node" data-selected-id={node.id}>
      <button type="button" class="close" onClick={props.onClose} aria-label="Close">
        ×
      </button>
      <h2>{node.label}</h2>
      <Fields rows={rows} />
      {details?.description && <p class="description">{details.description}</p>}
      {details?.summary && Object.keys(details.summary).length > 0 && (
        <pre class="json">{JSON.stringify(details.summary, null, 2)}</pre>
      )}
      <p>
        <Link href={href}>Open {node.kind === "run" ? "run" : "artifact"} page →</Link>
      </p>
      {props.frontier && (
        <button type="button" class="expand" disabled={props.growing} onClick={props.onGrow}>
          {props.growing ? "Expanding…" : "Expand one more hop"}
        </button>
      )}
    </aside>
  );
}
