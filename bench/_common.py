"""Shared by the benchmark scripts: a real `lineage serve` subprocess, percentiles, tables.

The benchmarks drive the server exactly as a client would (HTTP on a real port), so the
numbers include uvicorn, the GraphQL endpoint, JSON and the network stack.
"""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import psutil

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
KEY_RE = re.compile(r"\b(lin_[A-Za-z0-9_\-]+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running `lineage serve`; stdout/stderr go to files in its data dir."""

    proc: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    admin_key: str | None = None

    def log_tail(self, lines: int = 30) -> str:
        text = (self.data_dir / "serve.err").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT, like Ctrl-C: uvicorn shuts down and atexit stops the embedded Postgres;
    then SIGTERM, then SIGKILL, 30 s apart, for a server that does not stop.

    (Under SIGTERM uvicorn re-raises the signal after its shutdown, the process dies
    without running atexit, and an embedded Postgres it started keeps running.)"""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            continue


async def sql_statements(http: httpx.AsyncClient) -> int:
    """SQL statements the server has run so far (its /metrics counter, every process)."""
    text = (await http.get("/metrics")).text
    return int(
        sum(
            float(line.split()[-1])
            for line in text.splitlines()
            if line.startswith("lineage_sql_queries_total")
        )
    )


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and children inherit that:
    # give `lineage serve` the default so stop() can ask it to shut down cleanly.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_server(
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 90,
    args: Sequence[str] = (),
) -> Server:
    """Start `lineage serve` on a free port (with ``args``) and wait until /healthz answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {**os.environ, "LINEAGE_LOG_LEVEL": "WARNING", **(env or {})}
    # the venv's console script, as a user would run it
    lineage = Path(sys.executable).with_name("lineage")
    cmd = [str(lineage), "serve", "--data-dir", str(data_dir), "--port", str(port), *args]
    with open(data_dir / "serve.out", "wb") as out, open(data_dir / "serve.err", "wb") as err:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, env=full_env, cwd=REPO, preexec_fn=_default_sigint
        )
    server = Server(proc, f"http://127.0.0.1:{port}", data_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"lineage serve exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        server.stop()
        raise RuntimeError(f"lineage serve did not become healthy:\n{server.log_tail()}")
    found = KEY_RE.search((data_dir / "serve.out").read_text())
    server.admin_key = found[1] if found else None
    return server


async def timed(call: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    """(seconds, value) of awaiting ``call()``."""
    started = time.perf_counter()
    value = await call()
    return time.perf_counter() - started, value


def machine_load() -> str:
    """The 1-minute load average and CPU count: other processes skew the numbers."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p50 of [1, 2, 3, 4] is 2)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    value = seconds * 1000
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]], title: str = "") -> None:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if title:
        print(f"\n{title}")
    for n, row in enumerate(cells):
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


@dataclass
class CpuMeter:
    """CPU seconds used between start() and stop() by the server, Postgres and this process."""

    server_pid: int
    postgres_dir: Path | None = None
    used: dict[str, float] = field(default_factory=dict)
    _start: dict[str, float] = field(default_factory=dict)

    def _postgres(self) -> list[psutil.Process]:
        procs = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            cmdline = proc.info["cmdline"] or []
            if (
                proc.info["name"] == "postgres"
                and self.postgres_dir
                and str(self.postgres_dir) in " ".join(cmdline)
            ):
                procs.append(proc)
        return procs

    def _sample(self) -> dict[str, float]:
        def cpu(proc: psutil.Process) -> float:
            try:
                times = proc.cpu_times()
                return float(times.user + times.system)
            except psutil.Error:
                return 0.0

        server = psutil.Process(self.server_pid)
        # with --workers N, the worker processes are the server's children
        serving = cpu(server) + sum(cpu(c) for c in server.children(recursive=True))
        sample = {"server": serving, "bench": sum(os.times()[:2])}
        if self.postgres_dir is not None:
            sample["postgres"] = sum(
                cpu(p) + sum(cpu(c) for c in p.children()) for p in self._postgres()
            )
        return sample

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> dict[str, float]:
        end = self._sample()
        self.used = {k: end[k] - self._start.get(k, 0.0) for k in end}
        return self.used

    def describe(self, wall: float) -> str:
        parts = [f"{k} {v:.1f}s ({v / wall * 100:.0f}% of one core)" for k, v in self.used.items()]
        return "CPU: " + ", ".join(parts)
