"""POST /predict and /predict/batch: validate against the signature, predict, commit the log row, then answer.

This is the reference path (SERVING_MODE=plain), readable top to bottom: the route below, its dependencies in
deps.py, `ServedModel.predict` in served_model.py (one DataFrame, the pipeline's own steps), `insert_predictions` in
store/repository.py (one transaction). Fast mode answers the same through service/fast/.

A request is judged alone. A record the model cannot score (see unscorable.py) is a 422 naming the feature, and the
requests batched with it are answered as usual. A batch request stands or falls whole: one unscorable record refuses
it with every bad record's index and feature, and none of its records is logged.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ...store.ids import new_ids
from ...store.repository import insert_predictions
from ...store.tables import utcnow
from ..api_schemas import Schemas
from ..deps import ModelDep, StateDep
from ..logs import REQUEST_ID
from ..served_model import ServedModel
from ..unscorable import Unscorable

# (features keyed by original name, request id) in; the JSON-ready answer, or why it cannot be scored, out.
Item = tuple[dict[str, Any], str | None]
Answer = dict[str, Any] | Unscorable
# In place of the answers of a refused batch request's good records: nothing was logged or answered for them.
NOT_SCORED: dict[str, Any] = {}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"description": "No model loaded, or the prediction log is down"}}


def predict_and_log(model: ServedModel, engine: Engine, items: list[Item], whole: bool = False) -> list[Answer]:
    """One model call and one committed transaction for the scorable records of the batch.

    `whole` (one batch request): when any record is unscorable, nothing is logged and only the refusals count.
    """
    outputs = model.predict([features for features, _ in items])
    if whole and any(isinstance(output, Unscorable) for output in outputs):
        return [output if isinstance(output, Unscorable) else NOT_SCORED for output in outputs]
    scored = [(item, output) for item, output in zip(items, outputs, strict=True) if not isinstance(output, Unscorable)]
    now = utcnow()
    rows = [
        {
            "id": prediction_id,
            "created_at": now,
            "model_name": model.name,
            "model_version": model.version,
            "request_id": request_id,
            "features": features,
            "prediction": output.prediction,
            "probabilities": output.probabilities,
            "out_of_range": model.out_of_range(features),
        }
        for prediction_id, ((features, request_id), output) in zip(new_ids(len(scored)), scored, strict=True)
    ]
    if rows:
        insert_predictions(engine, rows)
    # Answered only now: every prediction a client receives is already committed.
    answers = iter(
        {
            "prediction_id": str(row["id"]),
            "prediction": row["prediction"],
            "probabilities": row["probabilities"],
            "model_version": model.version,
        }
        for row in rows
    )
    return [output if isinstance(output, Unscorable) else next(answers) for output in outputs]


def unscorable_error(refusals: list[tuple[tuple[int | str, ...], Unscorable]]) -> RequestValidationError:
    """A 422 in FastAPI's validation shape: where each refused record's feature is in the body, and why."""
    return RequestValidationError(
        [
            {
                "type": "unscorable",
                "loc": ("body", *where, *([refusal.feature] if refusal.feature is not None else [])),
                "msg": refusal.message,
                "input": refusal.value,
            }
            for where, refusal in refusals
        ]
    )


def refuse_unscorable_batch(answers: list[Answer]) -> None:
    """All or nothing: a 422 listing every record of the batch that cannot be scored, by its index, if there is one."""
    refusals: list[tuple[tuple[int | str, ...], Unscorable]] = [
        ((index,), answer) for index, answer in enumerate(answers) if isinstance(answer, Unscorable)
    ]
    if refusals:
        raise unscorable_error(refusals)


def log_unavailable(exc: SQLAlchemyError) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"prediction log unavailable: {type(exc).__name__}")


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
