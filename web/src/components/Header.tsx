import { useState } from "preact/hooks";
import { ApiError, type Viewer, signIn, signOut } from "../app/api";
import { Link } from "./Link";

export function Header(props: {
  viewer: Viewer | null | undefined;
  onIdentity: (viewer: Viewer | null) => void;
}) {
  const [open, setOpen] = useState(false);
  return (
    <header class="top">
      <Link href="/" class="brand">
        Lineage
      </Link>
      <nav class="top-links">
        <Link href="/">Projects</Link>
        <a href="/graphql">GraphiQL</a>
      </nav>
      <div class="account">
        {props.viewer === undefined ? null : props.viewer ? (
          <>
            <span class="who" data-testid="viewer">
              {props.viewer.username}
            </span>
            <button
              type="button"
              onClick={async () => {
                await signOut();
                props.onIdentity(null);
              }}
            >
              Sign out
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setOpen(!open)} aria-expanded={open}>
            Sign in
          </button>
        )}
      </div>
      {open && !props.viewer && (
        <SignInForm
          onDone={(viewer) => {
            setOpen(false);
            props.onIdentity(viewer);
          }}
        />
      )}
    </header>
  );
}

function SignInForm(props: { onDone: (viewer: Viewer) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem("apiKey") as HTMLInputElement;
    setBusy(true);
    try {
      // The key goes to the server once, in exchange for a session cookie; it is
      // never stored by the page.
      const username = await signIn(input.value.trim());
      input.value = "";
      props.onDone({ username });
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="sign-in" onSubmit={onSubmit}>
      <label for="api-key">API key</label>
      <input
        id="api-key"
        name="apiKey"
        type="password"
        autocomplete="off"
        placeholder="lin_…"
        required
      />
      <button type="submit" disabled={busy}>
        Sign in
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
