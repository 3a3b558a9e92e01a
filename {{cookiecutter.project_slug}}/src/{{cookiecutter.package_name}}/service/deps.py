"""The service's state and the `Annotated` dependencies that routes declare (tests override them, not globals)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine

from ..settings import Settings
from .api_schemas import Schemas
from .prometheus import ServiceMetrics
from .served_model import ServedModel


@dataclass
class ServiceState:
    """What the lifespan sets up: the engine always, the model and its schemas when the model could be loaded.

    `model` is the one place the served model lives: every request reads it when it starts scoring (the routes
    through ModelDep, fast mode's batcher once per batch), so replacing the model is one assignment here, and a
    request already scoring finishes with the model it read.
    """

    settings: Settings
    engine: Engine
    metrics: ServiceMetrics
    model: ServedModel | None = None
    model_error: str | None = None
    schemas: Schemas | None = None

    def serving(self) -> ServedModel:
        """The served model, or 503 with the reason it could not be loaded."""
        if self.model is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"no model loaded: {self.model_error}")
        return self.model


# Dependencies are `async def` although they never await: FastAPI runs a plain `def` dependency in its thread pool,
# a thread hop per dependency per request.
async def get_state(request: Request) -> ServiceState:
    state: ServiceState | None = getattr(request.app.state, "service", None)
    if state is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service is starting")
    return state


async def get_model(state: Annotated[ServiceState, Depends(get_state)]) -> ServedModel:
    return state.serving()


async def get_caller(request: Request) -> str:
    """Who sent the request: the name of the API key the middleware accepted, or "anonymous" (middleware.py)."""
    caller: str = request.state.caller
    return caller


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StateDep = Annotated[ServiceState, Depends(get_state)]
ModelDep = Annotated[ServedModel, Depends(get_model)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CallerDep = Annotated[str, Depends(get_caller)]
