"""`lineage serve`: one process, or a parent that supervises N worker processes.

With ``--workers 1`` the server is one process, as it always was: the app's lifespan
starts the embedded Postgres, the pool, the background worker and the supervision.

With more, the parent does everything that must happen once, and the children only
serve HTTP:

- the parent starts (or joins) the embedded Postgres before any child, watches it
  (server/db/embedded.py supervision) and hands the children its URL as their
  DATABASE_URL; it applies the migrations and creates the first admin (its key printed
  once); it runs the background worker (server/worker.py), once;
- it binds the listening socket and gives it to every child: the kernel spreads the
  connections among the processes accepting on it;
- /metrics in any child reads every process's values (prometheus-client's multiprocess
  mode, in a temporary folder the parent makes before the first child and removes at
  exit);
- SIGTERM (or SIGINT) goes on to every child, which stops accepting and lets its
  requests finish for up to LINEAGE_SHUTDOWN_TIMEOUT; then the parent stops the worker
  and the embedded Postgres;
- a child that dies is started again (logged); one that dies again within seconds of
  each start, five times in a row, means it cannot start: the parent stops everything
  and exits with status 1, saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from multiprocessing.process import BaseProcess
from typing import Any

from server.settings import Settings

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CHECK_SECONDS = 0.5
# a child that dies sooner than this after its start counts as a failed start
QUICK_DEATH_SECONDS = 10.0
MAX_QUICK_DEATHS = 5


def default_workers() -> int:
    return os.cpu_count() or 1


def serve(settings: Settings, workers: int) -> None:
    """Serve with ``workers`` HTTP processes (0: one per core) until SIGTERM or SIGINT."""
    if workers < 0:
        raise SystemExit("lineage: --workers must be 1 or more (0: one per core)")
    workers = workers or default_workers()
    if workers == 1:
        _serve_one(settings)
        return
    metrics_dir = tempfile.mkdtemp(prefix="lineage-metrics-")
    # before anything imports prometheus_client: it picks where values live at import
    os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        code = asyncio.run(Supervisor(settings, workers).run())
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    if code:
        raise SystemExit(code)


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "log_level": settings.log_level.lower(),
        # uvicorn's own access log would repeat what /metrics counts
        "access_log": settings.log_level == "DEBUG",
        # SIGTERM: stop accepting, let in-flight requests finish for at most this long,
        # then run the lifespan's shutdown (worker, pool) and stop the embedded Postgres
        # (typed int, but any number of seconds works: it goes to asyncio.wait_for)
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
    }


def _serve_one(settings: Settings) -> None:
    import uvicorn

    from server.app import create_app, tune_garbage_collector

    # uvicorn shuts down gracefully on SIGTERM, then re-raises it with the previous
    # handler; the default one would kill the process before atexit stops the embedded
    # Postgres (systemd and docker stop with SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = create_app(settings)
    tune_garbage_collector()
    uvicorn.run(app, host=settings.host, port=settings.port, **_uvicorn_options(settings))


def _child(settings: Settings, sock: socket.socket, parent: int) -> None:
    """A worker process: serve HTTP on the parent's socket until SIGTERM."""
    _die_with_parent(parent)
    import uvicorn

    from server.app import create_app, tune_garbage_collector

    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # uvicorn drains on SIGTERM (and on SIGINT: a Ctrl-C reaches the whole process group),
    # then raises it again with this handler: exit 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = create_app(settings)
    tune_garbage_collector()
    config = uvicorn.Config(app, **_uvicorn_options(settings))
    uvicorn.Server(config).run(sockets=[sock])


def _die_with_parent(parent: int) -> None:
    """A child ends at once when its parent is killed (SIGKILL leaves the parent no time
    to stop it), as one `lineage serve` process would: its requests in flight fail, and
    nothing serves on unsupervised. Linux tells the child (PR_SET_PDEATHSIG); elsewhere
    a thread notices within a second."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True, name="lineage-parent-watch").start()


_PR_SET_PDEATHSIG = 1


@dataclass
class _Slot:
    process: BaseProcess
    started: float
    quick_deaths: int = 0


class Supervisor:
    """The parent of ``--workers N`` (see the module docstring)."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self.stopping = asyncio.Event()
        self.context = multiprocessing.get_context("spawn")

    async def run(self) -> int:
        from server.app import bootstrap_admin, open_database, open_storage, start_worker
        from server.http.metrics import Metrics

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        async with contextlib.AsyncExitStack() as stack:
            url, db = await open_database(self.settings, stack, Metrics())
            if self.settings.bootstrap_admin:
                await bootstrap_admin(db, self.settings)
            start_worker(self.settings, db, await open_storage(self.settings, stack), stack)
            # the children: the database found here, no worker, no admin to create
            child_settings = replace(
                self.settings, database_url=url, run_worker=False, bootstrap_admin=False
            )
            sock = _bind(self.settings.host, self.settings.port)
            stack.callback(sock.close)
            slots = [self._start(child_settings, sock) for _ in range(self.workers)]
            log.info(
                "serving on %s with %d worker processes (%s)",
                self.settings.base_url,
                self.workers,
                ", ".join(str(s.process.pid) for s in slots),
            )
            code = await self._watch(slots, child_settings, sock)
            await self._stop(slots)
            return code
        return 0  # pragma: no cover (mypy: the exit stack does not swallow exceptions)

    def _start(self, settings: Settings, sock: socket.socket) -> _Slot:
        process = self.context.Process(
            target=_child, args=(settings, sock, os.getpid()), name="lineage-worker", daemon=False
        )
        process.start()
        return _Slot(process, time.monotonic())

    async def _watch(self, slots: list[_Slot], settings: Settings, sock: socket.socket) -> int:
        """Until asked to stop: start dead children again. 1 when they cannot start."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), CHECK_SECONDS)
            if self.stopping.is_set():
                return 0
            for i, slot in enumerate(slots):
                if slot.process.is_alive():
                    continue
                _mark_dead(slot.process.pid)
                quick = time.monotonic() - slot.started < QUICK_DEATH_SECONDS
                deaths = slot.quick_deaths + 1 if quick else 0
                if deaths >= MAX_QUICK_DEATHS:
                    log.error(
                        "worker process %s exited with status %s, the %dth time in a row "
                        "within %.0f s of its start: it cannot start; stopping",
                        slot.process.pid, slot.process.exitcode, deaths, QUICK_DEATH_SECONDS,
                    )  # fmt: skip
                    return 1
                log.error(
                    "worker process %s exited with status %s; starting another",
                    slot.process.pid,
                    slot.process.exitcode,
                )
                if deaths:
                    await asyncio.sleep(min(2.0**deaths / 4, 4.0))  # a crash loop backs off
                slots[i] = self._start(settings, sock)
                slots[i].quick_deaths = deaths

    async def _stop(self, slots: list[_Slot]) -> None:
        """SIGTERM to every child; each drains for up to the shutdown timeout."""
        for slot in slots:
            if slot.process.is_alive() and slot.process.pid is not None:
                os.kill(slot.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.shutdown_timeout_seconds + 5.0
        for slot in slots:
            remaining = max(0.0, deadline - time.monotonic())
            await asyncio.to_thread(slot.process.join, remaining)
            if slot.process.is_alive():
                log.error("worker process %s did not stop in time; killing it", slot.process.pid)
                slot.process.kill()
                await asyncio.to_thread(slot.process.join, 5.0)
            _mark_dead(slot.process.pid)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"lineage: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _mark_dead(pid: int | None) -> None:
    """Take a dead child's gauges (its pool sizes) out of the sums /metrics shows."""
    if pid is None or MULTIPROC_ENV not in os.environ:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
