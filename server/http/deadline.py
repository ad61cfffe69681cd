"""Every GraphQL request's deadline, with one event-loop timer for all of them.

``asyncio.timeout`` arms a timer per request and cancels it at the end: a TimerHandle
made, put in the loop's timers and taken out again, about 3-4 us of a small request's
CPU (README "Performance"). Every request of an app has the same limit, so deadlines
come in the order requests start: one timer, armed for the earliest deadline, serves all
of them. A request entering and leaving is a dict insert and delete; the timer fires
about once per limit (when the request it was armed for has long finished, it only
re-arms for the earliest one still running).

An expired request's task is cancelled, as ``asyncio.timeout`` does it; the endpoint
tells that cancellation from any other (a shutdown) by ``Deadline.expired`` and the
task's cancel count, as ``asyncio.timeout`` tells it before raising TimeoutError.
"""

from __future__ import annotations

import asyncio
from typing import Any

# uvloop's timers count whole milliseconds: one may fire up to this much early
_EARLY = 0.001


class Deadline:
    """One request's: when it ends, its task, and whether it expired (its task was
    cancelled for it)."""

    __slots__ = ("cancelling", "expired", "task", "when")

    def __init__(self, when: float, task: asyncio.Task[Any]) -> None:
        self.when = when
        self.task = task
        self.cancelling = task.cancelling()
        self.expired = False

    def stopped_it(self) -> bool:
        """Whether a CancelledError the request raised is its deadline's doing (and not
        also another's, e.g. a shutdown's): then the cancellation is taken back."""
        return self.expired and self.task.uncancel() <= self.cancelling


class Deadlines:
    """The deadlines of the requests running on one event loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: dict[Deadline, None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0

    def enter(self, seconds: float) -> Deadline:
        """The running task's deadline, ``seconds`` from now; ``leave`` it when done."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # another loop (tests run many): start afresh
            self._loop, self._running, self._timer = loop, {}, None
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a deadline needs a task to cancel")
        deadline = Deadline(loop.time() + seconds, task)
        self._running[deadline] = None
        if self._timer is None or deadline.when < self._timer_when:
            self._arm(loop, deadline.when)
        return deadline

    def leave(self, deadline: Deadline) -> None:
        self._running.pop(deadline, None)

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(when, self._fire)
        self._timer_when = when

    def _fire(self) -> None:
        self._timer = None
        loop = self._loop
        if loop is None or not self._running:
            return
        now = loop.time() + _EARLY
        for deadline in [d for d in self._running if d.when <= now]:
            del self._running[deadline]
            deadline.expired = True
            deadline.task.cancel()
        if self._running:
            self._arm(loop, min(d.when for d in self._running))
