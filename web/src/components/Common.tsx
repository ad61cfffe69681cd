import type { ComponentChildren } from "preact";
import type { ApiError } from "../app/api";

/** JSON shown as text, formatted: keys and values from users never become markup. */
export function Json(props: { value: unknown }) {
  return <pre class="json">{JSON.stringify(props.value ?? null, null, 2)}</pre>;
}

export function Loading() {
  return (
    <p class="muted" role="status">
      Loading…
    </p>
  );
}

export function ErrorBox(props: { error: ApiError }) {
  return (
    <p class="error" role="alert">
      {props.error.message}
    </p>
  );
}

export function Section(props: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="section" id={props.id}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

export function Fields(props: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="fields">
      {props.rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function StateBadge(props: { state: string }) {
  return <span class={`badge state-${props.state.toLowerCase()}`}>{props.state}</span>;
}

export function Aliases(props: { aliases: string[] }) {
  return (
    <span class="aliases">
      {props.aliases.map((alias) => (
        <span class="alias" key={alias}>
          {alias}
        </span>
      ))}
    </span>
  );
}
