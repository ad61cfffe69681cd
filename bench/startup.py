"""Cold start of `lineage serve` until /readyz answers 200, on a fresh and on an existing
data dir (embedded Postgres). Prints the median of a few runs.

    python bench/startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lineage_command() -> list[str]:
    found = shutil.which("lineage")
    return [found] if found else [sys.executable, "-m", "server.cli"]


def time_start(data_dir: Path) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*lineage_command(), "serve", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        deadline = started + 60
        while time.perf_counter() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError("server did not become ready in 60 s")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    fresh, existing = [], []
    for _ in range(args.runs):
        data_dir = Path(tempfile.mkdtemp(prefix="lineage-start-")) / "data"
        fresh.append(time_start(data_dir))
        existing.append(time_start(data_dir))
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    print(f"cold start to /readyz 200, median of {args.runs}:")
    print(
        f"  fresh data dir    {statistics.median(fresh):.2f} s  (runs: {', '.join(f'{t:.2f}' for t in fresh)})"
    )
    print(
        f"  existing data dir {statistics.median(existing):.2f} s  (runs: {', '.join(f'{t:.2f}' for t in existing)})"
    )


if __name__ == "__main__":
    main()
