"""Transfer benchmark: the Python client's uploads and downloads against the floor.

Starts `lineage serve` (fresh temp data dir, folder store, embedded Postgres) and, for
1,000 small files and for one large file (1 GiB by default):

- upload: one logArtifact gives the signed upload URLs; the floor PUTs them with plain
  httpx (16 threads, one pooled client, the file object as the body) and the client's
  own upload step (lineage.upload._upload_all: retries, progress, chunked streaming)
  PUTs the same URLs, in alternating order. Also the client's whole `run.log_artifact`
  of fresh content of the same shape (hashing + log + PUT + commit), for reference.
- download: the floor asks for the version's signed URLs (the manifest query the client
  makes too, timed on its own) and GETs them with plain httpx (16 threads, chunks written
  to files); the client runs `artifact.download()` into an empty cache (asking for the
  URLs, hashing every byte, renaming into the cache and linking into place). Both floor
  figures are printed: the GETs alone, and with the URL query.

Target (issue 8): the client reaches at least 80% of the floor's throughput both ways.

    python bench/transfer.py                 # ~2 min; needs ~5 GB of free disk
    python bench/transfer.py --big-mib 256 --rounds 1
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# the client package from the repository root (an installed copy may be older)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

import lineage  # noqa: E402
from lineage import queries  # noqa: E402
from lineage.artifacts import ManifestEntry  # noqa: E402
from lineage.upload import _upload_all  # noqa: E402

sys.path.append(str(Path(__file__).resolve().parent))
from _common import machine_load, print_table, start_server  # noqa: E402

WORKERS = 16
CHUNK = 1 << 20


def make_files(folder: Path, count: int, size: int) -> None:
    folder.mkdir(parents=True)
    block = os.urandom(min(size, CHUNK))
    for index in range(count):
        with open(folder / f"f{index:05d}.bin", "wb") as out:
            out.write(os.urandom(64))  # distinct content, never held by the server yet
            left = size - 64
            while left > 0:
                out.write(block[: min(left, len(block))])
                left -= min(left, len(block))


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def floor_put(http: httpx.Client, uploads: list[dict[str, Any]], folder: Path) -> None:
    def one(upload: dict[str, Any]) -> None:
        with open(folder / upload["path"], "rb") as body:
            http.put(upload["url"], content=body, headers=upload["headers"]).raise_for_status()

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, uploads))


def floor_get(http: httpx.Client, urls: dict[str, str], into: Path) -> None:
    into.mkdir(parents=True)

    def one(item: tuple[str, str]) -> None:
        with http.stream("GET", item[1]) as response, open(into / item[0], "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes(CHUNK):
                out.write(chunk)

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, urls.items()))


def entries_of(folder: Path) -> dict[str, ManifestEntry]:
    entries = {}
    for path in sorted(folder.iterdir()):
        digest = (
            hashlib.sha256(path.read_bytes()).hexdigest()
            if path.stat().st_size < CHUNK * 8
            else None
        )
        if digest is None:
            from lineage.hashing import sha256_file

            digest = sha256_file(path)
        entries[path.name] = ManifestEntry(path.name, digest, path.stat().st_size, local_path=path)
    return entries


def download_urls(api: lineage.Api, artifact: lineage.Artifact) -> dict[str, str]:
    urls: dict[str, str] = {}
    after = None
    while True:
        node = api.graphql(
            queries.ENTRIES_WITH_URLS, {"id": artifact.id, "first": 1000, "after": after}
        )["node"]
        page = node["manifest"]["entries"]
        urls.update({e["node"]["path"]: e["node"]["downloadUrl"] for e in page["edges"]})
        if not page["pageInfo"]["hasNextPage"]:
            return urls
        after = page["pageInfo"]["endCursor"]


def one_round(
    api: lineage.Api, http: httpx.Client, run: lineage.Run, work: Path, name: str,
    count: int, size: int, client_first: bool,
) -> dict[str, float]:  # fmt: skip
    """Seconds per step of one round; floor and client take turns going first."""
    seconds: dict[str, float] = {}

    def in_turn(
        floor: tuple[str, Callable[[], Any]], client: tuple[str, Callable[[], Any]]
    ) -> None:
        for key, step in (client, floor) if client_first else (floor, client):
            seconds[key] = timed(step)

    folder = work / name
    make_files(folder, count, size)
    entries = entries_of(folder)
    sent = [{"path": e.path, "digest": e.digest, "size": e.size} for e in entries.values()]
    payload = api.graphql(queries.LOG_ARTIFACT, {"input": {
        "run": run.path, "name": name, "type": "bench", "entries": sent}})["logArtifact"]  # fmt: skip
    uploads = payload["uploads"]
    assert len(uploads) == count, "the server already held some content"
    in_turn(("floor_up", lambda: floor_put(http, uploads, folder)),
            ("client_up", lambda: _upload_all(api, name, uploads, entries)))  # fmt: skip
    committed = api.graphql(queries.COMMIT_ARTIFACT, {"id": payload["artifact"]["id"]})
    artifact = api.artifact(committed["commitArtifact"]["path"])

    def client_download() -> None:
        os.environ["LINEAGE_CACHE_DIR"] = str(work / f"cache-{name}")  # empty: all fetched
        artifact.download(work / f"client-{name}")

    def floor_download() -> None:
        # asking for the URLs is part of fetching a version, plain httpx or not: timed
        # separately, so the floor can be read both ways
        seconds["floor_urls"] = timed(lambda: urls.update(download_urls(api, artifact)))
        floor_get(http, urls, work / f"floor-{name}")

    urls: dict[str, str] = {}
    in_turn(("floor_down", floor_download), ("client_down", client_download))

    # the client end to end, on fresh content of the same shape
    fresh = work / f"{name}-fresh"
    make_files(fresh, count, size)
    whole = lineage.Artifact(f"{name}-whole", "bench")
    whole.add_dir(fresh)
    seconds["client_log"] = timed(lambda: run.log_artifact(whole))
    for path in work.iterdir():  # keep the disk from filling up between rounds
        shutil.rmtree(path)
    return seconds


def scenario(
    api: lineage.Api, http: httpx.Client, work: Path, label: str, count: int, size: int,
    rounds: int,
) -> list[list[str]]:  # fmt: skip
    run = lineage.init(project="bench-transfer", id=f"r{count}x{size}", resume="allow")
    results: dict[str, list[float]] = {}
    for round_ in range(rounds):
        name = f"n{count}x{size}-{round_}-{os.urandom(3).hex()}"
        done = one_round(api, http, run, work, name, count, size, client_first=round_ % 2 == 1)
        for key, value in done.items():
            results.setdefault(key, []).append(value)
    run.finish()
    total = count * size

    def rate(key: str) -> str:
        best = min(results[key])
        if size >= CHUNK:
            return f"{total / best / 2**20:,.0f} MiB/s ({best:.2f} s)"
        return f"{count / best:,.0f} files/s ({best:.2f} s)"

    def ratio(ours: str, floor: str) -> str:
        return f"{min(results[floor]) / min(results[ours]) * 100:.0f}%"

    # the floor's GETs alone: its download time less its URL query, round by round
    results["floor_get"] = [
        d - u for d, u in zip(results["floor_down"], results["floor_urls"], strict=True)
    ]
    return [
        [f"{label}: upload (PUTs)", rate("client_up"), rate("floor_up"), "",
         ratio("client_up", "floor_up"), ""],
        [f"{label}: download", rate("client_down"), rate("floor_get"), rate("floor_down"),
         ratio("client_down", "floor_get"), ratio("client_down", "floor_down")],
        [f"{label}: log_artifact end to end", rate("client_log"), "", "", "", ""],
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-files", type=int, default=1000)
    parser.add_argument("--small-kib", type=int, default=16)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2, help="best of N, order alternating")
    args = parser.parse_args()
    os.environ["LINEAGE_SILENT"] = "1"
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as tmp:
        root = Path(tmp)
        server = start_server(root / "server")
        try:
            assert server.admin_key is not None
            os.environ.update(LINEAGE_BASE_URL=server.url, LINEAGE_API_KEY=server.admin_key)
            api = lineage.Api()
            limits = httpx.Limits(max_connections=WORKERS, max_keepalive_connections=WORKERS)
            work = root / "work"
            work.mkdir()
            with httpx.Client(limits=limits, timeout=120) as http:
                rows = scenario(api, http, work, f"{args.small_files} x {args.small_kib} KiB",
                                args.small_files, args.small_kib * 1024, args.rounds)  # fmt: skip
                rows += scenario(api, http, work, f"1 x {args.big_mib} MiB", 1,
                                 args.big_mib * 2**20, args.rounds)  # fmt: skip
        finally:
            server.stop()
    headers = ["transfer (best of rounds)", "client", "floor: transfers", "floor: + URL query",
               "client/floor", "client/(floor + query)"]  # fmt: skip
    print_table(headers, rows,
                title=f"16 workers each, folder store on localhost; {machine_load()}")  # fmt: skip


if __name__ == "__main__":
    main()
