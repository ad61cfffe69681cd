import { useEffect, useState } from "preact/hooks";
import { useQuery } from "../app/useQuery";
import { artifactUrl, runUrl } from "../app/routes";
import { formatDate, formatValue, valueAt } from "../app/format";
import { Aliases, ErrorBox, Loading, Section, StateBadge } from "../components/Common";
import { Link } from "../components/Link";
import { type PageInfo, Pager, usePager } from "../components/Pager";
import { NotFound } from "./NotFound";
import { SweepsSection } from "./Sweeps";

const QUERY = `query Project($entity: String!, $name: String!) {
  project(entity: $entity, name: $name) {
    id name visibility createdAt entity { name }
    artifactCollections(first: 200) {
      totalCount
      edges { node {
        id name type
        versions(first: 0) { totalCount }
        version(alias: "latest") { id path version aliases createdAt }
      } }
    }
  }
}`;

interface Collection {
  id: string;
  name: string;
  type: string;
  versions: { totalCount: number };
  version: { id: string; path: string; version: string; aliases: string[]; createdAt: string } | null;
}

interface Data {
  project: {
    id: string;
    name: string;
    visibility: string;
    createdAt: string;
    entity: { name: string };
    artifactCollections: { totalCount: number; edges: { node: Collection }[] };
  } | null;
}

export function ProjectPage(props: { entity: string; project: string }) {
  const { data, error } = useQuery<Data>(QUERY, { entity: props.entity, name: props.project });
  useEffect(() => {
    document.title = `${props.entity}/${props.project} · Lineage`;
  }, [props.entity, props.project]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading />;
  const project = data.project;
  if (!project) return <NotFound />;
  return (
    <div class="page" data-page="project">
      <p class="crumbs">{project.entity.name}</p>
      <h1>
        {project.name} <span class="badge">{project.visibility.toLowerCase()}</span>
      </h1>
      <Collections collections={project.artifactCollections.edges.map((e) => e.node)} />
      <RunsTable entity={props.entity} project={props.project} />
      <SweepsSection entity={props.entity} project={props.project} />
    </div>
  );
}

function Collections(props: { collections: Collection[] }) {
  const byType = new Map<string, Collection[]>();
  for (const c of props.collections) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);
  return (
    <Section title="Artifacts" id="artifacts">
      {byType.size === 0 && <p class="muted">No artifacts logged yet.</p>}
      {[...byType.entries()].map(([type, collections]) => (
        <div class="type-group" key={type}>
          <h3>{type}</h3>
          <table class="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Latest</th>
                <th>Aliases</th>
                <th class="num">Versions</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {collections.map((c) => (
                <tr key={c.id} data-node-id={c.version?.id ?? c.id}>
                  <td>{c.version ? <Link href={artifactUrl(c.version.path)}>{c.name}</Link> : c.name}</td>
                  <td>{c.version?.version ?? "none"}</td>
                  <td>{c.version && <Aliases aliases={c.version.aliases} />}</td>
                  <td class="num">{c.versions.totalCount}</td>
                  <td>{formatDate(c.version?.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </Section>
  );
}

const RUNS_PAGE = 25;
const RUNS_QUERY = `query Runs($entity: String!, $name: String!, $after: String, $first: Int, $orderBy: RunOrder) {
  project(entity: $entity, name: $name) {
    runs(first: $first, after: $after, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id runId name path state createdAt summary } }
    }
  }
}`;

interface RunRow {
  id: string;
  runId: string;
  name: string | null;
  path: string;
  state: string;
  createdAt: string;
  summary: Record<string, unknown>;
}

interface RunsData {
  project: {
    runs: { totalCount: number; pageInfo: PageInfo; edges: { node: RunRow }[] };
  } | null;
}

/** Dotted keys of the numbers in a summary ("val.acc"), as orderBy takes them. */
export function metricKeys(summary: Record<string, unknown>, prefix = ""): string[] {
  const keys: string[] = [];
  for (const [key, value] of Object.entries(summary ?? {})) {
    if (typeof value === "number") keys.push(prefix + key);
    else if (value && typeof value === "object" && !Array.isArray(value)) {
      keys.push(...metricKeys(value as Record<string, unknown>, `${prefix}${key}.`));
    }
  }
  return keys;
}

const MAX_METRIC_COLUMNS = 8;

function RunsTable(props: { entity: string; project: string }) {
  const [order, setOrder] = useState<{ field: string; direction: "ASC" | "DESC" }>({
    field: "createdAt",
    direction: "DESC",
  });
  const [metrics, setMetrics] = useState<string[]>([]);
  const pager = usePager(JSON.stringify(order));
  const { data, error, loading } = useQuery<RunsData>(RUNS_QUERY, {
    entity: props.entity,
    name: props.project,
    after: pager.after,
    first: RUNS_PAGE,
    orderBy: order,
  });
  const runs = data?.project?.runs;
  useEffect(() => {
    if (!runs) return;
    const seen = new Set(metrics);
    for (const { node } of runs.edges) for (const key of metricKeys(node.summary)) seen.add(key);
    if (seen.size !== metrics.length) setMetrics([...seen].sort().slice(0, MAX_METRIC_COLUMNS));
  }, [runs]);
  const sortBy = (field: string) =>
    setOrder((old) => ({
      field,
      direction: old.field === field && old.direction === "DESC" ? "ASC" : "DESC",
    }));
  const header = (label: string, field: string, numeric = false) => (
    <th
      class={numeric ? "num" : undefined}
      aria-sort={
        order.field === field ? (order.direction === "ASC" ? "ascending" : "descending") : "none"
      }
    >
      <button type="button" class="sort" onClick={() => sortBy(field)}>
        {label}
        {order.field === field ? (order.direction === "ASC" ? " ▲" : " ▼") : ""}
      </button>
    </th>
  );
  return (
    <Section title={runs ? `Runs (${runs.totalCount})` : "Runs"} id="runs">
      {error && <ErrorBox error={error} />}
      {!runs && loading && <Loading />}
      {runs && (
        <>
          <table class="table" data-testid="runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>State</th>
                {header("Created", "createdAt")}
                {metrics.map((key) => header(key, `summary.${key}`, true))}
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
                  {metrics.map((key) => (
                    <td class="num" key={key}>
                      {formatValue(valueAt(node.summary, key))}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {runs.totalCount === 0 && <p class="muted">No runs yet.</p>}
          <Pager
            label="Runs"
            pager={pager}
            pageInfo={runs.pageInfo}
            totalCount={runs.totalCount}
            pageSize={RUNS_PAGE}
          />
        </>
      )}
    </Section>
  );
}
