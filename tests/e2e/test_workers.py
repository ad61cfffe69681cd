"""`lineage serve --workers N`: one parent (the embedded Postgres, the background worker,
the listening socket) and N HTTP worker processes on that one socket."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.test_serve import (
    Server,
    admin_key,
    postgres_running,
    postmaster_pid,
    start_server,
)

VIEWER = "{ viewer { username } }"
_REQUESTS = re.compile(r'^lineage_graphql_requests_total\{[^}]*outcome="ok"\} (\S+)$', re.M)


def workers_of(server: Server) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(server.process.pid).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:  # dead: a zombie, or gone since children() listed it
            continue
    return found


def answered(server: Server, key: str) -> bool:
    """One request on a new connection (any worker may accept it)."""
    with httpx.Client(timeout=10) as client:
        response = client.post(
            f"{server.url}/graphql",
            json={"query": VIEWER},
            headers={"authorization": f"Bearer {key}"},
        )
    return bool(response.json() == {"data": {"viewer": {"username": "admin"}}})


@contextmanager
def suspended(process: psutil.Process) -> Iterator[None]:
    process.suspend()
    try:
        yield
    finally:
        process.resume()


def ok_requests(server: Server) -> int:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    return sum(int(float(n)) for n in _REQUESTS.findall(text))


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)  # polling a process state change, with a deadline
    return False


def started(server: Server, workers: int) -> bool:
    """Whether ``workers`` worker processes have finished starting, since the beginning
    (/readyz answers as soon as one has)."""
    return "".join(server.stderr).count("Application startup complete") >= workers


def start_workers(data_dir: Path, env: dict[str, str] | None = None) -> Server:
    server = start_server(data_dir, env, ("--workers", "2"))
    assert wait_for(lambda: started(server, 2), 30), "".join(server.stderr)
    return server


def test_two_workers_both_answer_on_one_socket_and_metrics_add_up(data_dir: Path) -> None:
    server = start_workers(data_dir)
    try:
        key = admin_key(server)
        first, second = workers_of(server)
        before = ok_requests(server)
        # with one of them stopped, only the other can accept and answer, and vice versa
        with suspended(first):
            assert answered(server, key)
        with suspended(second):
            assert answered(server, key)
        # whichever process answers /metrics counts the requests of both
        assert ok_requests(server) == before + 2
        # one embedded Postgres, started by the parent once, shared by both
        log = "".join(server.stderr)
        assert len(re.findall(r"embedded postgres at", log)) == 1, log
        assert postgres_running(data_dir)
        assert all(p.ppid() == server.process.pid for p in (first, second))
    finally:
        code = server.stop()
    assert code == 0, "".join(server.stderr)
    assert not postgres_running(data_dir)


def test_sigterm_stops_every_process_within_the_shutdown_timeout(data_dir: Path) -> None:
    server = start_workers(data_dir, {"LINEAGE_SHUTDOWN_TIMEOUT": "5"})
    try:
        key = admin_key(server)
        workers = workers_of(server)
        assert len(workers) == 2
        metrics_dir = Path(workers[0].environ()["PROMETHEUS_MULTIPROC_DIR"])
        assert metrics_dir.is_dir()
        assert answered(server, key)
        postmaster = postmaster_pid(data_dir)
        assert postmaster is not None
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=5 + 10)
        took = time.monotonic() - started
    finally:
        server.close()
    assert code == 0, "".join(server.stderr)
    assert took < 5 + 5, took
    for worker in workers:
        assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
    assert not postgres_running(data_dir)
    assert postmaster_pid(data_dir) is None
    assert not metrics_dir.exists()  # the parent's temporary folder is gone
    assert "Traceback" not in "".join(server.stderr)


def test_a_killed_worker_is_replaced_and_serving_goes_on(data_dir: Path) -> None:
    server = start_workers(data_dir)
    try:
        key = admin_key(server)
        victim, survivor = workers_of(server)
        os.kill(victim.pid, signal.SIGKILL)
        assert answered(server, key)  # the other one accepts meanwhile
        assert wait_for(
            lambda: len(workers_of(server)) == 2 and victim.pid not in
            [p.pid for p in workers_of(server)],
            30,
        ), "".join(server.stderr)  # fmt: skip
        replacement = next(p for p in workers_of(server) if p.pid != survivor.pid)
        # the replacement serves: with the survivor stopped, it alone can answer
        assert wait_for(lambda: started(server, 3), 30), "".join(server.stderr)
        with suspended(survivor):
            assert answered(server, key)
        assert replacement.is_running()
        assert f"worker process {victim.pid} exited" in "".join(server.stderr)
    finally:
        code = server.stop()
    assert code == 0, "".join(server.stderr)


def test_the_workers_end_with_a_killed_parent(data_dir: Path) -> None:
    server = start_workers(data_dir)
    try:
        workers = workers_of(server)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        # nothing keeps serving unsupervised on the socket
        assert wait_for(lambda: not any(w.is_running() for w in workers), 5)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.url}/healthz", timeout=5)
    finally:
        server.close()


def test_workers_that_keep_dying_at_start_stop_the_server_loudly(data_dir: Path) -> None:
    server = start_workers(data_dir)
    try:
        # every worker process is killed as soon as it shows up, as a crash at start would
        deadline = time.monotonic() + 60
        while server.process.poll() is None and time.monotonic() < deadline:
            for worker in workers_of(server):
                with contextlib.suppress(psutil.Error):
                    worker.kill()
            time.sleep(0.02)  # polling for new worker processes, with a deadline
        code = server.process.wait(timeout=30)
    finally:
        server.close()
    log = "".join(server.stderr)
    assert code == 1, log
    assert "it cannot start; stopping" in log, log
    assert not postgres_running(data_dir)
