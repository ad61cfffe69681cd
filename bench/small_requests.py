"""Small requests: the fixed cost of a GraphQL request over HTTP, next to its bare SQL.

Loads the lineage benchmark's seeded graph (bench/lineage_load.py) into a fresh database,
starts `lineage serve` on it and measures, over HTTP with one keep-alive connection, the
small query shapes clients send most (those of the peer benchmark, README "Performance"):

- Q1 one hop: artifact(path) { id loggedBy {id runId name} usedBy(first: 50) {...} },
  from ordinary and from popular (most used) artifacts
- Q1+outputs: the same plus each consumer's loggedArtifacts(first: 10) { id name version }
- lineage: lineage(DOWNSTREAM, depth: 20, limit: 10000) from ordinary artifacts
- Q1 throughput: 16 closed-loop clients, each with its own connection

each next to the bare SQL (asyncpg, same database, same read rule) the same answer needs,
in the same run. With ``--baseline DIR`` (a source tree of another commit, e.g. made with
``git archive <commit> | tar -x -C DIR``) a second server runs that code on the same
database, and every measurement alternates between the two (this machine's speed drifts
by up to 40% within minutes, so only side-by-side ratios mean much).

    python bench/small_requests.py                       # small graph, ~1 minute
    python bench/small_requests.py --size medium         # the peer bench's graph size
    python bench/small_requests.py --baseline /tmp/base  # A/B against another commit
    python bench/small_requests.py --apq                 # Q1 also as a persisted query
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling modules, as a script
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # server, resolvers

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import lineage_queries as lq  # noqa: E402
from _common import (  # noqa: E402
    REPO,
    CpuMeter,
    free_port,
    machine_load,
    percentile,
    sql_statements,
    stop_process,
)
from lineage_load import build_database, pick_starts  # noqa: E402
from small_requests_cases import (  # noqa: E402
    LINEAGE,
    Q1,
    Q1_OUTPUTS,
    Case,
    apq_body,
    lineage_floor,
    measure_case,
    post,
    q1_floor,
    q1_outputs_floor,
)

# -- servers -----------------------------------------------------------------------------


@dataclass
class Served:
    """A `lineage serve` process running the code of ``source``."""

    label: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        stop_process(self.proc)


def serve(label: str, source: Path, url: str, workdir: Path, env: dict[str, str]) -> Served:
    """`python -m server.cli serve` with ``source`` first on the path (its own code, this
    venv's libraries)."""
    data_dir = workdir / f"serve-{label}"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {
        **os.environ,
        "LINEAGE_LOG_LEVEL": "WARNING",
        "DATABASE_URL": url,
        "PYTHONPATH": str(source),
        **env,
    }
    cmd = [sys.executable, "-m", "server.cli", "serve", "--data-dir", str(data_dir)]
    cmd += ["--port", str(port)]
    log = data_dir / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=source,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    served = Served(label, proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{label} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{served.url}/readyz", timeout=1).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    served.stop()
    raise RuntimeError(f"{label} did not become ready:\n{log.read_text()[-3000:]}")


# -- measuring ---------------------------------------------------------------------------


async def throughput(
    url: str, key: str, paths: list[str], clients: int, seconds: float
) -> tuple[float, float]:
    """(requests per second, p50 ms) of Q1 from ``clients`` closed-loop clients."""
    https = [
        httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {key}"}, timeout=60)
        for _ in range(clients)
    ]
    latencies: list[float] = []

    async def run(secs: float, record: bool) -> float:
        stop = time.perf_counter() + secs

        async def worker(c: int) -> None:
            n = c * 7
            while time.perf_counter() < stop:
                n += 1
                took, _ = await post(
                    https[c], {"query": Q1, "variables": {"path": paths[n % len(paths)]}}
                )
                if record:
                    latencies.append(took)

        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in range(clients)))
        return time.perf_counter() - started

    try:
        await run(1.0, False)
        wall = await run(seconds, True)
    finally:
        await asyncio.gather(*(h.aclose() for h in https))
    return len(latencies) / wall, percentile(latencies, 50) * 1000


async def sql_trips(http: httpx.AsyncClient, body: dict[str, Any]) -> int:
    before = await sql_statements(http)
    await post(http, body)
    return await sql_statements(http) - before


async def main_async(args: argparse.Namespace, workdir: Path, server_url: str) -> None:
    url, key, generated, _ = await build_database(server_url, args.size)
    conn = await asyncpg.connect(url)
    try:
        names = {r["id"]: r["name"] for r in await conn.fetch("SELECT id, name FROM entities")}
        members = [
            r["id"]
            for r in await conn.fetch(
                "SELECT entity_id AS id FROM users WHERE username = 'bench'"
                " UNION SELECT m.entity_id FROM memberships m JOIN users u ON u.id = m.user_id"
                " WHERE u.username = 'bench'"
            )
        ]
    finally:
        await conn.close()
    _, popular = pick_starts(generated, names, args.starts)
    # ordinary: random readable versions that at least one run used (as the peer bench's)
    many, _ = pick_starts(generated, names, args.starts * 10)
    ordinary = [s for s in many if s.uses >= 1][: args.starts]
    sources = {"this": REPO}
    if args.baseline:
        sources["baseline"] = Path(args.baseline)
    servers: dict[str, Served] = {}
    try:
        for label, source in sources.items():
            servers[label] = serve(label, source, url, workdir, {})
        https = {
            label: httpx.AsyncClient(
                base_url=s.url, headers={"authorization": f"Bearer {key}"}, timeout=60
            )
            for label, s in servers.items()
        }
        conn = await asyncpg.connect(url)

        def path(s: lq.Start) -> dict[str, Any]:
            return {"path": s.path}

        def down(s: lq.Start) -> dict[str, Any]:
            return {"path": s.path, "direction": "DOWNSTREAM", "depth": 20, "limit": 10_000}

        cases = [
            Case("Q1 one hop, ordinary", Q1, ordinary, path, q1_floor),
            Case("Q1 one hop, popular", Q1, popular, path, q1_floor),
            Case("Q1+outputs, popular", Q1_OUTPUTS, popular, path, q1_outputs_floor),
            Case("lineage downstream, ordinary", LINEAGE, ordinary, down, lineage_floor),
        ]
        if args.apq:
            # against a baseline: this server by hash, the baseline with the text
            cases.insert(2, Case("Q1 popular, persisted", Q1, popular, path, q1_floor, apq=True))
        print(f"{args.size} graph, {len(ordinary)} + {len(popular)} starts; {machine_load()}")
        header = f"{'query':<30} {'nodes p50':>9}"
        for label in servers:
            header += f" {label + ' p50/p95 ms':>22}"
        header += f" {'floor p50 ms':>13}"
        if "baseline" in servers:
            header += f" {'this/baseline':>14}"
        header += f" {'SQL trips':>10}"
        print(header)
        try:
            for case in cases:
                ours, floor = await measure_case(case, https, conn, members, args.passes)
                line = f"{case.name:<30} {percentile(floor.nodes, 50):>9}"
                for series in ours.values():
                    line += f" {f'{series.p(50):.2f} / {series.p(95):.2f}':>22}"
                line += f" {floor.p(50):>13.2f}"
                if "baseline" in ours:
                    line += f" {ours['this'].p(50) / ours['baseline'].p(50):>14.2f}"
                first = case.starts[0]
                plain = {"query": case.query, "variables": case.variables(first)}
                body = apq_body(case.query, case.variables(first)) if case.apq else plain
                trips = [
                    str(await sql_trips(h, body if label == "this" else plain))
                    for label, h in https.items()
                ]
                line += f" {'/'.join(trips):>10}"
                print(line, flush=True)
        finally:
            await conn.close()
            for http in https.values():
                await http.aclose()
        paths = [s.path for s in ordinary + popular]
        rates: dict[str, list[float]] = {label: [] for label in servers}
        cpu: dict[str, list[float]] = {label: [] for label in servers}
        for n in range(args.rounds):
            order = list(servers.items()) if n % 2 == 0 else list(reversed(servers.items()))
            for label, s in order:
                # the server's own CPU per request: steadier on a shared machine than req/s
                # (with --workers N the HTTP processes are the server's children: counted)
                meter = CpuMeter(s.proc.pid)
                meter.start()
                started = time.perf_counter()
                rate, p50 = await throughput(s.url, key, paths, args.clients, args.seconds)
                wall = time.perf_counter() - started
                per_request = meter.stop()["server"] / (rate * wall) * 1000
                rates[label].append(rate)
                cpu[label].append(per_request)
                print(f"  Q1 throughput {args.clients} clients [{label}] round {n + 1}: "
                      f"{rate:,.0f} req/s, p50 {p50:.2f} ms, server CPU "
                      f"~{per_request:.2f} ms/request", flush=True)  # fmt: skip
        summary = ", ".join(
            f"{label} median {sorted(r)[len(r) // 2]:,.0f} req/s, "
            f"{sorted(cpu[label])[len(r) // 2]:.2f} ms server CPU/request"
            for label, r in rates.items()
        )
        print(f"Q1 throughput, {args.clients} clients: {summary}")
        if "baseline" in rates:
            ratios = [a / b for a, b in zip(rates["this"], rates["baseline"], strict=True)]
            print(f"  this/baseline by round: {', '.join(f'{r:.2f}' for r in ratios)}")
        print(f"end: {machine_load()}")
    finally:
        for s in servers.values():
            s.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=["small", "medium"], default="small")
    parser.add_argument("--starts", type=int, default=50, help="start nodes per kind")
    parser.add_argument("--passes", type=int, default=2, help="passes over the starts")
    parser.add_argument("--clients", type=int, default=16, help="clients for the throughput")
    parser.add_argument("--seconds", type=float, default=5.0, help="throughput duration")
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds per server")
    parser.add_argument("--baseline", help="source tree of another commit to compare with")
    parser.add_argument("--apq", action="store_true", help="also Q1 as a persisted query")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.baseline:
        args.baseline = str(Path(args.baseline).resolve())
    workdir = Path(tempfile.mkdtemp(prefix="small-requests-"))
    atexit.register(shutil.rmtree, workdir, True)
    server_url = args.database_url
    if not server_url:
        from server.db.embedded import start_embedded_postgres

        server_url = start_embedded_postgres(workdir / "pg", cleanup_mode="delete")
    asyncio.run(main_async(args, workdir, server_url))


if __name__ == "__main__":
    main()
