"""POST /admin/reload: serve the version MODEL_URI names now, without a restart (the work is in model_swap.py).

It answers within REPLY_WITHIN_S: the outcome when the reload finished by then, else 202 with the reload's id and
`location`, GET /admin/reload/{id}, which answers as the POST would have once the reload is done. Calls made while
a reload is in flight join it (model_swap.py's start_reload), so a burst of them costs one load.
"""

import asyncio
import ipaddress
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from ..deps import SettingsDep
from ..model_swap import KEPT_RELOADS, ModelRefusedError, ModelSwap, RegistryUnreadableError
from ..prediction import log_unavailable

# Well below a second, so that a client's 1-second read timeout (a fuzzer's, a probe's) does not fire while a
# slow model loads, even on a busy machine; a load that finishes sooner is answered with its outcome.
REPLY_WITHIN_S = 0.5


class ReloadOut(BaseModel):
    status: Literal["reloaded", "unchanged"]
    previous_version: str
    version: str
    model_uri: str


class ReloadPendingOut(BaseModel):
    status: Literal["running"]
    id: str
    location: str


def client_host(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # not an address at all (a test client's name, a Unix socket): not provably local


async def admin_client(request: Request, settings: SettingsDep) -> str:
    """Who asks, once allowed: with keys set the middleware checked for the admin scope; without, only this machine."""
    host = client_host(request)
    if not settings.service_keys() and not is_loopback(host):
        detail = (
            "admin routes answer only clients on this machine while no API key is set: set API_KEYS (a key with "
            "the admin scope) or API_KEY to allow others"
        )
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail)
    return host


async def get_model_swap(request: Request) -> ModelSwap:
    swap: ModelSwap | None = getattr(request.app.state, "model_swap", None)
    if swap is None:
        detail = "no model was loaded at start, so there are no predict routes to swap it under: restart the service"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail)
    return swap


router = APIRouter(prefix="/admin", tags=["admin"])
SwapDep = Annotated[ModelSwap, Depends(get_model_swap)]
OUTCOMES: dict[int | str, dict[str, object]] = {
    202: {"model": ReloadPendingOut, "description": "Still loading: GET `location` for the outcome"},
    403: {"description": "The key lacks the admin scope, or no key is set and the client is not on this machine"},
    409: {"description": "The new version was refused (another signature, task or classes); the old one serves"},
    503: {"description": "The registry or the prediction log could not be read; the old version serves"},
}


async def outcome(swap: ModelSwap, reload_id: str) -> ReloadOut | JSONResponse:
    """The reload's outcome if it finishes within REPLY_WITHIN_S, else 202 naming where to ask again."""
    task = swap.reloads[reload_id]
    # asyncio.wait leaves the reload running when the time is up or this caller goes away; others may share it.
    await asyncio.wait({task}, timeout=REPLY_WITHIN_S)
    if not task.done():
        location = f"{router.prefix}/reload/{reload_id}"
        pending = ReloadPendingOut(status="running", id=reload_id, location=location)
        return JSONResponse(pending.model_dump(), status.HTTP_202_ACCEPTED, headers={"Location": location})
    try:
        result = task.result()
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


@router.post("/reload", response_model=ReloadOut, responses=OUTCOMES)
async def reload(requested_by: Annotated[str, Depends(admin_client)], swap: SwapDep) -> ReloadOut | JSONResponse:
    """Resolve MODEL_URI again and swap to the version it names, once loaded and checked beside the served one.

    Answers once this worker serves it, or with 202 after REPLY_WITHIN_S while it still loads; the other workers
    and replicas sharing the prediction log follow within seconds. In-flight requests finish, and are logged, with
    the version they started on.
    """
    return await outcome(swap, swap.start_reload(requested_by))


# The ids start_reload hands out (12 hex digits): anything else is a 422 naming the path, never a lookup.
ReloadId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$", description="the id a 202 from POST /admin/reload gave")]


@router.get(
    "/reload/{reload_id}",
    response_model=ReloadOut,
    dependencies=[Depends(admin_client)],
    responses=OUTCOMES | {404: {"description": "This worker knows no reload by that id: POST /admin/reload again"}},
)
async def reload_outcome(reload_id: ReloadId, swap: SwapDep) -> ReloadOut | JSONResponse:
    """The outcome of the reload a POST answered 202 for, as the POST would have given it (202 while it loads)."""
    if reload_id not in swap.reloads:
        detail = (
            f"no reload {reload_id!r} on this worker: it is older than the last {KEPT_RELOADS}, or another worker of "
            "the service took the POST; POST /admin/reload again (it answers `unchanged` when nothing moved)"
        )
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail)
    return await outcome(swap, reload_id)
