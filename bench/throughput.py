"""One-hop throughput of `lineage serve` with 1 and 2 worker processes, measured by wrk.

Loads the lineage bench's graph (bench/lineage_graph.py, COPYed into a fresh embedded
Postgres: bench/lineage_load.py), then for each ``--workers`` value starts
`lineage serve --workers N` on it and drives it with wrk (HTTP/1.1 keep-alive,
``--connections`` connections on ``--threads`` threads; a Lua script posts the one-hop
query of bench-peers' Q1, cycling over 100 start artifacts: ordinary and most used).
Rounds alternate the order of the worker counts, so a drift of the shared machine hits
both alike. Every answer is checked by the script: a non-200 status or a body with
"errors" is counted and reported.

    python bench/throughput.py                          # small graph, 1 and 2 workers, ~2 min
    python bench/throughput.py --size medium --rounds 3 --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling modules, as a script
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # server

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from _common import CpuMeter, machine_load, print_table, start_server  # noqa: E402
from lineage_load import build_database, pick_starts  # noqa: E402

WRK = shutil.which("wrk") or "/usr/bin/wrk"

# bench-peers' Q1 one hop: the producer and the first 50 consumers, three fields each
QUERY = """query Q($path: String!) { artifact(path: $path) { id
  loggedBy { id runId name } usedBy(first: 50) { edges { node { id runId name } } } } }"""

LUA = """
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer %(key)s"
local bodies = %(bodies)s
local threads = {}
n, bad = 0, 0  -- globals: done() reads each thread's with thread:get

function setup(thread)
  table.insert(threads, thread)
end

function request()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n %% #bodies) + 1])
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
  end
  io.write(string.format("BAD %%d\\n", total))
  io.write(string.format("P50 %%f P99 %%f\\n", latency:percentile(50), latency:percentile(99)))
end
"""


def lua_script(key: str, paths: list[str], folder: Path) -> Path:
    bodies = [json.dumps({"query": QUERY, "variables": {"path": p}}) for p in paths]
    table = "{" + ",".join(json.dumps(b) for b in bodies) + "}"  # JSON strings are Lua strings
    script = folder / "onehop.lua"
    script.write_text(LUA % {"key": key, "bodies": table})
    return script


def wrk(url: str, script: Path, connections: int, threads: int, seconds: float) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [WRK, f"-t{threads}", f"-c{connections}", f"-d{round(seconds)}s", "-s", str(script),
         f"{url}/graphql"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    out = done.stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"BAD (\d+)", out)
    lat = re.search(r"P50 ([\d.]+) P99 ([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if not (rate and bad and lat):
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    if errors:
        print(f"  wrk: {errors[0]}", file=sys.stderr)
    return {
        "rate": float(rate[1]),
        "bad": float(bad[1]),
        "p50_ms": float(lat[1]) / 1000,
        "p99_ms": float(lat[2]) / 1000,
        "wrk_cpu": wrk_cpu / seconds,
    }


def check_answer(url: str, key: str, path: str) -> None:
    body = httpx.post(
        f"{url}/graphql",
        json={"query": QUERY, "variables": {"path": path}},
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    ).json()
    assert "errors" not in body, body
    assert body["data"]["artifact"] is not None, body


def wait_for_workers(url: str, workers: int, seconds: float = 60) -> None:
    """/healthz answers once one worker is up: wait until all have opened their pools
    (2 connections each at start; /metrics sums the pool gauges of live processes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = httpx.get(f"{url}/metrics", timeout=5).text
        found = re.search(r"^lineage_db_pool_size (\S+)$", text, re.M)
        if found and float(found[1]) >= 2 * workers:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{workers} workers did not all start within {seconds:.0f} s")


async def prepare(server_url: str, size: str, folder: Path) -> tuple[str, str, list[str]]:
    url, key, generated, _ = await build_database(server_url, size)
    conn = await asyncpg.connect(url)
    try:
        names = {r["id"]: r["name"] for r in await conn.fetch("SELECT id, name FROM entities")}
    finally:
        await conn.close()
    ordinary, popular = pick_starts(generated, names, 50)
    return url, key, [s.path for s in ordinary + popular]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare (1,2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="lineage-throughput-"))
    atexit.register(shutil.rmtree, workdir, True)
    from server.db.embedded import start_embedded_postgres

    server_url = start_embedded_postgres(workdir / "pg", cleanup_mode="delete")
    print(f"start: {machine_load()}", file=sys.stderr)
    db_url, key, paths = asyncio.run(prepare(server_url, args.size, workdir))
    script = lua_script(key, paths, workdir)
    results: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
    for round_ in range(args.rounds):
        order = counts if round_ % 2 == 0 else counts[::-1]
        for n in order:
            server = start_server(
                workdir / f"serve-{n}-{round_}",
                {"DATABASE_URL": db_url, "LINEAGE_WORKER_INTERVAL": "3600"},
                args=("--workers", str(n)),
            )
            try:
                wait_for_workers(server.url, n)
                check_answer(server.url, key, paths[-1])
                wrk(server.url, script, args.connections, args.threads, 2)  # warm-up
                meter = CpuMeter(server.proc.pid, workdir / "pg" / "postgres")
                meter.start()
                row = wrk(server.url, script, args.connections, args.threads, args.seconds)
                meter.stop()
                row["cpu"] = meter.used.get("server", 0.0) / args.seconds
                results[n].append(row)
                print(
                    f"  round {round_ + 1}, --workers {n}: {row['rate']:.0f} req/s, "
                    f"{meter.describe(args.seconds)}, wrk {row['wrk_cpu'] * 100:.0f}%; "
                    f"{machine_load()}",
                    file=sys.stderr,
                )
            finally:
                server.stop()
    base = statistics.median(r["rate"] for r in results[counts[0]])
    rows = []
    for n in counts:
        rates = [r["rate"] for r in results[n]]
        rows.append([
            f"--workers {n}",
            f"{statistics.median(rates):.0f}",
            " / ".join(f"{r:.0f}" for r in rates),
            f"{statistics.median(r['p50_ms'] for r in results[n]):.1f}",
            f"{statistics.median(r['p99_ms'] for r in results[n]):.1f}",
            f"{statistics.median(r['cpu'] for r in results[n]) * 100:.0f}%",
            f"{statistics.median(r['wrk_cpu'] for r in results[n]) * 100:.0f}%",
            f"{statistics.median(rates) / base:.2f}x",
            f"{sum(r['bad'] for r in results[n]):.0f}",
        ])  # fmt: skip
    print_table(
        ["server", "req/s (median)", "each round", "p50 ms", "p99 ms", "server CPU", "wrk CPU",
         "vs first", "bad answers"],
        rows,
        title=(
            f"One-hop throughput (bench-peers Q1), wrk -t{args.threads} -c{args.connections}, "
            f"{args.seconds:.0f} s x {args.rounds} rounds, {args.size} graph; {machine_load()}"
        ),
    )  # fmt: skip


if __name__ == "__main__":
    main()
