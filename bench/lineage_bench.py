"""Lineage benchmark: one-hop and n-hop queries through `lineage serve` vs the bare-SQL floor.

Builds a reproducible synthetic graph (bench/lineage_graph.py, fixed seed), COPYs it into
a fresh database of a fresh embedded Postgres (or of DATABASE_URL's server), VACUUM
ANALYZEs it, starts `lineage serve` on it and measures, over >= 50 start nodes each for
ordinary and popular (most used) artifacts:

- Q1 one hop: artifact(path) -> loggedBy + usedBy(first: 50) + each run's loggedArtifacts(first: 10)
- Q2 lineage(DOWNSTREAM and UPSTREAM, depth 10, limit 10000)
- Q3 throughput of artifact -> loggedBy + usedBy(first: 10), 32 concurrent HTTP clients

each through HTTP GraphQL and as the bare SQL the answer needs (bench/lineage_queries.py,
run here over asyncpg on the same data; the database is built by bench/lineage_load.py,
the in-process parts below are in bench/lineage_inprocess.py). For Q2 it also times the server's per-hop walk
(server.domain.graph) against the recursive CTE, and splits a 10,000-node answer into
walk, row hydration, GraphQL field resolution and HTTP.

    python bench/lineage_bench.py --size medium          # about 2-3 minutes
    python bench/lineage_bench.py --size both            # medium, then ~1,000,000 edges: ~8 minutes
    python bench/lineage_bench.py --size small --starts 10 --q3-seconds 2   # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling modules, as a script
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # server, resolvers

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import lineage_queries as lq  # noqa: E402
from _common import CpuMeter, machine_load, sql_statements, start_server, timed  # noqa: E402
from lineage_inprocess import compare_walks, profile_execute, resolution_split  # noqa: E402
from lineage_load import build_database, pick_starts  # noqa: E402
from lineage_report import (  # noqa: E402
    Rate,
    Results,
    Row,
    Sample,
    print_ratios,
    print_results,
)
from lineage_setup import Bench  # noqa: E402

from server.db.database import Database  # noqa: E402
from server.db.pool import create_pool  # noqa: E402
from server.domain import accounts  # noqa: E402

# -- measurements ----------------------------------------------------------------------

WARMUP = 5


async def sql_trips(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> int:
    """SQL round trips the server made for one request (its /metrics counter, auth included)."""
    before = await sql_statements(http)
    await lq.graphql(http, query, variables)
    return await sql_statements(http) - before


def count_q1(artifact: dict[str, Any]) -> int:
    nodes = 1 + (artifact["loggedBy"] is not None)
    for edge in artifact["usedBy"]["edges"]:
        nodes += 1 + len(edge["node"]["loggedArtifacts"]["edges"])
    return nodes


async def measure_one_hop(b: Bench) -> None:
    async with b.http() as http, b.pool.acquire() as conn:
        for label, starts in (("ordinary", b.ordinary), ("popular", b.popular)):
            row = Row(f"Q1 one hop, {label}", Sample(), Sample())
            for s in starts[:WARMUP]:
                await lq.graphql(http, lq.Q1, {"path": s.path})
                await lq.q1_floor(conn, s, b.members)
            for s in starts:
                seconds, artifact = await lq.graphql(http, lq.Q1, {"path": s.path})
                row.ours.add(seconds, count_q1(artifact))
                seconds, nodes = await timed(partial(lq.q1_floor, conn, s, b.members))
                row.floor.add(seconds, nodes)
            if row.ours.nodes != row.floor.nodes:
                print(
                    f"  warning: {row.query}: ours and the floor returned different node counts",
                    file=sys.stderr,
                )
            row.sql_trips = f"{await sql_trips(http, lq.Q1, {'path': starts[0].path})} vs 3"
            b.results.rows[row.query] = row


async def lineage_row(
    b: Bench,
    http: httpx.AsyncClient,
    conn: lq.Conn,
    direction: str,
    label: str,
    starts: list[lq.Start],
) -> Row:
    """Q2 in one direction from one kind of start node, ours and the floor alternating."""
    row = Row(f"Q2 {direction.lower()}, {label}", Sample(), Sample())
    for s in starts[:WARMUP]:
        await lq.graphql(http, lq.Q2, {"path": s.path, "direction": direction})
    for s in starts:
        seconds, artifact = await lq.graphql(http, lq.Q2, {"path": s.path, "direction": direction})
        ours = len(artifact["lineage"]["nodes"])
        row.ours.add(seconds, ours)
        seconds, nodes = await timed(partial(lq.q2_floor, conn, s, direction, b.members))
        row.floor.add(seconds, nodes)
        if nodes != ours:
            print(
                f"  note: {s.path} {direction}: ours {ours} nodes, floor {nodes}", file=sys.stderr
            )
    trips = await sql_trips(http, lq.Q2, {"path": starts[0].path, "direction": direction})
    row.sql_trips = f"{trips} vs 5"
    return row


async def measure_lineage(b: Bench) -> list[lq.Start]:
    """Q2 both ways from both kinds of start; returns the starts with 10,000-node answers."""
    full: list[lq.Start] = []
    async with b.http() as http, b.pool.acquire() as conn:
        for direction in ("DOWNSTREAM", "UPSTREAM"):
            for label, starts in (("ordinary", b.ordinary), ("popular", b.popular)):
                row = await lineage_row(b, http, conn, direction, label, starts)
                b.results.rows[row.query] = row
                if direction == "DOWNSTREAM" and label == "popular":
                    if 10_000 in row.ours.nodes:
                        b.results.rows["Q2 10k"] = full_answers(row)
                    full = [s for s, n in zip(starts, row.ours.nodes, strict=True) if n == 10_000]
                print(f"  {row.query} done", file=sys.stderr)
    return full


def full_answers(row: Row) -> Row:
    """The samples of ``row`` whose answer hit the 10,000-node limit (the issue's target case)."""
    full = Row("Q2 downstream, 10,000-node answers", Sample(), Sample(), row.sql_trips)
    for i, nodes in enumerate(row.ours.nodes):
        if nodes == 10_000:
            full.ours.add(row.ours.seconds[i], nodes)
            full.floor.add(row.floor.seconds[i], row.floor.nodes[i])
    return full


async def hammer(workers: int, seconds: float, one: Callable[[int, int], Awaitable[float]]) -> Rate:
    """``workers`` loops calling ``one(worker, n)`` (returns its latency) for ``seconds``."""
    started = time.perf_counter()
    until = started + seconds

    async def loop(worker: int) -> list[float]:
        latencies: list[float] = []
        while time.perf_counter() < until:
            latencies.append(await one(worker, len(latencies)))
        return latencies

    results = await asyncio.gather(*(loop(w) for w in range(workers)))
    wall = time.perf_counter() - started
    latencies = [x for r in results for x in r]
    return Rate(len(latencies), wall, latencies)


async def measure_throughput(b: Bench) -> None:
    """Q3 with 32 concurrent HTTP clients (each its own httpx client), then its floor."""
    starts = b.ordinary + b.popular
    workers = b.args.clients
    https = [b.http() for _ in range(workers)]
    try:

        async def ours(worker: int, n: int) -> float:
            return (
                await lq.graphql(
                    https[worker], lq.Q3, {"path": starts[(worker * 7 + n) % len(starts)].path}
                )
            )[0]

        await hammer(workers, 1.0, ours)  # warm-up: connections open on both sides
        meter = CpuMeter(b.server.proc.pid, b.args.postgres_dir)
        meter.start()
        rate = await hammer(workers, b.args.q3_seconds, ours)
        meter.stop()
        per_request = meter.used["server"] / rate.requests * 1000
        rate.cpu = f"{meter.describe(rate.wall)}; server CPU {per_request:.1f} ms per request"
    finally:
        await asyncio.gather(*(h.aclose() for h in https))
    conns = [await b.pool.acquire() for _ in range(workers)]
    try:

        async def floor(worker: int, n: int) -> float:
            s = starts[(worker * 7 + n) % len(starts)]
            return (await timed(lambda: lq.q3_floor(conns[worker], s, b.members)))[0]

        await hammer(workers, 1.0, floor)
        floor_rate = await hammer(workers, b.args.q3_seconds, floor)
    finally:
        for conn in conns:
            await b.pool.release(conn)
    b.results.q3 = (rate, floor_rate)
    row = Row(
        f"Q3 small one hop, {workers} clients (latency)",
        Sample(rate.latencies, [1] * len(rate.latencies)),
        Sample(floor_rate.latencies, [1] * len(floor_rate.latencies)),
    )
    async with b.http() as http:
        row.sql_trips = f"{await sql_trips(http, lq.Q3, {'path': starts[0].path})} vs 2"
    b.results.rows["Q3"] = row


# -- main ------------------------------------------------------------------------------


Starts = tuple[list[lq.Start], list[lq.Start]]


async def prepare(size: str, server_url: str, starts: int) -> tuple[str, str, Results, Starts]:
    """Build and load the graph: (database url, API key, results, (ordinary, popular))."""
    started = time.perf_counter()
    url, key, generated, phases = await build_database(server_url, size)
    conn = await asyncpg.connect(url)
    try:
        names = {r["id"]: r["name"] for r in await conn.fetch("SELECT id, name FROM entities")}
        db_mb = round(await conn.fetchval("SELECT pg_database_size(current_database())") / 2**20)
    finally:
        await conn.close()
    top = generated.use_count.most_common(50)
    stats: dict[str, Any] = {
        **generated.stats(),
        **phases,
        "load_total": time.perf_counter() - started,
        "top_uses": top[0][1],
        "50th_uses": top[-1][1],
        "db_mb": db_mb,
    }
    print(
        f"  {size}: generated and loaded in {stats['load_total']:.1f}s; {machine_load()}",
        file=sys.stderr,
    )
    return url, key, Results(size, stats), pick_starts(generated, names, starts)


async def bench_size(
    size: str, server_url: str, workdir: Path, args: argparse.Namespace
) -> Results:
    url, key, results, (ordinary, popular) = await prepare(size, server_url, args.starts)
    server = start_server(workdir / f"serve-{size}", {"DATABASE_URL": url})
    pool = await create_pool(url, min_size=2, max_size=args.clients + 4)
    try:
        viewer = await accounts.authenticate(Database(pool), f"Bearer {key}")
        assert viewer is not None
        # what `lineage serve` does at start-up, so in-process timings compare with it
        from server.app import tune_garbage_collector

        tune_garbage_collector()
        b = Bench(size, server, key, pool, viewer, ordinary, popular, args, results)
        await measure_one_hop(b)
        full = await measure_lineage(b)
        await compare_walks(b, full)
        print("  Q2 walk comparison done", file=sys.stderr)
        if full:
            await resolution_split(b, full)
            if args.profile:
                await profile_execute(b, full[0])
        await measure_throughput(b)
    finally:
        server.stop()
        await pool.close()
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "lineage_bench_{size}"')
    finally:
        await admin.close()
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size",
        choices=["small", "medium", "large", "both"],
        default="both",
        help="graph size; both = medium then large (default)",
    )
    parser.add_argument(
        "--starts", type=int, default=50, help="start nodes per kind (ordinary, popular)"
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients for Q3")
    parser.add_argument(
        "--q3-seconds", type=float, default=10.0, help="Q3 duration, ours and floor each"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one 10,000-node Q2 schema.execute"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="a Postgres server to create the bench databases on (default: a fresh embedded one)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="lineage-bench-"))
    atexit.register(shutil.rmtree, workdir, True)  # runs after the embedded server's own cleanup
    args.postgres_dir = None
    server_url = args.database_url
    if not server_url:
        from server.db.embedded import start_embedded_postgres

        server_url = start_embedded_postgres(workdir / "pg", cleanup_mode="delete")
        args.postgres_dir = workdir / "pg" / "postgres"
    sizes = ["medium", "large"] if args.size == "both" else [args.size]
    started = time.perf_counter()
    print(f"start: {machine_load()}", file=sys.stderr)
    results = [asyncio.run(bench_size(size, server_url, workdir, args)) for size in sizes]
    for res in results:
        print_results(res)
    if len(results) == 2:
        print_ratios(*results)
    print(f"\ntotal {time.perf_counter() - started:.0f}s; at the end: {machine_load()}")


if __name__ == "__main__":
    main()
