"""The app factory: `uvicorn --factory <package>.service.app:create_app`; the lifespan loads the model."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from .. import __version__
from ..core.api_keys import AccessRule
from ..io.registry_errors import as_user_error
from ..io.registry_login import use_login
from ..io.registry_lookup import registry_version
from ..settings import Settings, get_settings
from ..store.database import checkpoint, create_db_engine, upgrade
from ..store.repository import newest_reload_id, record_model_version
from .api_schemas import build_schemas
from .deps import ServiceState
from .docs_ui import install_docs_ui
from .errors import validation_error_handler
from .logs import configure_logging
from .middleware import ApiKeyMiddleware, BodySizeLimitMiddleware, RequestContextMiddleware
from .model_swap import model_swapping
from .openapi import install_openapi, public_paths
from .prometheus import ServiceMetrics
from .routers import admin, card, feedback, health, latest_report, model_info, scrape
from .routers.predict import build_unavailable_router
from .served_model import ModelLoader
from .serving_modes import ServingMode, serving_mode

logger = logging.getLogger("service")
CHECKPOINT_INTERVAL_S = 1.0


def lookup_version(settings: Settings) -> str | None:
    """The version MODEL_URI names now, when one REST call can tell (a reload then loads only a moved alias)."""
    return registry_version(settings.mlflow_tracking_uri, settings.model_uri)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Migrate the prediction log, load the model, build the schemas from its signature, add the predict routes."""
    settings: Settings = app.state.settings
    mode: ServingMode = app.state.serving_mode
    if not settings.service_keys() and settings.allow_anonymous_feedback:
        # Said at every start, so that nobody leaves a service reachable by others open by accident.
        detail = "no API key is set: anyone who can reach /feedback labels predictions (set API_KEYS, docs/security.md)"
        logger.warning("feedback is open to anyone", extra={"fields": {"detail": detail}})
    engine = create_db_engine(settings.database_url, background_checkpoints=True)
    await anyio.to_thread.run_sync(upgrade, engine)
    state = ServiceState(settings=settings, engine=engine, metrics=app.state.metrics)
    # Before the load: a reload another worker records while this one loads must still be followed (model_swap.py).
    seen_reload = await anyio.to_thread.run_sync(newest_reload_id, engine)
    use_login(settings)  # before the first load, so that fast mode's child process inherits the login too
    try:
        state.model = await anyio.to_thread.run_sync(mode.load, settings)
    except Exception as exc:
        # Stay up without a model: /health answers, /ready and /predict say why (503) until a restart finds one.
        explained = as_user_error(exc)
        state.model_error = f"{settings.model_uri}: {explained or f'{type(exc).__name__}: {exc}'}"
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
            # Added now because the request schema comes from the model; /docs is generated after start-up.
            state.schemas = build_schemas(served, settings.max_batch_size)
            state.model = mode.prepare(served)
            await mode.start(app, state, stack)
            # POST /admin/reload, the registry poll and the watch for other workers' reloads (model_swap.py).
            app.state.model_swap = await stack.enter_async_context(
                model_swapping(state, mode.load, mode.prepare, lookup_version, settings.model_poll_seconds, seen_reload)
            )
            fields = {"model": served.name, "version": served.version, "serving_mode": settings.serving_mode}
            logger.info("model loaded", extra={"fields": fields})
        app.state.service = state
        try:
            yield
        finally:
            app.state.service = None
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


def create_app(settings: Settings | None = None, model_loader: ModelLoader | None = None) -> FastAPI:
    """A new app for these settings (the environment's by default); nothing is loaded until the lifespan runs.

    SERVING_MODE picks how the model is loaded and served (serving_modes.py); tests, which have MLflow imported
    already, pass `load_served_model` to load it in-process in both modes.
    """
    settings = settings or get_settings()
    mode = serving_mode(settings.serving_mode, model_loader)
    configure_logging()
    app = FastAPI(
        title=f"{settings.model_name} prediction service",
        version=__version__,
        description="Predictions from the MLflow registry's model, logged with their feedback.",
        lifespan=lifespan,
        # FastAPI's pages would load their scripts from a CDN: docs_ui.py serves them from the package instead.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.serving_mode = mode
    app.state.service = None
    app.state.model_swap = None
    app.state.metrics = ServiceMetrics()
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.include_router(health.router)
    app.include_router(model_info.router)
    app.include_router(card.router)
    app.include_router(feedback.router)
    app.include_router(latest_report.router)
    app.include_router(scrape.router)
    app.include_router(admin.router)
    install_docs_ui(app)
    keys = settings.service_keys()
    public = public_paths(app)
    # The same public paths are left open by the middleware and undocumented as protected in /docs.
    install_openapi(app, public if keys else None)
    # Inside the request middleware, so that refused requests are logged and counted too; inside CORS, so that
    # preflights pass.
    app.add_middleware(ApiKeyMiddleware, rule=AccessRule(keys, public, settings.allow_anonymous_feedback))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", "X-Request-ID"],
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Outside those, so that even a 413 or a CORS refusal carries a request id and an access log line.
    app.add_middleware(RequestContextMiddleware)
    # Added last, so outermost: every answer is counted, refusals included.
    mode.instrument(app, app.state.metrics.registry)
    return app
