"""Micro-batching: concurrent callers share one process() call and each gets its own result."""

import asyncio

import pytest

from {{ cookiecutter.package_name }}.service.fast.micro_batching import MicroBatcher


def test_concurrent_submits_share_batches_and_get_their_own_results() -> None:
    calls: list[list[int]] = []

    def double(items: list[int]) -> list[int]:
        calls.append(items)
        return [2 * item for item in items]

    async def scenario() -> list[int]:
        async with MicroBatcher(double, max_size=16, wait_ms=5) as batcher:
            return await asyncio.gather(*(batcher.submit(i) for i in range(40)))

    assert asyncio.run(scenario()) == [2 * i for i in range(40)]
    assert sum(len(batch) for batch in calls) == 40
    assert max(len(batch) for batch in calls) == 16
    assert len(calls) == 3


def test_a_failing_batch_fails_each_of_its_callers() -> None:
    def broken(items: list[int]) -> list[int]:
        raise OSError("disk full")

    async def scenario() -> list[int | BaseException]:
        async with MicroBatcher(broken, max_size=8, wait_ms=1) as batcher:
            return await asyncio.gather(*(batcher.submit(i) for i in range(3)), return_exceptions=True)

    results = asyncio.run(scenario())
    assert all(isinstance(result, OSError) for result in results)


def test_submit_after_stop_is_refused() -> None:
    async def scenario() -> None:
        batcher: MicroBatcher[int, int] = MicroBatcher(lambda items: items, max_size=8, wait_ms=1)
        async with batcher:
            pass
        await batcher.submit(1)

    with pytest.raises(RuntimeError, match="not running"):
        asyncio.run(scenario())
