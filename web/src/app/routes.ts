// The app's URLs, parsed into routes and built back. Users bookmark these and the
// server answers 404 for the same paths that parse to nothing or name what the viewer
// may not read (server/web/pages.py mirrors this list).

export type Direction = "UPSTREAM" | "DOWNSTREAM" | "BOTH";

export type Route =
  | { page: "home" }
  | { page: "project"; entity: string; project: string }
  | { page: "run"; entity: string; project: string; runId: string; lineage: boolean }
  | {
      page: "artifact";
      entity: string;
      project: string;
      name: string;
      version: string;
      lineage: boolean;
    }
  | { page: "notFound" };

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export function parseRoute(pathname: string): Route {
  const parts = pathname.replace(/\/+$/, "").split("/").slice(1).map(decode);
  if (parts.some((p) => p === null)) return { page: "notFound" };
  const segments = parts as string[];
  if (segments.length === 0 || (segments.length === 1 && segments[0] === "")) {
    return { page: "home" };
  }
  const [entity, project, kind, ...rest] = segments;
  if (!NAME.test(entity ?? "") || !NAME.test(project ?? "")) return { page: "notFound" };
  if (segments.length === 2) return { page: "project", entity, project };
  if (kind === "runs" && (rest.length === 1 || (rest.length === 2 && rest[1] === "lineage"))) {
    if (!NAME.test(rest[0])) return { page: "notFound" };
    return { page: "run", entity, project, runId: rest[0], lineage: rest.length === 2 };
  }
  if (kind === "artifacts" && (rest.length === 2 || (rest.length === 3 && rest[2] === "lineage"))) {
    const [name, version] = rest;
    if (!NAME.test(name) || !version || /[/:]/.test(version)) return { page: "notFound" };
    return { page: "artifact", entity, project, name, version, lineage: rest.length === 3 };
  }
  return { page: "notFound" };
}

const enc = encodeURIComponent;

export function projectUrl(entity: string, project: string): string {
  return `/${enc(entity)}/${enc(project)}`;
}

/** A Run's page from its path "entity/project/runId". */
export function runUrl(path: string, lineage = false): string {
  const [entity, project, runId] = path.split("/");
  return `${projectUrl(entity, project)}/runs/${enc(runId)}${lineage ? "/lineage" : ""}`;
}

/** An Artifact's page from its path "entity/project/name:vN". */
export function artifactUrl(path: string, lineage = false): string {
  const [entity, project, rest] = path.split("/");
  const colon = rest.lastIndexOf(":");
  const name = rest.slice(0, colon);
  const version = rest.slice(colon + 1);
  return `${projectUrl(entity, project)}/artifacts/${enc(name)}/${enc(version)}${lineage ? "/lineage" : ""}`;
}

export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.dispatchEvent(new Event("lineage:navigate"));
}
