"""Fast mode (SERVING_MODE=fast, the default): every speed-up of the service, each replacing one piece of plain mode.

Plain mode (routers/predict.py, served_model.py) is the reference; each piece here gives its answers, only sooner.

| Piece          | Replaces in plain mode         | Why                            | Tested in tests/service/        |
|----------------|--------------------------------|--------------------------------|---------------------------------|
| child_loader   | MLflow load in the worker      | MLflow stays in worker memory  | fast/test_child_loader.py       |
| numpy_path     | DataFrame through the steps    | pandas, sklearn checks > model | fast/test_numpy_path.py         |
| json_route     | FastAPI body parsing, deps     | one pydantic-core pass         | fast/test_json_route.py         |
| micro_batching | a model call, commit a request | concurrent requests share them | fast/test_micro_batching.py     |
| predict_routes | routers/predict.py's routes    | the pieces wired, orjson       | test_serving_modes.py           |
| http_metrics   | instrumentator's middleware    | no Request, Info, route match  | test_serving_modes.py           |
| start (below)  | route order; GC full scans     | hot routes first; model frozen | every endpoint test, both modes |
| prepare_model  | the swapped-in model as loaded | a new version gets numpy_path  | test_reload.py                  |

docs/performance.md has what each piece buys, measured by `make bench`.
"""

import gc
from contextlib import AsyncExitStack
from typing import Any

from fastapi import FastAPI

from ..deps import ServiceState
from ..prometheus import UNMEASURED
from ..routers.predict import Item, predict_and_log
from ..served_model import ServedModel
from .child_loader import load_in_child_process
from .http_metrics import HttpMetrics, HttpMetricsMiddleware
from .micro_batching import MicroBatcher
from .numpy_path import with_numpy_path
from .predict_routes import build_fast_predict_router

__all__ = ["add_http_metrics", "load_in_child_process", "prepare_model", "start_fast_serving"]


def add_http_metrics(app: FastAPI, state_registry: Any) -> None:
    """The instrumentator's default HTTP metrics, recorded by our own middleware (outermost: add it last)."""
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(state_registry), unmeasured=UNMEASURED)


def prepare_model(model: ServedModel) -> ServedModel:
    """What start_fast_serving does to the first model, for a version swapped in later (see model_swap.py)."""
    return with_numpy_path(model)


async def start_fast_serving(app: FastAPI, state: ServiceState, stack: AsyncExitStack) -> None:
    """Serve state.model through the fast pieces; the batcher stops with `stack`."""
    state.model = prepare_model(state.serving())
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
    app.include_router(build_fast_predict_router(state, state.schemas, batcher))
    # The hot routes first: every request is matched against the routes in order.
    # Whatever include_router appended (one entry or one per route, by FastAPI version) moves to the front.
    added = app.router.routes[existing:]
    app.router.routes[:] = [*added, *app.router.routes[:existing]]
    # Everything loaded so far (libraries, the model) lives as long as the process: moving it out of the cyclic
    # garbage collector's generations spares each collection from scanning it.
    gc.freeze()
    stack.callback(gc.unfreeze)
