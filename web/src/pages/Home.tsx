import { useEffect, useState } from "preact/hooks";
import { useQuery } from "../app/useQuery";
import { projectUrl } from "../app/routes";
import { ErrorBox, Loading } from "../components/Common";
import { Link } from "../components/Link";
import { type PageInfo, Pager, usePager } from "../components/Pager";

const PAGE = 50;

const QUERY = `query Home($search: String, $after: String, $first: Int) {
  projects(search: $search, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id name visibility createdAt entity { name }
      runs(first: 0) { totalCount }
      artifactCollections(first: 0) { totalCount }
    } }
  }
}`;

interface Data {
  projects: {
    totalCount: number;
    pageInfo: PageInfo;
    edges: {
      node: {
        id: string;
        name: string;
        visibility: string;
        entity: { name: string };
        runs: { totalCount: number };
        artifactCollections: { totalCount: number };
      };
    }[];
  };
}

export function Home() {
  const [typed, setTyped] = useState("");
  const [search, setSearch] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), 200);
    return () => clearTimeout(timer);
  }, [typed]);
  const pager = usePager(search);
  const { data, error, loading } = useQuery<Data>(QUERY, {
    search: search || null,
    after: pager.after,
    first: PAGE,
  });
  useEffect(() => {
    document.title = "Projects · Lineage";
  }, []);
  return (
    <div class="page" data-page="home">
      <h1>Projects</h1>
      <input
        class="search"
        type="search"
        placeholder="Search projects by name"
        aria-label="Search projects by name"
        value={typed}
        onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)}
      />
      {error && <ErrorBox error={error} />}
      {!data && loading && <Loading />}
      {data && (
        <>
          <table class="table" data-testid="projects">
            <thead>
              <tr>
                <th>Project</th>
                <th>Visibility</th>
                <th class="num">Runs</th>
                <th class="num">Artifacts</th>
              </tr>
            </thead>
            <tbody>
              {data.projects.edges.map(({ node }) => (
                <tr key={node.id} data-node-id={node.id}>
                  <td>
                    <Link href={projectUrl(node.entity.name, node.name)}>
                      {node.entity.name}/{node.name}
                    </Link>
                  </td>
                  <td>{node.visibility.toLowerCase()}</td>
                  <td class="num">{node.runs.totalCount}</td>
                  <td class="num">{node.artifactCollections.totalCount}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.projects.totalCount === 0 && (
            <p class="muted">
              {search ? `No project you may read matches “${search}”.` : "No project you may read yet."}
            </p>
          )}
          <Pager
            label="Projects"
            pager={pager}
            pageInfo={data.projects.pageInfo}
            totalCount={data.projects.totalCount}
            pageSize={PAGE}
          />
        </>
      )}
    </div>
  );
}
