"""The lineage benchmark's in-process measurements: the server's walk against the
recursive CTE, where a 10,000-node answer's time goes (HTTP, schema.execute, the domain
calls it makes), and an optional cProfile of one such answer."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
import lineage_queries as lq
from _common import ms, percentile, timed
from lineage_report import Sample
from lineage_setup import Bench

from server.context import Context
from server.db.database import Database
from server.http.documents import DocumentCache, prepare_document
from server.settings import Settings

# parsed and validated once per document, as the endpoint's cache does
DOCUMENTS = DocumentCache()

if TYPE_CHECKING:
    from resolvers.schema import LineageSchema


WALKS = ("CTE", "CTE no-access", "BFS walk", "CTE+edges", "graph.lineage")


async def time_walks(
    b: Bench, conn: lq.Conn, direction: str, s: lq.Start, out: dict[str, Sample]
) -> None:
    """One start node: the CTE (with and without the read rule), the server's BFS walk
    alone, and each with its edges query."""
    from server.domain import graph

    db = Database(b.pool)
    args = (s.version_id, 10, 10_000)
    seconds, found = await timed(lambda: conn.fetch(lq.lineage_cte(direction), *args, b.members))
    out["CTE"].add(seconds, len(found))
    seconds, _ = await timed(
        lambda: conn.fetch(lq.lineage_cte(direction, with_access=False), *args)
    )
    out["CTE no-access"].add(seconds, len(found))
    start = ("Artifact", s.version_id)
    # the walk alone (it collects its edges as it goes): a private function, timed on purpose
    seconds, walked = await timed(lambda: graph._walk(db, b.members, start, direction, 10, 10_000))
    out["BFS walk"].add(seconds, len(walked.nodes))

    async def cte_and_edges() -> None:
        runs, artifacts = lq.split_nodes(
            await conn.fetch(lq.lineage_cte(direction), *args, b.members)
        )
        await conn.fetch(lq.EDGES_BETWEEN, runs, artifacts)

    out["CTE+edges"].add((await timed(cte_and_edges))[0], len(found))
    seconds, _ = await timed(lambda: graph.lineage(db, b.viewer, start, direction, 10, 10_000))
    out["graph.lineage"].add(seconds, len(walked.nodes))


async def compare_walks(b: Bench, full: list[lq.Start]) -> None:
    """Q2's walk alone: one recursive CTE vs the server's per-hop BFS (server.domain.graph)."""
    cases = [
        (d, label, starts)
        for d in ("DOWNSTREAM", "UPSTREAM")
        for label, starts in (("ordinary", b.ordinary), ("popular", b.popular))
    ]
    if full:
        cases.insert(2, ("DOWNSTREAM", "10,000-node answers", full))
    rows: list[list[object]] = []
    async with b.pool.acquire() as conn:
        for direction, label, starts in cases:
            out = {name: Sample() for name in WALKS}
            for s in starts:
                await time_walks(b, conn, direction, s, out)
            rows.append(
                [
                    f"{direction.lower()}, {label}",
                    f"{percentile(out['CTE'].nodes, 50):,.0f}",
                    f"{percentile(out['BFS walk'].nodes, 50):,.0f}",
                    *(f"{ms(out[name].p(50))} / {ms(out[name].p(95))}" for name in WALKS),
                    f"{out['BFS walk'].p(50) / out['CTE'].p(50):.2f}",
                    f"{out['graph.lineage'].p(50) / out['CTE+edges'].p(50):.2f}",
                ]
            )
    b.results.walks = rows


def served_schema(b: Bench) -> tuple[Settings, LineageSchema]:
    """The settings and schema `lineage serve` runs with (LINEAGE_FAST_EXECUTION included)."""
    from resolvers.schema import lineage_schema

    settings = Settings.from_env(data_dir=b.server.data_dir)
    return settings, lineage_schema(fast_execution=settings.fast_execution)


async def execute_in_process(b: Bench, query: str, variables: dict[str, Any]) -> tuple[float, Any]:
    """schema.execute with a Context built here, as the endpoint builds it (no auth, no HTTP)."""
    settings, schema = served_schema(b)
    context = Context(
        db=Database(b.pool), viewer=b.viewer, settings=settings, request_id="bench",
        document=await prepare_document(query, DOCUMENTS),
    )  # fmt: skip
    seconds, result = await timed(
        lambda: schema.execute(query, variable_values=variables, context_value=context)
    )
    assert not result.errors, result.errors
    return seconds, result.data


async def split_once(
    b: Bench, http: httpx.AsyncClient, s: lq.Start, parts: dict[str, list[float]]
) -> None:
    """One 10,000-node Q2 answer: over HTTP, in-process, and the domain calls it makes."""
    import json

    from server.domain import artifacts, graph, runs

    db = Database(b.pool)
    variables = {"path": s.path, "direction": "DOWNSTREAM"}
    parts["http"].append((await lq.graphql(http, lq.Q2, variables))[0])
    seconds, data = await execute_in_process(b, lq.Q2, variables)
    parts["execute"].append(seconds)
    parts["resolver"].append((await execute_in_process(b, lq.Q2_RESOLVER_ONLY, variables))[0])
    started = time.perf_counter()
    json.dumps({"data": data}, ensure_ascii=False, separators=(",", ":"))
    parts["json"].append(time.perf_counter() - started)
    parts["find"].append((await timed(lambda: artifacts.find_artifact(db, b.viewer, s.path)))[0])
    start = ("Artifact", s.version_id)
    seconds, found = await timed(
        lambda: graph.lineage(db, b.viewer, start, "DOWNSTREAM", 10, 10_000)
    )
    parts["lineage"].append(seconds)
    run_ids = [i for k, i in found.nodes if k == graph.RUN]
    artifact_ids = [i for k, i in found.nodes if k == graph.ARTIFACT]
    seconds, _ = await timed(
        lambda: asyncio.gather(
            runs.runs_by_ids(db, b.viewer, run_ids),
            artifacts.artifacts_by_ids(db, b.viewer, artifact_ids),
        )
    )
    parts["hydrate"].append(seconds)
    # derived per sample, so each difference compares measurements taken moments apart
    domain = parts["find"][-1] + parts["lineage"][-1] + parts["hydrate"][-1]
    parts["objects"].append(parts["resolver"][-1] - domain)
    parts["completion"].append(parts["execute"][-1] - parts["resolver"][-1])
    parts["outside"].append(parts["http"][-1] - parts["execute"][-1])


SPLIT_PARTS = ("http", "execute", "resolver", "find", "lineage", "hydrate", "objects", "completion",
               "outside", "json")  # fmt: skip


async def resolution_split(b: Bench, starts: list[lq.Start], repeats: int = 3) -> None:
    """Where the time of a 10,000-node Q2 answer goes: HTTP vs in-process schema.execute vs
    the resolver's own work vs the domain calls it makes (path lookup, walk, hydration)."""
    parts: dict[str, list[float]] = {k: [] for k in SPLIT_PARTS}
    async with b.http() as http:
        for s in starts[:10]:
            for _ in range(repeats):
                await split_once(b, http, s, parts)
    b.results.split = {f"{k} p50": percentile(v, 50) for k, v in parts.items()}
    b.results.split |= {f"{k} min": min(v) for k, v in parts.items()}
    b.results.split_samples = len(starts[:10]) * repeats


async def profile_execute(b: Bench, start: lq.Start) -> None:
    """cProfile of in-process schema.execute for one 10,000-node Q2 answer (--profile)."""
    import cProfile
    import io
    import pstats

    db = Database(b.pool)
    variables = {"path": start.path, "direction": "DOWNSTREAM"}
    settings, schema = served_schema(b)
    profiler = cProfile.Profile()
    for _ in range(3):
        context = Context(
            db=db, viewer=b.viewer, settings=settings, request_id="p",
            document=await prepare_document(lq.Q2, DOCUMENTS),
        )  # fmt: skip
        profiler.enable()
        await schema.execute(lq.Q2, variable_values=variables, context_value=context)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(35)
    print(f"\ncProfile, 3 x schema.execute of Q2 downstream from {start.path}:\n{out.getvalue()}")
