"""Swap the served model without a restart: load the new version beside the old one, check it, then assign it.

Three ways in, one path (`ModelSwap._swap`):

| Trigger                    | Where                  | What it loads                                      |
|----------------------------|------------------------|----------------------------------------------------|
| POST /admin/reload         | routers/admin.py       | MODEL_URI resolved again (the alias as it is now)  |
| MODEL_POLL_SECONDS         | `model_swapping` below | the same, every N seconds                          |
| another worker's reload    | `model_swapping` below | the exact version that worker recorded             |

Before loading, a reload asks which version MODEL_URI names now (`io/registry_lookup.py`: one REST call to an
MLflow server); when that is the version served, it answers `unchanged` without loading anything.

Every swap is recorded in the prediction log's model_reloads table, and every worker reads the newest row about
once a second. So the other workers of `serve --workers N`, and other replicas sharing the database, follow a
reload whichever worker received it, without knowing about each other.

Reloads asked for while one is in flight join it instead of queueing behind it (`start_reload`): a burst of
POST /admin/reload costs one load, and every caller gets that load's outcome.
"""

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import anyio.to_thread

from ..settings import Settings
from ..store.repository import latest_reload, record_model_version, record_reload
from .deps import ServiceState
from .replacement import refusal
from .served_model import ModelLoader, ServedModel

logger = logging.getLogger("service")
# The version MODEL_URI names now, or None when only loading it can tell (io/registry_lookup.py).
VersionLookup = Callable[[Settings], str | None]
Prepare = Callable[[ServedModel], ServedModel]
# How often each worker looks for a reload made by another one: one small read of the prediction log.
WATCH_INTERVAL_S = 1.0
# How many finished reloads each worker remembers for GET /admin/reload/{id}; older ids answer 404.
KEPT_RELOADS = 32


class ModelRefusedError(Exception):
    """The new version does not fit the running service (request schema, task or classes); the message says how."""


class RegistryUnreadableError(Exception):
    """MODEL_URI could not be resolved or loaded from the registry; the message says why."""


@dataclass(frozen=True)
class Reload:
    """What a reload did: `unchanged` when MODEL_URI still names the served version."""

    status: Literal["reloaded", "unchanged"]
    previous_version: str
    version: str
    model_uri: str


class ModelSwap:
    """Replaces `state.model` in one assignment; a lock keeps a reload, the poll and the watch from overlapping."""

    def __init__(self, state: ServiceState, load: ModelLoader, prepare: Prepare, lookup: VersionLookup) -> None:
        self.state = state
        self.load = load
        self.prepare = prepare
        self.lookup = lookup
        self.lock = asyncio.Lock()
        # The newest model_reloads id this worker has applied or made: only a larger one is news.
        self.seen_reload = 0
        # Reloads by id, the newest last: the one in flight, if any, and the last KEPT_RELOADS finished ones.
        self.reloads: dict[str, asyncio.Task[Reload]] = {}
        self.in_flight: str | None = None

    def current(self) -> ServedModel:
        if self.state.model is None:
            raise RegistryUnreadableError(f"no model was loaded at start: {self.state.model_error}")
        return self.state.model

    def start_reload(self, requested_by: str) -> str:
        """The id of the reload in flight, joined rather than repeated, or of a new one started now.

        Joining is safe because a reload has no argument: it serves what MODEL_URI names when it runs.
        """
        if self.in_flight is not None and not self.reloads[self.in_flight].done():
            return self.in_flight
        reload_id = uuid.uuid4().hex[:12]
        task = asyncio.create_task(self._reload(requested_by))
        # Retrieved here so that a failure nobody asks about is not reported as "never retrieved"; callers read it.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        self.reloads[reload_id] = task
        self.in_flight = reload_id
        for old in list(self.reloads)[:-KEPT_RELOADS]:
            del self.reloads[old]
        return reload_id

    async def reload(self, requested_by: str) -> Reload:
        """Start a reload (or join the one in flight) and wait for its outcome; the registry poll uses this."""
        return await asyncio.shield(self.reloads[self.start_reload(requested_by)])

    async def _reload(self, requested_by: str) -> Reload:
        """Resolve MODEL_URI again and serve what it names now; recorded, so that the other workers follow."""
        settings = self.state.settings
        async with self.lock:
            current = self.current()
            if await anyio.to_thread.run_sync(self.lookup, settings) == current.version:
                return Reload("unchanged", current.version, current.version, settings.model_uri)
            candidate = await self._load(settings)
            if candidate.version == current.version:
                return Reload("unchanged", current.version, current.version, settings.model_uri)
            await self._swap(current, candidate, requested_by)
            self.seen_reload = await anyio.to_thread.run_sync(
                record_reload, self.state.engine, candidate.name, candidate.version, requested_by
            )
        return Reload("reloaded", current.version, candidate.version, settings.model_uri)

    async def follow_recorded_reload(self) -> None:
        """Serve the version of a reload recorded since the last look (by another worker or replica), if any."""
        async with self.lock:
            current = self.current()
            newest = await anyio.to_thread.run_sync(latest_reload, self.state.engine, current.name)
            if newest is None or newest[0] <= self.seen_reload:
                return
            reload_id, version = newest
            if version != current.version:
                # That exact version, not MODEL_URI again: the alias may have moved since, and all workers should agree.
                pinned = self.state.settings.model_copy(update={"model_uri": f"models:/{current.name}/{version}"})
                # A refusal is logged by _swap; the same version would be refused again, so it is not retried.
                with contextlib.suppress(ModelRefusedError):
                    await self._swap(current, await self._load(pinned), f"reload {reload_id}")
            self.seen_reload = reload_id

    async def _load(self, settings: Settings) -> ServedModel:
        try:
            return await anyio.to_thread.run_sync(self.load, settings)
        except Exception as exc:
            raise RegistryUnreadableError(f"cannot load {settings.model_uri}: {type(exc).__name__}: {exc}") from exc

    async def _swap(self, current: ServedModel, candidate: ServedModel, requested_by: str) -> None:
        fields = {"previous_version": current.version, "version": candidate.version, "requested_by": requested_by}
        reason = await anyio.to_thread.run_sync(refusal, current, candidate)
        if reason is not None:
            logger.warning("model refused", extra={"fields": fields | {"reason": reason}})
            raise ModelRefusedError(f"{reason}; restart the service to serve it")
        # Loaded by version when following another worker: keep reporting the alias the service was started on.
        served = await anyio.to_thread.run_sync(self.prepare, dataclasses.replace(candidate, alias=current.alias))
        # Before the swap: each logged prediction points at its version's row (a foreign key).
        await anyio.to_thread.run_sync(
            record_model_version, self.state.engine, served.name, served.version, served.run_id, served.lineage
        )
        # The swap. A request that already read the old model finishes and is logged with it; the next one reads this.
        self.state.model = served
        logger.info("model swapped", extra={"fields": fields})


async def _every(seconds: float, step: Callable[[], Any], what: str) -> None:
    """Run `step` every `seconds` until cancelled; a failure is logged and the next round tries again.

    An outage is logged once when it starts and once when it ends, not at every round: a registry that is down
    for an hour under a 5-second poll would otherwise bury the log in 720 copies of one line.
    """
    failing_since: float | None = None
    while True:
        await asyncio.sleep(seconds)
        try:
            await step()
        except Exception as exc:
            # A registry or database that is down now may be back next round: the service keeps serving meanwhile.
            if failing_since is None:
                failing_since = time.monotonic()
                known = isinstance(exc, RegistryUnreadableError | ModelRefusedError)
                error = str(exc) if known else f"{type(exc).__name__}: {exc}"
                fields = {"error": error, "next": f"retrying every {seconds:g} s; the loaded model keeps serving"}
                logger.warning(f"{what} failed", extra={"fields": fields})
            continue
        if failing_since is not None:
            down_s = round(time.monotonic() - failing_since, 1)
            logger.info(f"{what} works again", extra={"fields": {"failed_for_s": down_s}})
            failing_since = None


@asynccontextmanager
async def model_swapping(
    state: ServiceState,
    load: ModelLoader,
    prepare: Prepare,
    lookup: VersionLookup,
    poll_seconds: float,
    seen_reload: int,
) -> AsyncIterator[ModelSwap]:
    """A ModelSwap for the served model, with its background tasks: the watch always, the poll when asked.

    `seen_reload` is the newest reload id read BEFORE the model was loaded: those reloads are in what MODEL_URI
    named at load time. One recorded by another worker while this one was still loading is newer, so it is followed.
    """
    swap = ModelSwap(state, load, prepare, lookup)
    swap.seen_reload = seen_reload
    watch = _every(WATCH_INTERVAL_S, swap.follow_recorded_reload, "reload watch")
    tasks: list[asyncio.Task[Any]] = [asyncio.create_task(watch)]
    if poll_seconds > 0:
        tasks.append(asyncio.create_task(_every(poll_seconds, lambda: swap.reload("poll"), "registry poll")))
    try:
        yield swap
    finally:
        tasks += [task for task in swap.reloads.values() if not task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
