"""Ingest benchmark: logArtifact -> PUT -> commitArtifact against a real `lineage serve`.

Starts the server on the local embedded default (fresh temp data dir, folder store, embedded
Postgres), then measures:
- artifacts of 10, 1,000 and 100,000 entries with distinct tiny files: the log call, the
  uploads (PUT to the signed /files URLs, 32 at a time) and the commit, as entries/s;
  and the same manifests logged again into another collection, when every blob is held
  (the version commits inside logArtifact);
- small-artifact commits per second with 32 concurrent clients, each its own run and its
  own collection, each artifact a tiny distinct file (log + PUT + commit), and the
  all-content-held path (log only: new manifest, held blob).

Aims (issue 3): 100,000 entries in under 10 s; at least 300 small commits/s.

    python bench/ingest.py                    # everything, about a minute or two
    python bench/ingest.py --sizes 10 1000    # skip the 100,000-entry artifact
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common, when run as a script

import httpx  # noqa: E402
from _common import CpuMeter, Server, machine_load, ms, percentile, print_table, start_server  # noqa: E402

UPSERT_RUN = "mutation($input: UpsertRunInput!) { upsertRun(input: $input) { id path } }"
LOG = """mutation($input: LogArtifactInput!) {
  logArtifact(input: $input) {
    deduplicated uploads { path url headers } artifact { id state version }
  }
}"""
COMMIT = "mutation($id: ID!) { commitArtifact(id: $id) { id state version } }"
PROJECT = "ingest"


class GraphQLFailed(RuntimeError):
    pass


@dataclass
class Client:
    http: httpx.AsyncClient
    key: str

    async def gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {self.key}"},
        )
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise GraphQLFailed(f"{response.status_code}: {str(body)[:500]}")
        data: dict[str, Any] = body["data"]
        return data

    async def new_run(self, run_id: str) -> str:
        data = await self.gql(UPSERT_RUN, {"input": {"project": PROJECT, "runId": run_id}})
        path: str = data["upsertRun"]["path"]
        return path


@dataclass(frozen=True)
class Files:
    """Files by path and their manifest entries."""

    content: dict[str, bytes]
    entries: list[dict[str, Any]]

    @classmethod
    def of(cls, content: dict[str, bytes]) -> Files:
        entries = [
            {"path": p, "digest": hashlib.sha256(b).hexdigest(), "size": len(b)}
            for p, b in content.items()
        ]
        return cls(content, entries)

    @classmethod
    def distinct(cls, tag: str, count: int) -> Files:
        """``count`` tiny files of distinct content."""
        return cls.of({f"data/{i:06d}.txt": f"{tag} file {i}\n".encode() for i in range(count)})


def log_input(run: str, name: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"input": {"run": run, "name": name, "type": "dataset", "entries": entries}}


class KeepAlivePut:
    """A minimal HTTP/1.1 keep-alive PUT client: one connection, one request at a time.

    httpx spends about 2 ms of CPU per request, more than the server spends receiving an
    upload, and on a 2-core machine the client's CPU is taken from the server's. This
    client costs a small fraction of that, so the upload figures measure the server."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def put(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        parts = urlsplit(url)
        lines = [f"PUT {parts.path}?{parts.query} HTTP/1.1", f"Host: {parts.netloc}",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            close |= name.lower() == "connection" and value.strip().lower() == "close"
        answer = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, answer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer, self.reader = None, None


async def upload(
    http: httpx.AsyncClient,
    uploads: list[dict[str, Any]],
    files: Files,
    concurrency: int,
    raw: bool,
) -> None:
    """PUT every upload target, ``concurrency`` at a time (each worker its own connection)."""
    pending = iter(uploads)

    async def worker() -> None:
        conn = KeepAlivePut(str(http.base_url))
        try:
            for target in pending:
                body, headers = files.content[target["path"]], target["headers"]
                if raw:
                    status, text = await conn.put(target["url"], body, headers)
                else:
                    response = await http.put(target["url"], content=body, headers=headers)
                    status, text = response.status_code, response.content
                if status not in (200, 201, 204):
                    raise RuntimeError(f"PUT {target['path']}: {status} {text[:200]!r}")
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


@dataclass
class Phases:
    log: float
    upload: float
    commit: float
    uploads: int
    # CPU seconds per phase and process ("server", "postgres", "bench"), when metered
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.log + self.upload + self.commit


async def metered(
    meter: CpuMeter | None, phase: str, cpu: dict[str, dict[str, float]], step: Any
) -> Any:
    """Await ``step``, recording the CPU each process used meanwhile under ``phase``."""
    if meter is None:
        return await step
    meter.start()
    try:
        return await step
    finally:
        cpu[phase] = meter.stop()


async def log_upload_commit(
    client: Client,
    run: str,
    name: str,
    files: Files,
    concurrency: int,
    meter: CpuMeter | None = None,
    raw: bool = False,
) -> Phases:
    cpu: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    log = client.gql(LOG, log_input(run, name, files.entries))
    payload = (await metered(meter, "log", cpu, log))["logArtifact"]
    logged = time.perf_counter()
    if payload["artifact"]["state"] == "COMMITTED":
        return Phases(logged - started, 0.0, 0.0, 0, cpu)
    uploading = upload(client.http, payload["uploads"], files, concurrency, raw)
    await metered(meter, "upload", cpu, uploading)
    uploaded = time.perf_counter()
    commit = client.gql(COMMIT, {"id": payload["artifact"]["id"]})
    committed = (await metered(meter, "commit", cpu, commit))["commitArtifact"]
    if committed["state"] != "COMMITTED":
        raise RuntimeError(f"commit left {committed}")
    finished = time.perf_counter()
    return Phases(
        logged - started, uploaded - logged, finished - uploaded, len(payload["uploads"]), cpu
    )


def median_phases(samples: list[Phases]) -> Phases:
    return Phases(
        statistics.median(p.log for p in samples), statistics.median(p.upload for p in samples),
        statistics.median(p.commit for p in samples), samples[0].uploads, samples[-1].cpu,
    )  # fmt: skip


def rate(entries: int, seconds: float) -> str:
    return f"{entries / seconds:,.0f}" if seconds > 0 else "-"


SIZE_HEADERS = ["entries", "content", "n", "PUTs", "log ms", "upload ms", "commit ms", "total ms",
                "log e/s", "upload e/s", "commit e/s", "total e/s"]  # fmt: skip


def size_row(size: int, label: str, repeats: int, p: Phases) -> list[object]:
    return [
        f"{size:,}", label, repeats, p.uploads, ms(p.log), ms(p.upload), ms(p.commit), ms(p.total),
        rate(size, p.log), rate(size, p.upload), rate(size, p.commit), rate(size, p.total),
    ]  # fmt: skip


def cpu_rows(size: int, label: str, p: Phases) -> list[list[object]]:
    """Server and Postgres CPU per phase of the last metered run, per entry."""
    return [
        [f"{size:,}", label, phase, f"{used['server']:.2f}", f"{used['server'] / size * 1e6:,.0f}",
         f"{used.get('postgres', 0.0):.2f}", f"{used['bench']:.2f}"]
        for phase, used in p.cpu.items()
    ]  # fmt: skip


async def bench_sizes(
    client: Client, sizes: list[int], concurrency: int, meter: CpuMeter, raw: bool
) -> None:
    run = await client.new_run("sizes")
    rows: list[list[object]] = []
    cpu: list[list[object]] = []
    for size in sizes:
        repeats = max(1, min(5, 10_000 // size))
        fresh, held = [], []
        for n in range(repeats):
            files = Files.distinct(f"{size}-{n}-{uuid.uuid4().hex}", size)
            last = n == repeats - 1
            fresh.append(await log_upload_commit(
                client, run, f"fresh-{size}-{n}", files, concurrency, meter if last else None, raw
            ))  # fmt: skip
            # same manifest, another collection: every blob is held now, so no dedup, no upload
            held.append(await log_upload_commit(
                client, run, f"held-{size}-{n}", files, concurrency, meter if last else None
            ))  # fmt: skip
        for label, phases in (
            ("distinct files", median_phases(fresh)),
            ("all held", median_phases(held)),
        ):
            rows.append(size_row(size, label, repeats, phases))
            cpu += cpu_rows(size, label, phases)
        print(f"  {size:,} entries done", file=sys.stderr)
    client_name = "a minimal keep-alive client" if raw else "httpx"
    print_table(SIZE_HEADERS, rows, f"One artifact, log -> PUT ({concurrency} at a time, "
                f"{client_name}) -> commit (median of n; e/s = entries per second)")  # fmt: skip
    print_table(["entries", "content", "phase", "server CPU s", "server us/entry", "postgres CPU s",
                 "bench CPU s"], cpu, "CPU by phase (the last of the n runs)")  # fmt: skip


@dataclass
class Throughput:
    completed: int
    wall: float
    latencies: list[float]
    cpu: str


async def small_commit_loop(
    client: Client, run: str, name: str, held_blob: bytes | None, until: float, min_cycles: int = 0
) -> list[float]:
    """Log small artifacts into one collection until ``until``; the latency of each cycle."""
    latencies: list[float] = []
    while len(latencies) < min_cycles or time.perf_counter() < until:
        started = time.perf_counter()
        tag = f"{name}-{len(latencies)}-{uuid.uuid4().hex}"
        # held: a new manifest (a new path) over a blob the store holds, so it commits in log
        files = Files.distinct(tag, 1) if held_blob is None else Files.of({f"{tag}.bin": held_blob})
        phases = await log_upload_commit(client, run, name, files, 1)
        if held_blob is not None and phases.uploads:
            raise RuntimeError("the all-held path asked for an upload")
        latencies.append(time.perf_counter() - started)
    return latencies


async def bench_concurrent(
    server: Server, key: str, clients: int, duration: float, held: bool
) -> Throughput:
    """``clients`` concurrent clients, each with its own HTTP client, run and collection."""
    tag = "held" if held else "small"
    held_blob = b"held content for the small-commit benchmark\n" if held else None
    https = [httpx.AsyncClient(base_url=server.url, timeout=60) for _ in range(clients)]
    try:
        cs = [Client(h, key) for h in https]
        runs = await asyncio.gather(*(c.new_run(f"{tag}-{i}") for i, c in enumerate(cs)))
        if held_blob is not None:  # make the blob held
            await log_upload_commit(
                cs[0], runs[0], "held-seed", Files.of({"seed.bin": held_blob}), 1
            )

        def loops(until: float, min_cycles: int) -> list[Any]:
            return [
                small_commit_loop(c, r, f"{tag}-{i}", held_blob, until, min_cycles)
                for i, (c, r) in enumerate(zip(cs, runs, strict=True))
            ]

        await asyncio.gather(*loops(0, 1))  # warm-up: collections made, connections open
        meter = CpuMeter(server.proc.pid, server.data_dir / "postgres")
        meter.start()
        started = time.perf_counter()
        results = await asyncio.gather(*loops(started + duration, 0))
        wall = time.perf_counter() - started
        meter.stop()
        latencies = [x for r in results for x in r]
        per_commit = meter.used["server"] / max(len(latencies), 1) * 1000
        cpu = f"{meter.describe(wall)}; server CPU {per_commit:.1f} ms per commit"
        return Throughput(len(latencies), wall, latencies, cpu)
    finally:
        await asyncio.gather(*(h.aclose() for h in https))


def print_throughput(results: dict[str, Throughput], clients: int) -> None:
    rows = [
        [
            label,
            t.completed,
            f"{t.wall:.1f}",
            f"{t.completed / t.wall:,.0f}",
            ms(percentile(t.latencies, 50)),
            ms(percentile(t.latencies, 95)),
        ]
        for label, t in results.items()
    ]
    print_table(
        ["path", "commits", "seconds", "commits/s", "p50 ms", "p95 ms"],
        rows,
        f"Small artifacts (1 tiny file each), {clients} concurrent clients, "
        "each its own run and collection",
    )
    for label, t in results.items():
        print(f"  {label}: {t.cpu}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10, 1_000, 100_000], help="entries per artifact"
    )
    parser.add_argument(
        "--upload-concurrency", type=int, default=32, help="parallel PUTs for one artifact"
    )
    parser.add_argument(
        "--httpx-uploads", action="store_true",
        help="PUT a big artifact's files with httpx instead of the minimal keep-alive client",
    )  # fmt: skip
    parser.add_argument(
        "--clients", type=int, default=32, help="concurrent clients for small commits"
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per small-commit measurement"
    )
    parser.add_argument(
        "--data-dir", type=Path, help="server data dir (default: a fresh temp dir, removed after)"
    )
    parser.add_argument(
        "--workers", type=int, help="lineage serve --workers (default: its own, one per core)"
    )
    return parser.parse_args(argv)


async def run_benchmarks(server: Server, args: argparse.Namespace) -> None:
    key = server.admin_key
    if key is None:
        raise RuntimeError("no admin key on the server's stdout: use a fresh --data-dir")
    meter = CpuMeter(server.proc.pid, server.data_dir / "postgres")
    async with httpx.AsyncClient(base_url=server.url, timeout=600) as http:
        raw = not args.httpx_uploads
        await bench_sizes(Client(http, key), args.sizes, args.upload_concurrency, meter, raw)
    results = {}
    for held, label in ((False, "log + PUT + commit"), (True, "all held: log only")):
        results[label] = await bench_concurrent(server, key, args.clients, args.duration, held)
        print(f"  {label} done", file=sys.stderr)
    print_throughput(results, args.clients)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lineage-ingest-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        started = time.perf_counter()
        workers = ("--workers", str(args.workers)) if args.workers is not None else ()
        server = start_server(data_dir, args=workers)
        print(
            f"lineage serve at {server.url} (data dir {data_dir}), "
            f"up in {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
        )
        print(f"start: {machine_load()}", file=sys.stderr)
        try:
            asyncio.run(run_benchmarks(server, args))
        finally:
            server.stop()
        print(f"\nat the end: {machine_load()}")


if __name__ == "__main__":
    main()
