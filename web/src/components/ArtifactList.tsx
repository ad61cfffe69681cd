import { artifactUrl } from "../app/routes";
import { formatDate } from "../app/format";
import { Aliases, StateBadge } from "./Common";
import { Link } from "./Link";

export interface ArtifactItem {
  id: string;
  name: string;
  type: string;
  version: string | null;
  path: string;
  state: string;
  aliases: string[];
  createdAt: string;
}

export const ARTIFACT_ITEM = "id name type version path state aliases createdAt";

export function ArtifactList(props: { items: ArtifactItem[]; total: number; empty: string }) {
  if (props.items.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <>
      <table class="table">
        <thead>
          <tr>
            <th>Artifact</th>
            <th>Type</th>
            <th>Aliases</th>
            <th>State</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((a) => (
            <tr key={a.id} data-node-id={a.id}>
              <td>
                <Link href={artifactUrl(a.path)}>
                  {a.name}:{a.version}
                </Link>
              </td>
              <td>{a.type}</td>
              <td>
                <Aliases aliases={a.aliases} />
              </td>
              <td>
                <StateBadge state={a.state} />
              </td>
              <td>{formatDate(a.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.total > props.items.length && (
        <p class="muted">
          Showing {props.items.length} of {props.total}.
        </p>
      )}
    </>
  );
}
