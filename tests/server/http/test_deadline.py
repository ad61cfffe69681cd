"""One timer for every request's deadline (server/http/deadline.py)."""

from __future__ import annotations

import asyncio

import pytest

from server.http.deadline import Deadlines


async def _request(deadlines: Deadlines, seconds: float, work: float) -> str:
    """A request that takes ``work`` seconds under a deadline of ``seconds``, as the
    endpoint runs one."""
    deadline = deadlines.enter(seconds)
    try:
        await asyncio.sleep(work)
        return "done"
    except asyncio.CancelledError:
        if deadline.stopped_it():
            return "stopped"
        raise
    finally:
        deadlines.leave(deadline)


async def test_each_request_is_stopped_at_its_own_deadline_and_no_sooner() -> None:
    deadlines = Deadlines()
    started = asyncio.get_running_loop().time()
    # a later deadline first, then an earlier one (the timer is armed again for it)
    answers = await asyncio.gather(
        _request(deadlines, 0.6, 5.0),
        _request(deadlines, 0.05, 5.0),
        _request(deadlines, 5.0, 0.1),
        _request(deadlines, 0.2, 5.0),
    )
    assert list(answers) == ["stopped", "stopped", "done", "stopped"]
    assert asyncio.get_running_loop().time() - started < 2.0
    # the task is not left cancelled: it goes on to answer
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_request_that_finishes_in_time_is_never_cancelled_later() -> None:
    deadlines = Deadlines()
    assert await _request(deadlines, 0.05, 0.0) == "done"
    # the timer armed for it fires while another request runs: that one is left alone
    assert await _request(deadlines, 5.0, 0.2) == "done"


async def test_another_cancellation_is_not_taken_for_the_deadline() -> None:
    """A shutdown cancelling the request is passed on, not answered as a deadline."""
    deadlines = Deadlines()
    task = asyncio.create_task(_request(deadlines, 5.0, 5.0))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
