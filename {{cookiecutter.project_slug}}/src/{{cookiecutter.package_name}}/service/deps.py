"""The service's state and the `Annotated` dependencies that routes declare (tests override them, not globals)."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine

from ..settings import Settings
from .batching import MicroBatcher
from .metrics import ServiceMetrics
from .model import ServedModel
from .schemas import Schemas


@dataclass
class ServiceState:
    """What the lifespan sets up: the engine always, the model and its batcher when the model could be loaded."""

    settings: Settings
    engine: Engine
    metrics: ServiceMetrics
    model: ServedModel | None = None
    model_error: str | None = None
    schemas: Schemas | None = None
    batcher: MicroBatcher[Any, Any] | None = None


# Dependencies are `async def` although they never await: FastAPI runs a plain `def` dependency in its thread pool,
# a thread hop per dependency per request.
async def get_state(request: Request) -> ServiceState:
    state: ServiceState | None = getattr(request.app.state, "service", None)
    if state is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service is starting")
    return state


async def get_model(state: Annotated[ServiceState, Depends(get_state)]) -> ServedModel:
    if state.model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"no model loaded: {state.model_error}")
    return state.model


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StateDep = Annotated[ServiceState, Depends(get_state)]
ModelDep = Annotated[ServedModel, Depends(get_model)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
