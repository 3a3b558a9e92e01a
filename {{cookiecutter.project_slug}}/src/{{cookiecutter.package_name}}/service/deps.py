"""The service's state and the `Annotated` dependencies that routes declare (tests override them, not globals)."""

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Engine

from ..settings import Settings
from .batching import MicroBatcher
from .model import ServedModel
from .schemas import Schemas


class ServiceMetrics:
    """Business counters exposed on /metrics beside the HTTP metrics, in the app's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.predictions = Counter(
            "model_predictions", "Predictions logged", ["model_version", "endpoint"], registry=registry
        )
        self.feedback = Counter("model_feedback", "Feedback received", ["outcome"], registry=registry)


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


async def require_api_key(
    settings: Annotated[Settings, Depends(get_settings_dep)],
    x_api_key: Annotated[str | None, Header(description="Required when the service has API_KEY set")] = None,
) -> None:
    """With API_KEY set, refuse requests without the same key (constant-time comparison)."""
    if settings.api_key is None:
        return
    expected = settings.api_key.get_secret_value().encode()
    if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong X-API-Key", {"WWW-Authenticate": "API-Key"})


StateDep = Annotated[ServiceState, Depends(get_state)]
ModelDep = Annotated[ServedModel, Depends(get_model)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ApiKey = Depends(require_api_key)
