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

from server.storage.base import MissingCredentials

READY_TIMEOUT_SECONDS = 2.0


class ReadinessChecks:
    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[Any]] = {}

    async def failure(
        self, name: str, check: Callable[[], Coroutine[Any, Any, Any]]
    ) -> BaseException | None:
        """None when the check passed in time; else why not (TimeoutError when it is still
        running: it is left running, and the next probe waits on it)."""
        task = self._running.get(name)
        if task is None or task.done():
            task = asyncio.create_task(check(), name=f"readyz-{name}")
            self._running[name] = task
        done, _ = await asyncio.wait({task}, timeout=READY_TIMEOUT_SECONDS)
        if not done:
            return TimeoutError()
        if task.cancelled():
            return asyncio.CancelledError()
        return task.exception()  # also marks it retrieved


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    checks: ReadinessChecks = request.app.state.readiness
    db = request.state.db
    store = getattr(request.state, "store", None)
    problems = []
    database, storage = await asyncio.gather(
        checks.failure("database", db.ping),
        checks.failure("store", store.check) if store is not None else _passed(),
    )
    if database is not None:
        problems.append("database unreachable")
    if isinstance(storage, MissingCredentials):  # configuration, not an outage: say so
        problems.append(str(storage))
    elif storage is not None:
        problems.append("store unreachable")
    references = getattr(request.state, "references", None)
    # looked up again only while there is a problem: a credentials lookup may be slow
    if references is not None and references.problem:
        found: list[str | None] = []

        async def lookup() -> None:
            found.append(await references.configuration_problem())

        failed = await checks.failure("references", lookup)
        if failed is not None or found[0] is not None:
            problems.append(found[0] if found and found[0] else references.problem)
    if problems:
        return JSONResponse({"ready": False, "problems": problems}, status_code=503)
    return JSONResponse({"ready": True})


async def _passed() -> None:
    return None
