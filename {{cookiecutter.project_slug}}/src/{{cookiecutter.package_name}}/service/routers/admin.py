"""POST /admin/reload: serve the version MODEL_URI names now, without a restart (the work is in model_swap.py)."""

import ipaddress
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from ..deps import SettingsDep
from ..model_swap import ModelRefusedError, ModelSwap, RegistryUnreadableError
from .predict import log_unavailable


class ReloadOut(BaseModel):
    status: Literal["reloaded", "unchanged"]
    previous_version: str
    version: str
    model_uri: str


def client_host(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # not an address at all (a test client's name, a Unix socket): not provably local


async def admin_client(request: Request, settings: SettingsDep) -> str:
    """Who asks, once allowed: with API_KEY set the middleware checked the key; without one, only this machine."""
    host = client_host(request)
    if settings.api_key is None and not is_loopback(host):
        detail = "admin routes answer only clients on this machine while API_KEY is unset: set API_KEY to allow others"
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail)
    return host


async def get_model_swap(request: Request) -> ModelSwap:
    swap: ModelSwap | None = getattr(request.app.state, "model_swap", None)
    if swap is None:
        detail = "no model was loaded at start, so there are no predict routes to swap it under: restart the service"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail)
    return swap


router = APIRouter(prefix="/admin", tags=["admin"])


@router.post(
    "/reload",
    response_model=ReloadOut,
    responses={
        403: {"description": "API_KEY is unset and the client is not on this machine"},
        409: {"description": "The new version was refused (another signature, task or classes); the old one serves"},
        503: {"description": "The registry or the prediction log could not be read; the old version serves"},
    },
)
async def reload(
    requested_by: Annotated[str, Depends(admin_client)], swap: Annotated[ModelSwap, Depends(get_model_swap)]
) -> ReloadOut:
    """Resolve MODEL_URI again and swap to the version it names, once loaded and checked beside the served one.

    Answers once this worker serves it; the other workers and replicas sharing the prediction log follow within
    seconds. In-flight requests finish, and are logged, with the version they started on.
    """
    try:
        result = await swap.reload(requested_by)
    except ModelRefusedError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except RegistryUnreadableError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except SQLAlchemyError as exc:
        # Its version's row is written before the swap (so a failure there leaves the old model serving), the
        # reload's row after it (the other workers do not follow until a reload succeeds).
        raise log_unavailable(exc) from exc
    return ReloadOut(
        status=result.status,
        previous_version=result.previous_version,
        version=result.version,
        model_uri=result.model_uri,
    )
