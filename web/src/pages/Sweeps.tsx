import { useQuery } from "../app/useQuery";
import { runUrl } from "../app/routes";
import { formatValue, valueAt } from "../app/format";
import { ErrorBox, Section } from "../components/Common";
import { Link } from "../components/Link";
import { gql } from "../app/api";
import { useEffect, useState } from "preact/hooks";

const QUERY = `query Sweeps($entity: String!, $name: String!) {
  project(entity: $entity, name: $name) {
    sweeps(first: 100) { totalCount edges { node { id sweepId name path config runs(first: 0) { totalCount } } } }
  }
}`;

interface Sweep {
  id: string;
  sweepId: string;
  name: string | null;
  path: string;
  config: Record<string, unknown>;
  runs: { totalCount: number };
}

interface Best {
  runId: string;
  name: string | null;
  path: string;
  summary: Record<string, unknown>;
}

/** The metric a sweep optimises, from its config ({"metric": {"name", "goal"}}), as
 * sweep tools write it. */
function sweepMetric(config: Record<string, unknown>): { name: string; goal: string } | null {
  const metric = config?.metric as { name?: unknown; goal?: unknown } | undefined;
  if (!metric || typeof metric.name !== "string" || !metric.name) return null;
  const goal = String(metric.goal ?? "maximize").toUpperCase();
  return { name: metric.name, goal: goal.startsWith("MIN") ? "MINIMIZE" : "MAXIMIZE" };
}

/** All best runs in one request: one aliased field per sweep, values as variables. */
async function bestRuns(sweeps: Sweep[]): Promise<Record<string, Best | null>> {
  const withMetric = sweeps.flatMap((s, i) => {
    const metric = sweepMetric(s.config);
    return metric ? [{ i, s, metric }] : [];
  });
  if (withMetric.length === 0) return {};
  const params = withMetric
    .map(({ i }) => `$p${i}: String!, $m${i}: String!, $g${i}: OptimizationGoal!`)
    .join(", ");
  const fields = withMetric
    .map(
      ({ i }) =>
        `s${i}: sweep(path: $p${i}) { bestRun(metric: $m${i}, goal: $g${i}) { runId name path summary } }`,
    )
    .join("\n");
  const variables: Record<string, string> = {};
  for (const { i, s, metric } of withMetric) {
    variables[`p${i}`] = s.path;
    variables[`m${i}`] = metric.name;
    variables[`g${i}`] = metric.goal;
  }
  const data = await gql<Record<string, { bestRun: Best | null } | null>>(
    `query BestRuns(${params}) { ${fields} }`,
    variables,
  );
  const out: Record<string, Best | null> = {};
  for (const { i, s } of withMetric) out[s.id] = data[`s${i}`]?.bestRun ?? null;
  return out;
}

export function SweepsSection(props: { entity: string; project: string }) {
  const { data, error } = useQuery<{
    project: { sweeps: { totalCount: number; edges: { node: Sweep }[] } } | null;
  }>(QUERY, { entity: props.entity, name: props.project });
  const [best, setBest] = useState<Record<string, Best | null>>({});
  const sweeps = data?.project?.sweeps.edges.map((e) => e.node) ?? [];
  useEffect(() => {
    if (sweeps.length) bestRuns(sweeps).then(setBest, () => setBest({}));
  }, [data]);
  if (error) return <ErrorBox error={error} />;
  if (!data?.project || sweeps.length === 0) return null;
  return (
    <Section title={`Sweeps (${data.project.sweeps.totalCount})`} id="sweeps">
      <table class="table" data-testid="sweeps">
        <thead>
          <tr>
            <th>Sweep</th>
            <th class="num">Runs</th>
            <th>Metric</th>
            <th>Best run</th>
            <th class="num">Best value</th>
          </tr>
        </thead>
        <tbody>
          {sweeps.map((s) => {
            const metric = sweepMetric(s.config);
            const run = best[s.id];
            return (
              <tr key={s.id} data-node-id={s.id}>
                <td>{s.name || s.sweepId}</td>
                <td class="num">{s.runs.totalCount}</td>
                <td>{metric ? `${metric.name} (${metric.goal.toLowerCase()})` : "none"}</td>
                <td>{run ? <Link href={runUrl(run.path)}>{run.name || run.runId}</Link> : ""}</td>
                <td class="num">{run && metric ? formatValue(valueAt(run.summary, metric.name)) : ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Section>
  );
}
