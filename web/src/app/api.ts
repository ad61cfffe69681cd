// The one module that talks to the server: GraphQL over POST, and the session endpoints.
// Requests carry the session cookie (same origin) and a JSON content type, which is what
// the server's CSRF check asks of cookie-authenticated requests.

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// Who is signed in: what the header shows and what sign-in answers.
export interface Viewer {
  username: string;
}

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

// Called when the server says the session cookie is no longer valid (expired or signed
// out elsewhere); the app then shows the anonymous view and says why.
let onSessionEnded: () => void = () => {};
export function whenSessionEnds(callback: () => void): void {
  onSessionEnded = callback;
}

async function post(url: string, body: unknown, method = "POST"): Promise<Response> {
  return fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function firstError(answer: GraphQLAnswer<unknown>, status: number): ApiError {
  const error = answer.errors?.[0];
  return new ApiError(
    error?.extensions?.code ?? "INTERNAL",
    error?.message ?? `the server answered HTTP ${status}`,
  );
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await post("/graphql", { query, variables });
  let answer: GraphQLAnswer<T>;
  try {
    answer = (await response.json()) as GraphQLAnswer<T>;
  } catch {
    throw new ApiError("INTERNAL", `the server answered HTTP ${response.status}`);
  }
  if (answer.errors?.length) {
    const error = firstError(answer, response.status);
    if (error.code === "UNAUTHENTICATED" && response.headers.get("x-session-ended")) {
      onSessionEnded();
    }
    throw error;
  }
  if (!response.ok || answer.data == null) throw firstError(answer, response.status);
  return answer.data;
}

export async function signIn(apiKey: string): Promise<string> {
  const response = await post("/-/session", { apiKey });
  const answer = (await response.json()) as GraphQLAnswer<never> & { username?: string };
  if (!response.ok || !answer.username) throw firstError(answer, response.status);
  return answer.username;
}

export async function signOut(): Promise<void> {
  await post("/-/session", undefined, "DELETE");
}
