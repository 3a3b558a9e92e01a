"""Public probes: /health says the process is alive, /ready that it can serve (model loaded, database reachable)."""

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from ...store.database import ping
from ..deps import StateDep

router = APIRouter(tags=["probes"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: answers as long as the event loop runs (the container's HEALTHCHECK)."""
    return {"status": "alive"}


@router.get("/ready", responses={503: {"description": "Not ready, with the reasons"}})
async def ready(state: StateDep) -> JSONResponse:
    """Readiness: 200 only when a model is loaded and the prediction log answers."""
    reasons: list[str] = []
    if state.model is None:
        reasons.append(f"no model loaded: {state.model_error}")
    try:
        with anyio.fail_after(5):
            await anyio.to_thread.run_sync(ping, state.engine)
    except Exception as exc:
        reasons.append(f"database unreachable: {type(exc).__name__}: {exc}")
    body: dict[str, Any] = {"status": "not ready", "reasons": reasons}
    if not reasons and state.model is not None:
        body = {"status": "ready", "model": state.model.name, "model_version": state.model.version}
    return JSONResponse(body, status.HTTP_503_SERVICE_UNAVAILABLE if reasons else status.HTTP_200_OK)
