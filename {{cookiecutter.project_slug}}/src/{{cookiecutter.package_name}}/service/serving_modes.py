"""SERVING_MODE, decided here once: each mode is one object saying how it loads, prepares, serves and measures.

| Mode  | load (MODEL_URI)             | prepare (each loaded version) | predict routes                         |
|-------|------------------------------|-------------------------------|----------------------------------------|
| plain | in this process, with MLflow | as loaded                     | routers/predict.py, FastAPI's own      |
| fast  | a child (fast/child_loader)  | the numpy path (numpy_path)   | fast/predict_routes.py, micro-batched  |

Both call the same prediction step (prediction.py); plain mode is the readable reference, fast mode the default.
"""

import dataclasses
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Literal

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator

from .deps import ServiceState
from .fast.child_loader import load_in_child_process
from .fast.numpy_path import with_numpy_path
from .fast.serving import add_http_metrics, start_fast_serving
from .prometheus import UNMEASURED
from .routers.predict import build_predict_router
from .served_model import ModelLoader, ServedModel, load_served_model


@dataclass(frozen=True)
class ServingMode:
    name: Literal["plain", "fast"]
    # How MODEL_URI's model is fetched, at start and on every reload.
    load: ModelLoader
    # What a loaded version becomes before it serves: the first one and every one swapped in (model_swap.py).
    prepare: Callable[[ServedModel], ServedModel]
    # Adds the predict routes for the loaded model; whatever it starts stops with the stack.
    start: Callable[[FastAPI, ServiceState, AsyncExitStack], Awaitable[None]]
    # Records the HTTP metrics (request counts, latencies) into the service's registry: the outermost middleware.
    instrument: Callable[[FastAPI, CollectorRegistry], None]


async def start_plain_serving(app: FastAPI, state: ServiceState, stack: AsyncExitStack) -> None:
    assert state.schemas is not None
    app.include_router(build_predict_router(state.schemas, state.settings.max_batch_size))


def instrument_plain(app: FastAPI, registry: CollectorRegistry) -> None:
    excluded = [f"^{path}$" for path in UNMEASURED]
    Instrumentator(excluded_handlers=excluded, registry=registry).instrument(app)


PLAIN = ServingMode("plain", load_served_model, lambda model: model, start_plain_serving, instrument_plain)
FAST = ServingMode("fast", load_in_child_process, with_numpy_path, start_fast_serving, add_http_metrics)


def serving_mode(name: str, model_loader: ModelLoader | None = None) -> ServingMode:
    """The mode SERVING_MODE names; tests, which have MLflow imported already, pass `load_served_model` to load
    in-process in both modes."""
    mode = FAST if name == "fast" else PLAIN
    return mode if model_loader is None else dataclasses.replace(mode, load=model_loader)
