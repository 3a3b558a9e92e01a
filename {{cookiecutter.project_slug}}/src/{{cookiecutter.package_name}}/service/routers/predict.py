"""POST /predict and /predict/batch: validate against the signature, predict, commit the log row, then answer."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, HTTPException, Request, Response, status
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ...store.ids import new_ids
from ...store.repository import insert_predictions
from ...store.tables import utcnow
from ..deps import ModelDep, ServiceState
from ..jsonroute import JsonBodyRoute
from ..logs import REQUEST_ID
from ..metrics import PredictionCounters
from ..model import ServedModel
from ..schemas import Schemas

# (features keyed by original name, request id) in; the JSON-ready answer out.
Item = tuple[dict[str, Any], str | None]
UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"description": "No model loaded, or the prediction log is down"}}


def predict_and_log(model: ServedModel, engine: Engine, items: list[Item]) -> list[dict[str, Any]]:
    """One model call and one committed transaction for the batch (runs in a worker thread)."""
    outputs = model.predict([features for features, _ in items])
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
        }
        for prediction_id, (features, request_id), output in zip(new_ids(len(items)), items, outputs, strict=True)
    ]
    insert_predictions(engine, rows)
    # Answered only now: every prediction a client receives is already committed.
    return [
        {
            "prediction_id": str(row["id"]),
            "prediction": row["prediction"],
            "probabilities": row["probabilities"],
            "model_version": model.version,
        }
        for row in rows
    ]


def log_unavailable(exc: SQLAlchemyError) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"prediction log unavailable: {type(exc).__name__}")


def json_response(content: Any) -> Response:
    # Serialised once with orjson; the declared response_model still documents the shape in /docs.
    return Response(orjson.dumps(content), media_type="application/json")


def serving_state(request: Request) -> ServiceState:
    """The lifespan's state with a model (the predict routes exist only then), or 503 while shutting down."""
    state: ServiceState | None = request.app.state.service
    if state is None or state.model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service is not serving a model")
    return state


def build_predict_router(schemas: Schemas, max_batch_size: int, counters: PredictionCounters) -> APIRouter:
    """The predict routes, typed with the schemas built from the served model's signature.

    They are the hot path, so they use JsonBodyRoute (one-pass JSON validation, no dependencies to solve).
    """
    router = APIRouter(tags=["predict"], route_class=JsonBodyRoute)
    record_type: Any = schemas.record
    records_type: Any = Annotated[list[record_type], Body(min_length=1, max_length=max_batch_size)]

    @router.post("/predict", response_model=schemas.prediction, responses=UNAVAILABLE)
    async def predict(request: Request, record: record_type) -> Response:
        """Predict one record; concurrent calls are answered from shared micro-batches."""
        state = serving_state(request)
        assert state.batcher is not None
        try:
            answer = await state.batcher.submit((record, REQUEST_ID.get()))
        except SQLAlchemyError as exc:
            raise log_unavailable(exc) from exc
        counters.single.inc()
        return json_response(answer)

    @router.post("/predict/batch", response_model=schemas.batch, responses=UNAVAILABLE)
    async def predict_batch(request: Request, records: records_type) -> Response:
        """Predict a list of records (1 to MAX_BATCH_SIZE) in one model call and one transaction."""
        state = serving_state(request)
        assert state.batcher is not None
        request_id = REQUEST_ID.get()
        items = [(record, request_id) for record in records]
        try:
            answers = await state.batcher.run(items)
        except SQLAlchemyError as exc:
            raise log_unavailable(exc) from exc
        counters.batch.inc(len(answers))
        return json_response({"predictions": answers})

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
