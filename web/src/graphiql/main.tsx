/** @jsxImportSource react */
// GraphiQL, served by the service itself (no CDN), sending the signed-in session's
// cookie with each request. The JSON content type is what the server's CSRF check asks
// of cookie-authenticated requests.
import "graphiql/style.css";
import "./graphiql.css";
import { GraphiQL } from "graphiql";
import { createRoot } from "react-dom/client";

async function fetcher(params: unknown) {
  const response = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(params),
  });
  return response.json();
}

const DEFAULT_QUERY = `# The signed-in user (null when anonymous), and what they can read.
{
  viewer {
    username
    defaultEntity { projects(first: 10) { edges { node { name visibility } } } }
  }
}
`;

createRoot(document.getElementById("graphiql") as HTMLElement).render(
  <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />,
);
