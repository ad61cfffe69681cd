import { Link } from "./Link";

export function Tabs(props: { overview: string; lineage: string; current: "overview" | "lineage" }) {
  return (
    <nav class="tabs" aria-label="Views">
      <Link href={props.overview} class={props.current === "overview" ? "tab current" : "tab"}>
        Overview
      </Link>
      <Link href={props.lineage} class={props.current === "lineage" ? "tab current" : "tab"}>
        Lineage
      </Link>
    </nav>
  );
}
