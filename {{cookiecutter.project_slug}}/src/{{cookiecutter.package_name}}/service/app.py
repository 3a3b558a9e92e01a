"""The app factory: `uvicorn --factory <package>.service.app:create_app`; the lifespan loads the model."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial

import anyio.to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from .. import __version__
from ..settings import Settings, get_settings
from ..store.database import checkpoint, create_db_engine, upgrade
from ..store.repository import record_model_version
from .batching import MicroBatcher
from .deps import ServiceState
from .errors import validation_error_handler
from .loader import load_in_child_process
from .logs import configure_logging
from .metrics import ServiceMetrics
from .middleware import ApiKeyMiddleware, BodySizeLimitMiddleware, RequestContextMiddleware
from .model import ServedModel
from .openapi import install_openapi, public_paths
from .routers import feedback, health, metrics, model, monitoring
from .routers.predict import build_predict_router, build_unavailable_router, predict_and_log
from .schemas import build_schemas

logger = logging.getLogger("service")
ModelLoader = Callable[[Settings], ServedModel]
# Probes and scrapes are left out of the HTTP metrics: their steady beat would drown the real traffic.
UNMEASURED = frozenset({"/metrics", "/health", "/ready"})
CHECKPOINT_INTERVAL_S = 1.0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Migrate the prediction log, load the model, build the schemas from its signature, start the batcher."""
    settings: Settings = app.state.settings
    load_model: ModelLoader = app.state.model_loader
    engine = create_db_engine(settings.database_url, background_checkpoints=True)
    await anyio.to_thread.run_sync(upgrade, engine)
    state = ServiceState(settings=settings, engine=engine, metrics=app.state.metrics)
    try:
        state.model = await anyio.to_thread.run_sync(load_model, settings)
    except Exception as exc:
        # Stay up without a model: /health answers, /ready and /predict say why (503) until a restart finds one.
        state.model_error = f"{settings.model_uri}: {type(exc).__name__}: {exc}"
        logger.error("model not loaded", extra={"fields": {"model_uri": settings.model_uri, "error": str(exc)}})
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(periodic_checkpoints(engine))
        if state.model is None:
            app.include_router(build_unavailable_router())
        else:
            served = state.model
            await anyio.to_thread.run_sync(
                record_model_version, engine, served.name, served.version, served.run_id, served.lineage
            )
            state.schemas = build_schemas(served, settings.max_batch_size)
            process = partial(predict_and_log, served, engine)
            # A batch's insert into a local SQLite file is a short write: the batch runs on the event loop (see
            # MicroBatcher). A server database is a network round trip, which a thread waits for instead.
            in_thread = engine.dialect.name != "sqlite"
            state.batcher = await stack.enter_async_context(
                MicroBatcher(process, settings.microbatch_max_size, settings.microbatch_wait_ms, in_thread)
            )
            # Added now because the request schema comes from the model; /docs is generated after start-up.
            counters = state.metrics.for_version(served.version)
            existing = len(app.router.routes)
            app.include_router(build_predict_router(state.schemas, settings.max_batch_size, counters))
            # The hot routes first: every request is matched against the routes in order.
            # Whatever include_router appended (one entry or one per route, by FastAPI version) moves to the front.
            added = app.router.routes[existing:]
            app.router.routes[:] = [*added, *app.router.routes[:existing]]
            logger.info("model loaded", extra={"fields": {"model": served.name, "version": served.version}})
        app.state.service = state
        # Everything loaded so far (libraries, the model) lives as long as the process: moving it out of the cyclic
        # garbage collector's generations spares each collection from scanning it, which costs throughput otherwise.
        gc.freeze()
        try:
            yield
        finally:
            app.state.service = None
            gc.unfreeze()
    engine.dispose()


@asynccontextmanager
async def periodic_checkpoints(engine: Engine) -> AsyncIterator[None]:
    """SQLite: move the WAL into the database file every CHECKPOINT_INTERVAL_S, in a thread (see database.py)."""

    async def run() -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            try:
                await anyio.to_thread.run_sync(checkpoint, engine)
            except Exception as exc:
                # A missed checkpoint only lets the WAL grow until the next one (or SQLite's own, at a bound).
                logger.warning("checkpoint failed", extra={"fields": {"error": f"{type(exc).__name__}: {exc}"}})

    if engine.dialect.name != "sqlite":
        yield
        return
    task = asyncio.create_task(run(), name="sqlite-checkpoints")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(settings: Settings | None = None, model_loader: ModelLoader = load_in_child_process) -> FastAPI:
    """A new app for these settings (the environment's by default); nothing is loaded until the lifespan runs.

    The model is fetched in a child process, which keeps MLflow out of the service's memory; tests, which have
    MLflow imported already, pass `model.load_served_model` to fetch it in-process.
    """
    settings = settings or get_settings()
    configure_logging()
    app = FastAPI(
        title=f"{settings.model_name} prediction service",
        version=__version__,
        description="Predictions from the MLflow registry's model, logged with their feedback.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.model_loader = model_loader
    app.state.service = None
    app.state.metrics = ServiceMetrics()
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.include_router(health.router)
    app.include_router(model.router)
    app.include_router(feedback.router)
    app.include_router(monitoring.router)
    app.include_router(metrics.router)
    api_key = settings.api_key.get_secret_value() if settings.api_key else None
    public = public_paths(app)
    # The same public paths are left open by the middleware and undocumented as protected in /docs.
    install_openapi(app, public if api_key is not None else None)
    # Inside the request middleware, so that refused requests are logged and counted too; inside CORS, so that
    # preflights pass.
    app.add_middleware(ApiKeyMiddleware, api_key=api_key, public_paths=public)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", "X-Request-ID"],
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Added last, so outermost: even a 413 or a CORS refusal carries a request id, an access log line and a count.
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics.http, unmeasured=UNMEASURED)
    return app
