import "../styles/app.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Viewer, gql, whenSessionEnds } from "./api";
import { type Route, parseRoute } from "./routes";
import { Header } from "../components/Header";
import { Home } from "../pages/Home";
import { ProjectPage } from "../pages/Project";
import { RunPage } from "../pages/Run";
import { ArtifactPage } from "../pages/Artifact";
import { NotFound } from "../pages/NotFound";

function currentRoute(): Route {
  // The server already decided this URL names nothing the viewer may read (HTTP 404).
  if (document.body.dataset.status === "404") return { page: "notFound" };
  return parseRoute(location.pathname);
}

function App() {
  const [route, setRoute] = useState<Route>(currentRoute);
  const [viewer, setViewer] = useState<Viewer | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  // Bumped on sign-in and sign-out: pages refetch with the new identity.
  const [identity, setIdentity] = useState(0);

  useEffect(() => {
    const onChange = () => {
      delete document.body.dataset.status;
      setRoute(parseRoute(location.pathname));
    };
    window.addEventListener("popstate", onChange);
    window.addEventListener("lineage:navigate", onChange);
    whenSessionEnds(() => {
      setNotice("Your session has ended: sign in again to see private projects.");
      setViewer(null);
      setIdentity((n) => n + 1);
    });
    return () => {
      window.removeEventListener("popstate", onChange);
      window.removeEventListener("lineage:navigate", onChange);
    };
  }, []);

  useEffect(() => {
    gql<{ viewer: Viewer | null }>("{ viewer { username } }").then(
      (data) => setViewer(data.viewer),
      () => setViewer(null),
    );
  }, [identity]);

  const changeIdentity = (next: Viewer | null) => {
    setNotice(null);
    setViewer(next);
    setIdentity((n) => n + 1);
  };

  return (
    <>
      <Header viewer={viewer} onIdentity={changeIdentity} />
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <main key={identity}>
        <Page route={route} />
      </main>
    </>
  );
}

function Page(props: { route: Route }) {
  const route = props.route;
  switch (route.page) {
    case "home":
      return <Home />;
    case "project":
      return <ProjectPage entity={route.entity} project={route.project} />;
    case "run":
      return <RunPage {...route} />;
    case "artifact":
      return <ArtifactPage {...route} />;
    default:
      return <NotFound />;
  }
}

render(<App />, document.getElementById("app") as HTMLElement);
