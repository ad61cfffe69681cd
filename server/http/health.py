"""/healthz (the process answers) and /readyz (the database and the store answer).

/readyz answers within READY_TIMEOUT_SECONDS whatever the backends do: a load balancer
asking a replica whose database is stalled (SIGSTOP, a hung disk) must get its 503 in
time, not after the stall. Each check runs as a task of its own; one that has not
finished in time counts as failed and is left running, and the next probe waits on that
same task instead of starting another, so a stall never piles up checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

READY_TIMEOUT_SECONDS = 2.0


class ReadinessChecks:
    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[Any]] = {}

    async def passes(self, name: str, check: Callable[[], Coroutine[Any, Any, Any]]) -> bool:
        task = self._running.get(name)
        if task is None or task.done():
            task = asyncio.create_task(check(), name=f"readyz-{name}")
            self._running[name] = task
        done, _ = await asyncio.wait({task}, timeout=READY_TIMEOUT_SECONDS)
        # any failure means not ready; exception() also marks it retrieved
        return bool(done) and not task.cancelled() and task.exception() is None


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    checks: ReadinessChecks = request.app.state.readiness
    db = request.state.db
    store = getattr(request.state, "store", None)
    problems = []
    database, storage = await asyncio.gather(
        checks.passes("database", lambda: db.fetchval("SELECT 1")),
        checks.passes("store", store.check) if store is not None else _passed(),
    )
    if not database:
        problems.append("database unreachable")
    if not storage:
        problems.append("store unreachable")
    if problems:
        return JSONResponse({"ready": False, "problems": problems}, status_code=503)
    return JSONResponse({"ready": True})


async def _passed() -> bool:
    return True
