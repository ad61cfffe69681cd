import { Link } from "../components/Link";

/** One page for what does not exist and what the viewer may not read: the two look the
 * same, so a URL tells nothing about what exists. */
export function NotFound() {
  return (
    <div class="not-found" data-page="not-found">
      <h1>Not found</h1>
      <p>There is nothing here, or you may not see it. If it is private, sign in with an account that may read it.</p>
      <p>
        <Link href="/">All projects</Link>
      </p>
    </div>
  );
}
