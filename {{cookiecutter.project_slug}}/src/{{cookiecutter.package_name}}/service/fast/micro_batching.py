"""Gather concurrent single-record requests into micro-batches: one model call and one DB transaction per batch."""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

import anyio.to_thread

In = TypeVar("In")
Out = TypeVar("Out")


class MicroBatcher(Generic[In, Out]):
    """An asyncio queue drained by one worker task that runs `process(batch)`, on the event loop or in a thread.

    The first waiting item opens a batch; the worker takes whatever else is queued and goes on taking items while
    they keep arriving, for at most `wait_ms`, up to `max_size`. While a batch runs, the next one fills up (in the
    socket buffers or the queue), so under load batches grow by themselves, and a lone request is not held back.
    `process` returns one result per item, in order.

    `in_thread=False` runs `process` on the event loop. That suits work that holds the GIL anyway and waits on no
    network (the model and a local SQLite file): a thread would run no faster, and its hand-offs of the GIL measured
    more CPU per request than the batch itself. Work that waits on a server (PostgreSQL) goes to a thread.
    """

    def __init__(
        self, process: Callable[[list[In]], list[Out]], max_size: int, wait_ms: float, in_thread: bool = True
    ) -> None:
        self._process = process
        self._in_thread = in_thread
        self._max_size = max(1, max_size)
        self._wait = max(0.0, wait_ms) / 1000
        self._queue: asyncio.Queue[tuple[In, asyncio.Future[Out]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "MicroBatcher[In, Out]":
        self._worker = asyncio.create_task(self._run(), name="micro-batcher")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(RuntimeError("the service is shutting down"))

    async def submit(self, item: In) -> Out:
        """Queue one item and wait for its own result (or the batch's exception)."""
        if self._worker is None or self._worker.done():
            raise RuntimeError("the micro-batcher is not running")
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def run(self, items: list[In], process: Callable[[list[In]], list[Out]] | None = None) -> list[Out]:
        """Process a batch that arrived whole (a batch request) now, where gathered batches run; `process` replaces
        the batcher's own for this batch (a request whose records stand or fall together)."""
        work = process or self._process
        if self._in_thread:
            return await anyio.to_thread.run_sync(work, items)
        return work(items)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self._wait
            self._take_queued(batch)
            # Wait for companions only while they keep coming: yield to the event loop (requests already read get
            # validated and queued) and stop at the first yield that brings none, a full batch, or the deadline.
            # A lone request is not held back, and a steady stream fills batches without a fixed pause.
            while len(batch) < self._max_size and loop.time() < deadline:
                await asyncio.sleep(0)
                size = len(batch)
                self._take_queued(batch)
                if len(batch) == size:
                    break
            await self._flush(batch)

    def _take_queued(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        while len(batch) < self._max_size and not self._queue.empty():
            batch.append(self._queue.get_nowait())

    async def _flush(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        # A caller that went away (client disconnect) is skipped: nobody would receive its answer.
        live = [(item, future) for item, future in batch if not future.done()]
        if not live:
            return
        try:
            results = await self.run([item for item, _ in live])
        except BaseException as exc:
            # Shutdown cancels the worker: its callers get an error instead of waiting forever.
            error = exc if isinstance(exc, Exception) else RuntimeError("the service is shutting down")
            for _, future in live:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(live, results, strict=True):
            if not future.done():
                future.set_result(result)
