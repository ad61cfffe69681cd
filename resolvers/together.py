"""Run several coroutines concurrently with as few tasks and loop turns as they allow.

The fast executor (resolvers/execution.py) calls a completion's batched fields together.
For a one-hop query they are mostly answered from loaders the first statement primed:
their coroutines finish without ever waiting, yet ``asyncio.gather`` (or a task each)
would make a task per call and spend a loop turn or two handing the results back.
``together`` runs every call in this coroutine up to its first real wait, in order (so
their first loads join the same loader batches, as with gather), and only those that
do wait continue as tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


class _Resumed:
    """The rest of a coroutine that was stepped by hand and is waiting on ``waiting``
    (what it yielded: a future, or None for a bare yield): awaiting this hands
    ``waiting`` to the task running it, as the coroutine's own await would have, then
    resumes the coroutine with whatever the task sends or throws in."""

    __slots__ = ("_coroutine", "_waiting")

    def __init__(self, coroutine: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self._coroutine = coroutine
        self._waiting = waiting

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, waiting = self._coroutine, self._waiting
        if asyncio.isfuture(waiting):
            # as the future's own await marked it before yielding it (_start took the mark)
            waiting._asyncio_future_blocking = True
        while True:
            try:
                sent = yield waiting
            except BaseException as exc:  # noqa: BLE001 - thrown in by the task: pass it on
                try:
                    waiting = coroutine.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting = coroutine.send(sent)
                except StopIteration as done:
                    return done.value


async def _finish(resumed: _Resumed) -> Any:
    return await resumed


def _start(coroutine: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
    """Step ``coroutine`` to its first wait: (True, its result) when it finished, else
    (False, the task that finishes it). An error it raises propagates."""
    try:
        waiting = coroutine.send(None)
    except StopIteration as done:
        return True, done.value
    if asyncio.isfuture(waiting):
        # taken, as a task takes it: a future's await marks it as waited on, and another
        # call awaiting the same future before a task took the mark would fail
        waiting._asyncio_future_blocking = False
    return False, asyncio.ensure_future(_finish(_Resumed(coroutine, waiting)))


async def together(calls: list[Coroutine[Any, Any, Any]]) -> list[Any]:
    """Every call's result, in order, the calls running concurrently. Should one fail,
    its error is raised once every call has been started: calls not started yet are
    closed, the others' outcomes are retrieved (and cancelled with this coroutine)."""
    started: list[tuple[bool, Any]] = []
    try:
        for i, call in enumerate(calls):
            try:
                started.append(_start(call))
            except BaseException:
                for later in calls[i + 1 :]:
                    later.close()
                raise
        return [value if done else await value for done, value in started]
    except BaseException as exc:
        for done, task in started:
            if not done:
                if not task.done() and isinstance(exc, asyncio.CancelledError):
                    task.cancel()
                task.add_done_callback(_retrieve)
        raise


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
