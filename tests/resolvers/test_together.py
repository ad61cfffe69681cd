"""resolvers/together.py: calls run concurrently, in order, with a task only for those
that wait; and server/loaders.py's load_many of values already in does not wait."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resolvers.together import together
from server.loaders import Loader


async def instant(value: Any) -> Any:
    return value


async def after_a_turn(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


async def waits_on(future: asyncio.Future[Any]) -> Any:
    return await future


def tasks_now() -> int:
    return len(asyncio.all_tasks())


async def test_calls_that_do_not_wait_need_no_task() -> None:
    before = tasks_now()
    seen: list[int] = []

    async def counted(value: int) -> int:
        seen.append(tasks_now())
        return value

    assert await together([counted(1), counted(2), counted(3)]) == [1, 2, 3]
    assert seen == [before, before, before]


async def test_results_come_in_the_calls_order_whoever_finishes_first() -> None:
    loop = asyncio.get_running_loop()
    late: asyncio.Future[str] = loop.create_future()
    loop.call_later(0.01, late.set_result, "late")
    found = await together([waits_on(late), instant("now"), after_a_turn("turn")])
    assert found == ["late", "now", "turn"]


async def test_first_loads_of_every_call_join_one_batch() -> None:
    batches: list[list[int]] = []

    async def load(keys: list[int]) -> list[int]:
        batches.append(list(keys))
        return [k * 10 for k in keys]

    loader: Loader[int, int] = Loader(load_fn=load)

    async def one(key: int) -> int:
        return await loader.load(key)

    async def many(keys: list[int]) -> list[int]:
        return await loader.load_many(keys)

    assert await together([one(1), many([2, 3]), one(4)]) == [10, [20, 30], 40]
    assert batches == [[1, 2, 3, 4]]


async def test_a_failing_call_raises_and_the_others_still_finish() -> None:
    finished: list[str] = []

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    async def slow() -> str:
        await asyncio.sleep(0.01)
        finished.append("slow")
        return "slow"

    with pytest.raises(ValueError, match="boom"):
        await together([fails(), slow()])
    await asyncio.sleep(0.05)
    assert finished == ["slow"]


async def test_a_call_failing_at_once_closes_those_not_started() -> None:
    async def fails_at_once() -> None:
        raise KeyError("x")

    never = instant("never")
    with pytest.raises(KeyError):
        await together([instant(1), fails_at_once(), never])
    assert getattr(never, "cr_frame", 0) is None  # closed: never run, no "never awaited"


async def test_cancelling_cancels_the_calls_that_wait() -> None:
    loop = asyncio.get_running_loop()
    shared: asyncio.Future[None] = loop.create_future()  # two calls wait on one future
    ended = [asyncio.Event(), asyncio.Event(), asyncio.Event()]

    async def waits(future: asyncio.Future[None], end: asyncio.Event) -> None:
        try:
            await future
        finally:
            end.set()

    outer = asyncio.ensure_future(
        together(
            [
                instant(1),
                waits(shared, ended[0]),
                waits(shared, ended[1]),
                waits(loop.create_future(), ended[2]),
            ]
        )
    )
    await asyncio.sleep(0)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ended)), 5)


async def test_load_many_of_values_already_in_is_finished() -> None:
    calls: list[list[int]] = []

    async def load(keys: list[int]) -> list[int]:
        calls.append(list(keys))
        return [-k for k in keys]

    loader: Loader[int, int] = Loader(load_fn=load)
    loader.prime_many({1: 100, 2: 200})
    found = loader.load_many([2, 1])
    assert isinstance(found, asyncio.Future)
    assert found.done()
    assert await found == [200, 100]
    # a key not in yet: gathered and loaded as ever
    assert await loader.load_many([1, 3]) == [100, -3]
    assert calls == [[3]]


async def test_load_many_with_a_failed_key_raises_its_error() -> None:
    async def load(keys: list[int]) -> list[int]:
        raise RuntimeError("down")

    loader: Loader[int, int] = Loader(load_fn=load)
    with pytest.raises(RuntimeError, match="down"):
        await loader.load(1)
    loader.prime(2, 20)
    with pytest.raises(RuntimeError, match="down"):
        await loader.load_many([2, 1])
