"""Fuzz a real `lineage serve` from schema.graphql, longer than the test suite does, and
time the probe's denial-of-service shapes against it.

    python bench/fuzz.py                      # 2,000 valid + 1,000 invalid operations, ~5 min
    python bench/fuzz.py --valid 200 --invalid 100

Every operation (hypothesis-graphql, seeded) goes anonymously and with an API key; the
counts are by outcome: "ok", the first error's code, or "http-<status>". INTERNAL,
UNAVAILABLE, "uncoded" and "http-500" would be bugs. Then each attack shape is sent while
another client polls /healthz: the time to the refusal and the longest /healthz answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common, when run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.security.fuzzing

import httpx  # noqa: E402
from _common import machine_load, ms, print_table, start_server  # noqa: E402

from tests.security.fuzzing import BAD, operations, outcome, summary  # noqa: E402


async def fuzz(url: str, key: str, queries: list[str], counts: Counter[str]) -> list[str]:
    bad = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        for query in queries:
            for auth in ({}, {"authorization": f"Bearer {key}"}):
                response = await http.post("/graphql", json={"query": query}, headers=auth)
                try:
                    body = response.json()
                except ValueError:
                    body = None
                result = outcome(response.status_code, body)
                counts[result] += 1
                if result in BAD:
                    bad.append(f"{result}: {query[:200]!r}")
    return bad


def fan_out(levels: int) -> str:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    return (
        "query { ...F0 } "
        + " ".join(fragments)
        + f" fragment F{levels} on Query {{ viewer {{ id }} }}"
    )


FIRST_ZERO = 'project(entity: "alice", name: "p-public") { runs(first: 0) { totalCount } }'
SHAPES = {
    "fragment fan-out, 22 levels (907 bytes)": fan_out(22),
    "fragment fan-out, 30 levels": fan_out(30),
    "40,000 aliases of first: 0 (2.9 MB)": "query { "
    + " ".join(f"a{i}: {FIRST_ZERO}" for i in range(40_000))
    + " }",
    "1,000 aliases of first: 0 (72 KB)": "query { "
    + " ".join(f"a{i}: {FIRST_ZERO}" for i in range(1_000))
    + " }",
    "2 MB document (a comment)": "{ viewer { id } } #" + "x" * 2_000_000,
    "95 KB valid document, distinct": "{ viewer { id } } #" + "y" * 95_000,
}


async def attack(url: str, body: str) -> tuple[float, float, str]:
    """(seconds to the answer, longest /healthz meanwhile, first error code)."""
    stalls: list[float] = []
    done = asyncio.Event()
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:

        async def poll() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await http.get("/healthz")
                stalls.append(time.perf_counter() - started)
                await asyncio.sleep(0.005)

        poller = asyncio.create_task(poll())
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        response = await http.post("/graphql", content=json.dumps({"query": body}))
        elapsed = time.perf_counter() - started
        done.set()
        await poller
    errors = response.json().get("errors") or [{"extensions": {"code": "ok"}}]
    return elapsed, max(stalls), errors[0]["extensions"]["code"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--valid", type=int, default=2_000)
    parser.add_argument("--invalid", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"# {machine_load()}")
    with tempfile.TemporaryDirectory(prefix="lineage-fuzz-") as tmp:
        server = start_server(Path(tmp) / "serve")
        try:
            assert server.admin_key, server.log_tail()
            for kind, count in (("valid", args.valid), ("invalid", args.invalid)):
                started = time.perf_counter()
                queries = operations(count, valid=kind == "valid", random_seed=args.seed)
                generated = time.perf_counter() - started
                counts: Counter[str] = Counter()
                bad = await fuzz(server.url, server.admin_key, queries, counts)
                print(f"\n{kind}: {len(queries)} operations x 2 (anonymous, signed in) "
                      f"= {sum(counts.values())} requests (generated in {generated:.0f} s)")  # fmt: skip
                print(f"  {summary(counts)}")
                print(f"  server-side failures: {len(bad)}")
                for line in bad[:10]:
                    print(f"    {line}")
            rows = []
            for name, body in SHAPES.items():
                elapsed, stall, code = await attack(server.url, body)
                rows.append((name, f"{ms(elapsed)} ms", code, f"{ms(stall)} ms"))
            print_table(
                ["shape", "answered in", "code", "longest /healthz"],
                rows,
                "denial-of-service shapes, anonymous, while /healthz is polled:",
            )
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
