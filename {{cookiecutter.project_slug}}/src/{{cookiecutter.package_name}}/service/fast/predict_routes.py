"""Fast mode's POST /predict and /predict/batch: one-pass JSON routes that answer from shared micro-batches.

Same contract as routers/predict.py (plain mode), which is the reference: same validation, the same 422 for an
unscorable record, the same all-or-nothing batch, the same rows logged.
"""

from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Request, Response
from sqlalchemy.exc import SQLAlchemyError

from ..api_schemas import Schemas
from ..deps import ServiceState
from ..logs import REQUEST_ID
from ..prediction import (
    UNAVAILABLE,
    Item,
    log_unavailable,
    predict_and_log,
    refuse_unscorable_batch,
    unscorable_error,
)
from ..unscorable import Unscorable
from .json_route import JsonBodyRoute
from .micro_batching import MicroBatcher


def json_response(content: Any) -> Response:
    # Serialised once with orjson; the declared response_model still documents the shape in /docs.
    return Response(orjson.dumps(content), media_type="application/json")


def add_fast_predict_routes(
    router: APIRouter, state: ServiceState, schemas: Schemas, batcher: MicroBatcher[Item, Any]
) -> None:
    """The predict routes, on JsonBodyRoute: no dependencies to solve, so the lifespan's state is bound here.

    Added to the app's own router rather than included from one of their own: FastAPI matches an included router's
    routes through one more layer, on every request.
    """
    record_type: Any = schemas.record
    records_type: Any = Annotated[list[record_type], Body(min_length=1, max_length=state.settings.max_batch_size)]

    async def predict(request: Request, record: record_type) -> Response:
        """Predict one record; concurrent calls are answered from shared micro-batches.

        422 when the record cannot be scored (a number that overflows once scaled), naming the feature.
        """
        try:
            answer = await batcher.submit((record, REQUEST_ID.get()))
        except SQLAlchemyError as exc:
            raise log_unavailable(exc) from exc
        if isinstance(answer, Unscorable):
            raise unscorable_error([((), answer)])
        state.metrics.count_predictions(answer["model_version"], "single", 1)
        return json_response(answer)

    async def predict_batch(request: Request, records: records_type) -> Response:
        """Predict a list of records (1 to MAX_BATCH_SIZE) in one model call and one transaction.

        All or nothing: if any record cannot be scored, the request is a 422 listing each such record's index and
        feature, and no record of it is logged.
        """
        request_id = REQUEST_ID.get()
        items = [(record, request_id) for record in records]
        model = state.serving()
        try:
            answers = await batcher.run(items, partial(predict_and_log, model, state.engine, whole=True))
        except SQLAlchemyError as exc:
            raise log_unavailable(exc) from exc
        refuse_unscorable_batch(answers)
        state.metrics.count_predictions(model.version, "batch", len(answers))
        return json_response({"predictions": answers})

    for path, endpoint, response_model in [
        ("/predict", predict, schemas.prediction),
        ("/predict/batch", predict_batch, schemas.batch),
    ]:
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            response_model=response_model,
            responses=UNAVAILABLE,
            tags=["predict"],
            route_class_override=JsonBodyRoute,
        )
