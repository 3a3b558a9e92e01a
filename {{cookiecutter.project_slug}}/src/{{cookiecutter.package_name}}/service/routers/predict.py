"""POST /predict and /predict/batch in plain mode: validate against the signature, predict and log, then answer.

This is the reference path (SERVING_MODE=plain), readable top to bottom: the routes below, their dependencies in
deps.py, the shared prediction step in prediction.py (`ServedModel.predict` in served_model.py: one DataFrame, the
pipeline's own steps; `insert_predictions` in store/repository.py: one transaction). Fast mode answers the same
through service/fast/.

A request is judged alone. A record the model cannot score (see unscorable.py) is a 422 naming the feature, and the
requests batched with it are answered as usual. A batch request stands or falls whole: one unscorable record refuses
it with every bad record's index and feature, and none of its records is logged.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body
from sqlalchemy.exc import SQLAlchemyError

from ..api_schemas import Schemas
from ..deps import ModelDep, StateDep
from ..logs import REQUEST_ID
from ..prediction import UNAVAILABLE, log_unavailable, predict_and_log, refuse_unscorable_batch, unscorable_error
from ..unscorable import Unscorable


def build_predict_router(schemas: Schemas, max_batch_size: int) -> APIRouter:
    """The predict routes, typed with the schemas built from the served model's signature at start."""
    router = APIRouter(tags=["predict"])
    record_type: Any = schemas.record
    records_type: Any = Annotated[list[record_type], Body(min_length=1, max_length=max_batch_size)]

    # Plain `def` routes: FastAPI runs them in its thread pool, where the model and the database may block. As
    # `async def` they would block the event loop instead: while one request waits on the database, no other would
    # start (docs/performance.md).
    @router.post("/predict", response_model=schemas.prediction, responses=UNAVAILABLE)
    def predict(record: record_type, model: ModelDep, state: StateDep) -> dict[str, Any]:
        """Predict one record and log it.

        422 when the record cannot be scored (a number that overflows once scaled), naming the feature.
        """
        try:
            [answer] = predict_and_log(model, state.engine, [(record, REQUEST_ID.get())])
        except SQLAlchemyError as exc:
            raise log_unavailable(exc) from exc
        if isinstance(answer, Unscorable):
            raise unscorable_error([((), answer)])
        state.metrics.count_predictions(model.version, "single", 1)
        return answer

    @router.post("/predict/batch", response_model=schemas.batch, responses=UNAVAILABLE)
    def predict_batch(records: records_type, model: ModelDep, state: StateDep) -> dict[str, Any]:
        """Predict a list of records (1 to MAX_BATCH_SIZE) in one model call and one transaction.

        All or nothing: if any record cannot be scored, the request is a 422 listing each such record's index and
        feature, and no record of it is logged.
        """
        request_id = REQUEST_ID.get()
        try:
            answers = predict_and_log(model, state.engine, [(record, request_id) for record in records], whole=True)
        except SQLAlchemyError as exc:
            raise log_unavailable(exc) from exc
        refuse_unscorable_batch(answers)
        state.metrics.count_predictions(model.version, "batch", len(answers))
        return {"predictions": answers}

    return router


def build_unavailable_router() -> APIRouter:
    """Stand-ins while no model could be loaded: 503 with the reason instead of 404."""
    router = APIRouter(tags=["predict"])

    @router.post("/predict", responses=UNAVAILABLE)
    async def predict(model: ModelDep) -> None:
        """Unavailable: no model loaded (see /ready)."""

    @router.post("/predict/batch", responses=UNAVAILABLE)
    async def predict_batch(model: ModelDep) -> None:
        """Unavailable: no model loaded (see /ready)."""

    return router
