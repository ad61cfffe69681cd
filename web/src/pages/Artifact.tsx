import { useEffect } from "preact/hooks";
import { useQuery } from "../app/useQuery";
import { artifactUrl, projectUrl, runUrl } from "../app/routes";
import { formatBytes, formatDate, formatDuration } from "../app/format";
import {
  Aliases,
  ErrorBox,
  Fields,
  Json,
  Loading,
  Section,
  StateBadge,
} from "../components/Common";
import { Link, safeHref } from "../components/Link";
import { type PageInfo, Pager, usePager } from "../components/Pager";
import { Tabs } from "../components/Tabs";
import { LineageTab } from "../lineage/LineageTab";
import { NotFound } from "./NotFound";

const QUERY = `query Artifact($path: String!) {
  artifact(path: $path) {
    id name type version path digest aliases description metadata state size fileCount
    createdAt ttlDurationSeconds expiresAt
    loggedBy { id runId name path state }
    collection {
      versions(first: 100) { totalCount edges { node { id version path aliases state createdAt } } }
    }
  }
}`;

interface RunLink {
  id: string;
  runId: string;
  name: string | null;
  path: string;
  state: string;
}

interface Data {
  artifact: {
    id: string;
    name: string;
    type: string;
    version: string | null;
    path: string;
    digest: string;
    aliases: string[];
    description: string | null;
    metadata: Record<string, unknown>;
    state: string;
    size: number;
    fileCount: number;
    createdAt: string;
    ttlDurationSeconds: number | null;
    expiresAt: string | null;
    loggedBy: RunLink | null;
    collection: {
      versions: {
        totalCount: number;
        edges: {
          node: {
            id: string;
            version: string;
            path: string;
            aliases: string[];
            state: string;
            createdAt: string;
          };
        }[];
      };
    };
  } | null;
}

export function ArtifactPage(props: {
  entity: string;
  project: string;
  name: string;
  version: string;
  lineage: boolean;
}) {
  const path = `${props.entity}/${props.project}/${props.name}:${props.version}`;
  const { data, error } = useQuery<Data>(QUERY, { path });
  useEffect(() => {
    document.title = `${props.name}:${props.version} · ${props.entity}/${props.project} · Lineage`;
  }, [path]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading />;
  const a = data.artifact;
  if (!a) return <NotFound />;
  const deleted = a.state === "DELETED";
  return (
    <div class={deleted ? "page tombstone" : "page"} data-page="artifact">
      <p class="crumbs">
        <Link href={projectUrl(props.entity, props.project)}>
          {props.entity}/{props.project}
        </Link>{" "}
        / {a.type}
      </p>
      <h1>
        {a.name}:{a.version} <Aliases aliases={a.aliases} /> <StateBadge state={a.state} />
      </h1>
      {deleted && (
        <p class="notice">This version was deleted: its files and metadata are gone, its name and lineage stay.</p>
      )}
      <Tabs overview={artifactUrl(a.path)} lineage={artifactUrl(a.path, true)} current={props.lineage ? "lineage" : "overview"} />
      {props.lineage ? (
        <LineageTab startId={a.id} />
      ) : (
        <>
          <Fields
            rows={[
              ["Type", a.type],
              ["Version", a.version ?? ""],
              ["Digest", <code>{a.digest}</code>],
              ["Size", `${formatBytes(a.size)} in ${a.fileCount} files`],
              ["State", <StateBadge state={a.state} />],
              ["Created", formatDate(a.createdAt)],
              [
                "TTL",
                a.ttlDurationSeconds == null
                  ? "none"
                  : `${formatDuration(a.ttlDurationSeconds)} (expires ${formatDate(a.expiresAt)})`,
              ],
              [
                "Logged by",
                a.loggedBy ? <Link href={runUrl(a.loggedBy.path)}>{a.loggedBy.name || a.loggedBy.runId}</Link> : "hidden",
              ],
            ]}
          />
          <Section title="Description">
            {a.description ? <p class="description">{a.description}</p> : <p class="muted">None.</p>}
          </Section>
          <Section title="Metadata">
            <Json value={a.metadata} />
          </Section>
          <Files id={a.id} total={a.fileCount} />
          <Consumers id={a.id} />
          <Section title={`Versions (${a.collection.versions.totalCount})`} id="versions">
            <table class="table">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Aliases</th>
                  <th>State</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {a.collection.versions.edges.map(({ node }) => (
                  <tr key={node.id} data-node-id={node.id} class={node.id === a.id ? "current" : undefined}>
                    <td>
                      <Link href={artifactUrl(node.path)}>{node.version}</Link>
                    </td>
                    <td>
                      <Aliases aliases={node.aliases} />
                    </td>
                    <td>
                      <StateBadge state={node.state} />
                    </td>
                    <td>{formatDate(node.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
        </>
      )}
    </div>
  );
}

const FILES_PAGE = 50;
const FILES_QUERY = `query Files($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on Artifact { manifest { entries(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { path size digest ref downloadUrl } }
  } } } }
}`;

interface Entry {
  path: string;
  size: number | null;
  digest: string;
  ref: string | null;
  downloadUrl: string | null;
}

interface FilesData {
  node: {
    manifest: {
      entries: { totalCount: number; pageInfo: PageInfo; edges: { node: Entry }[] };
    };
  } | null;
}

function Files(props: { id: string; total: number }) {
  const pager = usePager(props.id);
  const { data, error } = useQuery<FilesData>(FILES_QUERY, {
    id: props.id,
    first: FILES_PAGE,
    after: pager.after,
  });
  const entries = data?.node?.manifest.entries;
  return (
    <Section title={`Files (${entries?.totalCount ?? props.total})`} id="files">
      {error && <ErrorBox error={error} />}
      {entries && entries.totalCount === 0 && <p class="muted">No files.</p>}
      {entries && entries.totalCount > 0 && (
        <>
          <table class="table" data-testid="files">
            <thead>
              <tr>
                <th>Path</th>
                <th class="num">Size</th>
                <th>Digest</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {entries.edges.map(({ node }) => {
                const href = safeHref(node.downloadUrl);
                return (
                  <tr key={node.path}>
                    <td class="path">{node.path}</td>
                    <td class="num">{node.size == null ? "" : formatBytes(node.size)}</td>
                    <td>
                      <code title={node.digest}>{node.ref ?? node.digest.slice(0, 12)}</code>
                    </td>
                    <td>{href && <a href={href} download>Download</a>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <Pager
            label="Files"
            pager={pager}
            pageInfo={entries.pageInfo}
            totalCount={entries.totalCount}
            pageSize={FILES_PAGE}
          />
        </>
      )}
    </Section>
  );
}

const CONSUMERS_PAGE = 25;
const CONSUMERS_QUERY = `query Consumers($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on Artifact { usedBy(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id runId name path state createdAt } }
  } } }
}`;

interface ConsumersData {
  node: {
    usedBy: {
      totalCount: number;
      pageInfo: PageInfo;
      edges: { node: RunLink & { createdAt: string } }[];
    };
  } | null;
}

function Consumers(props: { id: string }) {
  const pager = usePager(props.id);
  const { data, error } = useQuery<ConsumersData>(CONSUMERS_QUERY, {
    id: props.id,
    first: CONSUMERS_PAGE,
    after: pager.after,
  });
  const runs = data?.node?.usedBy;
  return (
    <Section title={`Used by (${runs?.totalCount ?? "…"})`} id="consumers">
      {error && <ErrorBox error={error} />}
      {runs && runs.totalCount === 0 && <p class="muted">No run used this version.</p>}
      {runs && runs.totalCount > 0 && (
        <>
          <table class="table" data-testid="consumers">
            <thead>
              <tr>
                <th>Run</th>
                <th>State</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {runs.edges.map(({ node }) => (
                <tr key={node.id} data-node-id={node.id}>
                  <td>
                    <Link href={runUrl(node.path)}>{node.name || node.runId}</Link>
                  </td>
                  <td>
                    <StateBadge state={node.state} />
                  </td>
                  <td>{formatDate(node.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Consumers"
            pager={pager}
            pageInfo={runs.pageInfo}
            totalCount={runs.totalCount}
            pageSize={CONSUMERS_PAGE}
          />
        </>
      )}
    </Section>
  );
}
