import { useEffect } from "preact/hooks";
import { useQuery } from "../app/useQuery";
import { projectUrl, runUrl } from "../app/routes";
import { formatDate } from "../app/format";
import { ErrorBox, Fields, Json, Loading, Section, StateBadge } from "../components/Common";
import { ARTIFACT_ITEM, type ArtifactItem, ArtifactList } from "../components/ArtifactList";
import { Link } from "../components/Link";
import { Tabs } from "../components/Tabs";
import { LineageTab } from "../lineage/LineageTab";
import { NotFound } from "./NotFound";

const QUERY = `query Run($path: String!) {
  run(path: $path) {
    id runId name path state createdAt updatedAt config summary
    project { name entity { name } }
    sweep { sweepId name }
    loggedArtifacts(first: 100) { totalCount edges { node { ${ARTIFACT_ITEM} } } }
    usedArtifacts(first: 100) { totalCount edges { node { ${ARTIFACT_ITEM} } } }
  }
}`;

type Artifacts = { totalCount: number; edges: { node: ArtifactItem }[] };

interface Data {
  run: {
    id: string;
    runId: string;
    name: string | null;
    path: string;
    state: string;
    createdAt: string;
    updatedAt: string;
    config: Record<string, unknown>;
    summary: Record<string, unknown>;
    project: { name: string; entity: { name: string } };
    sweep: { sweepId: string; name: string | null } | null;
    loggedArtifacts: Artifacts;
    usedArtifacts: Artifacts;
  } | null;
}

export function RunPage(props: { entity: string; project: string; runId: string; lineage: boolean }) {
  const path = `${props.entity}/${props.project}/${props.runId}`;
  const { data, error } = useQuery<Data>(QUERY, { path });
  useEffect(() => {
    document.title = `${props.runId} · ${props.entity}/${props.project} · Lineage`;
  }, [path]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading />;
  const run = data.run;
  if (!run) return <NotFound />;
  return (
    <div class="page" data-page="run">
      <p class="crumbs">
        <Link href={projectUrl(props.entity, props.project)}>
          {props.entity}/{props.project}
        </Link>{" "}
        / runs
      </p>
      <h1>
        {run.name || run.runId} <StateBadge state={run.state} />
      </h1>
      <Tabs overview={runUrl(run.path)} lineage={runUrl(run.path, true)} current={props.lineage ? "lineage" : "overview"} />
      {props.lineage ? (
        <LineageTab startId={run.id} />
      ) : (
        <>
          <Fields
            rows={[
              ["Run id", run.runId],
              ["State", <StateBadge state={run.state} />],
              ["Created", formatDate(run.createdAt)],
              ["Updated", formatDate(run.updatedAt)],
              ["Sweep", run.sweep ? run.sweep.name || run.sweep.sweepId : "none"],
            ]}
          />
          <Section title="Config">
            <Json value={run.config} />
          </Section>
          <Section title="Summary">
            <Json value={run.summary} />
          </Section>
          <Section title={`Logged artifacts (${run.loggedArtifacts.totalCount})`} id="logged">
            <ArtifactList
              items={run.loggedArtifacts.edges.map((e) => e.node)}
              total={run.loggedArtifacts.totalCount}
              empty="This run logged no artifact."
            />
          </Section>
          <Section title={`Used artifacts (${run.usedArtifacts.totalCount})`} id="used">
            <ArtifactList
              items={run.usedArtifacts.edges.map((e) => e.node)}
              total={run.usedArtifacts.totalCount}
              empty="This run used no artifact."
            />
          </Section>
        </>
      )}
    </div>
  );
}
