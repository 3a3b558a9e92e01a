"""Fast mode started: the model on its numpy path, the micro-batcher, the one-pass predict routes, HTTP metrics.

Plain mode's counterpart is routers/predict.py plus the instrumentator; serving_modes.py holds both as one object each.
"""

import gc
from contextlib import AsyncExitStack
from typing import Any

from fastapi import FastAPI

from ..deps import ServiceState
from ..prediction import Item, predict_and_log
from ..prometheus import UNMEASURED
from .http_metrics import HttpMetrics, HttpMetricsMiddleware
from .micro_batching import MicroBatcher
from .predict_routes import add_fast_predict_routes

# How far allocations of container objects may run ahead of their frees before the collector's first generation runs
# (700 by default): more than the requests of a micro-batch hold while they are in flight together.
GC_FIRST_GENERATION_THRESHOLD = 10_000


def add_http_metrics(app: FastAPI, state_registry: Any) -> None:
    """The instrumentator's default HTTP metrics, recorded by our own middleware (outermost: add it last)."""
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(state_registry), unmeasured=UNMEASURED)


async def start_fast_serving(app: FastAPI, state: ServiceState, stack: AsyncExitStack) -> None:
    """Serve state.model (on its numpy path) through the fast pieces; the batcher stops with `stack`."""
    assert state.schemas is not None
    settings, engine = state.settings, state.engine

    def process(items: list[Item]) -> list[Any]:
        # The served model is read once per batch: replacing state.model takes effect from the next batch.
        return predict_and_log(state.serving(), engine, items)

    # A batch's insert into a local SQLite file is a short write: the batch runs on the event loop (see
    # MicroBatcher). A server database is a network round trip, which a thread waits for instead.
    in_thread = engine.dialect.name != "sqlite"
    batcher = await stack.enter_async_context(
        MicroBatcher(process, settings.microbatch_max_size, settings.microbatch_wait_ms, in_thread)
    )
    existing = len(app.router.routes)
    add_fast_predict_routes(app.router, state, state.schemas, batcher)
    # The hot routes first: every request is matched against the routes in order.
    app.router.routes[:] = [*app.router.routes[existing:], *app.router.routes[:existing]]
    # Everything loaded so far (libraries, the model) lives as long as the process: moving it out of the cyclic
    # garbage collector's generations spares each collection from scanning it.
    gc.freeze()
    stack.callback(gc.unfreeze)
    # With the default threshold the first generation ran on most micro-batches, to find almost no garbage: reference
    # counting frees a request's objects once it is answered. A higher one leaves it to real reference cycles.
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_FIRST_GENERATION_THRESHOLD, *thresholds[1:])
    stack.callback(gc.set_threshold, *thresholds)
