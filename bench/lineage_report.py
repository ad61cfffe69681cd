"""Result types and printed tables of bench/lineage_bench.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from _common import ms, percentile, print_table


@dataclass
class Sample:
    """Timings (seconds) and returned node counts of one query over its start nodes."""

    seconds: list[float] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)

    def add(self, seconds: float, nodes: int) -> None:
        self.seconds.append(seconds)
        self.nodes.append(nodes)

    def p(self, pct: float) -> float:
        return percentile(self.seconds, pct)

    def per_node(self) -> float:
        return percentile(
            [s / max(n, 1) for s, n in zip(self.seconds, self.nodes, strict=True)], 50
        )


@dataclass
class Row:
    query: str
    ours: Sample
    floor: Sample
    sql_trips: str = ""


@dataclass
class Rate:
    requests: int
    wall: float
    latencies: list[float]
    cpu: str = ""

    @property
    def per_second(self) -> float:
        return self.requests / self.wall


@dataclass
class Results:
    size: str
    stats: dict[str, Any]
    rows: dict[str, Row] = field(default_factory=dict)
    walks: list[list[object]] = field(default_factory=list)
    split: dict[str, float] = field(default_factory=dict)
    split_samples: int = 0
    q3: tuple[Rate, Rate] | None = None


def print_walks(rows: list[list[object]]) -> None:
    print_table(
        [
            "start",
            "CTE nodes",
            "BFS nodes",
            "CTE ms p50/p95",
            "CTE no-access",
            "BFS walk",
            "CTE+edges",
            "graph.lineage",
            "BFS/CTE",
            "lineage/(CTE+edges)",
        ],
        rows,
        "Q2 walk (depth 10, limit 10,000), same process: recursive CTE vs the server's per-hop "
        "BFS (server.domain.graph._walk); with edges: CTE + the floor's edges query vs "
        "graph.lineage() (walk + the server's edges query)",
    )


DERIVED = ("objects", "completion", "outside")


SPLIT_LABELS = {
    "http": "HTTP request, client-measured",
    "execute": "  schema.execute in-process (Context built here, no auth)",
    "resolver": "    resolvers' own work (same query, selecting only `truncated`)",
    "find": "      find_artifact (path lookup)",
    "lineage": "      graph.lineage (walk + edges)",
    "hydrate": "      hydration SQL + rows (runs_by_ids + artifacts_by_ids)",
    "objects": "      DataLoaders + Run/Artifact/LineageEdge objects (the rest)",
    "completion": "    field completion of nodes + edges (execute - resolvers)",
    "outside": "  outside execute: auth, parse, guard, JSON, HTTP (HTTP - execute)",
    "json": "    of which json.dumps of the result",
}


def print_split(split: dict[str, float], samples: int) -> None:
    http = split["http p50"]
    rows = [
        [
            label,
            ms(split[f"{k} p50"]),
            f"{split[f'{k} p50'] / http:.0%}",
            "-" if k in DERIVED else ms(split[f"{k} min"]),
        ]
        for k, label in SPLIT_LABELS.items()
    ]
    print_table(
        ["part", "p50 ms", "share of p50", "min ms"], rows,
        f"Q2 downstream, 10,000-node answers: where the time goes ({samples} samples; "
        "differences taken per sample)",
    )  # fmt: skip


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f}"


def print_results(res: Results) -> None:
    s = res.stats
    print(
        f"\n=== {res.size}: {s['runs']:,} runs, {s['versions']:,} versions, {s['edges']:,} edges "
        f"({s['logs']:,} LOGGED + {s['uses']:,} USED), {s['collections']:,} collections; "
        f"most used version: {s['top_uses']:,} runs, 50th: {s['50th_uses']:,}; "
        f"database {s['db_mb']:,} MB"
    )
    print(
        f"    generate {s['generate']:.1f}s, COPY {s['copy']:.1f}s, "
        f"VACUUM ANALYZE {s['vacuum analyze']:.1f}s, "
        f"migrations + user {s['migrate']:.1f}s: {s['load_total']:.1f}s in all"
    )
    rows = []
    for row in res.rows.values():
        q3 = row.query.startswith("Q3")
        rows.append(
            [
                row.query,
                "-" if q3 else f"{percentile(row.ours.nodes, 50):,.0f}",
                f"{ms(row.ours.p(50))} / {ms(row.ours.p(95))}",
                f"{ms(row.floor.p(50))} / {ms(row.floor.p(95))}",
                f"{row.ours.p(50) / row.floor.p(50):.1f}x",
                "-" if q3 else us(row.ours.per_node()),
                "-" if q3 else us(row.floor.per_node()),
                row.sql_trips,
            ]
        )
    print_table(
        [
            "query",
            "nodes p50",
            "ours ms p50 / p95",
            "floor ms p50 / p95",
            "ratio p50",
            "ours us/node",
            "floor us/node",
            "SQL trips ours vs floor",
        ],
        rows,
        f"{res.size}: ours (HTTP GraphQL via lineage serve) vs floor "
        "(bare SQL, asyncpg, same process)",
    )
    if res.q3 is not None:
        ours, floor = res.q3
        print(
            f"\nQ3 throughput: ours {ours.per_second:,.0f} req/s "
            f"({ours.requests:,} in {ours.wall:.1f}s), floor {floor.per_second:,.0f} req/s; "
            f"floor/ours {floor.per_second / ours.per_second:.1f}x"
        )
        print(f"  during ours: {ours.cpu}")
    print_walks(res.walks)
    if res.split:
        print_split(res.split, res.split_samples)


def q3_rate(res: Results) -> float:
    return res.q3[0].per_second if res.q3 else float("nan")


def print_ratios(medium: Results, large: Results) -> None:
    rows = []
    for name, row in medium.rows.items():
        other = large.rows.get(name)
        if other is None:
            continue
        nodes = f"{percentile(row.ours.nodes, 50):,.0f} -> {percentile(other.ours.nodes, 50):,.0f}"
        rows.append(
            [
                row.query,
                f"{other.ours.p(50) / row.ours.p(50):.2f}",
                f"{other.floor.p(50) / row.floor.p(50):.2f}",
                "-" if name == "Q3" else nodes,
            ]
        )
    rows.append(["Q3 req/s (medium / large)", f"{q3_rate(medium) / q3_rate(large):.2f}", "", ""])
    print_table(
        ["query", "ours p50 large/medium", "floor p50 large/medium", "nodes p50"],
        rows,
        "large vs medium (target: no query slower than 2x)",
    )
