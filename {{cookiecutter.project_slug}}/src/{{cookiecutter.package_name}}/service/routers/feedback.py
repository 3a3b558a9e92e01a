"""POST /feedback (idempotent, with corrections) and GET /predictions/{id} (the logged record and its lineage)."""

import uuid
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Response, status
from fastapi.exceptions import RequestValidationError

from ...store.repository import PredictionNotFoundError, add_feedback, get_prediction
from ...store.tables import Feedback
from ..api_schemas import FeedbackIn, FeedbackOut, FeedbackSummary, Lineage, PredictionDetail
from ..deps import CallerDep, ModelDep, StateDep

router = APIRouter(tags=["feedback"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No prediction has this id"}}


def feedback_out(row: Feedback) -> FeedbackOut:
    return FeedbackOut(
        feedback_id=row.id,
        prediction_id=row.prediction_id,
        revision=row.revision,
        created_at=row.created_at,
        actual=row.actual,
        rating=row.rating,
        comment=row.comment,
        source=row.source,
    )


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": FeedbackOut, "description": "Same as the latest feedback: nothing stored"}, **NOT_FOUND},
)
async def post_feedback(
    feedback: FeedbackIn, state: StateDep, model: ModelDep, caller: CallerDep, response: Response
) -> FeedbackOut:
    """Report what really happened. 201 when stored (a different value than before is a correction, the latest
    counts); 200 with the stored row when it repeats the latest feedback (safe to retry).

    The row's `source` is the caller (its API key's name, or `anonymous`), never the body: a label is the most
    powerful input of the loop, and retraining and monitoring weigh each source by it (docs/security.md)."""
    try:
        actual = model.coerce_label(feedback.actual)
    except ValueError as exc:
        # FastAPI's own validation shape, as /predict's 422s: the same handler (errors.py) answers both.
        error = {"type": "value_error", "loc": ("body", "actual"), "msg": str(exc), "input": feedback.actual}
        raise RequestValidationError([error]) from exc
    try:
        row, created = await anyio.to_thread.run_sync(
            add_feedback,
            state.engine,
            feedback.prediction_id,
            actual,
            feedback.rating,
            feedback.comment,
            caller,
        )
    except PredictionNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no prediction {feedback.prediction_id}") from exc
    if not created:
        response.status_code = status.HTTP_200_OK
    outcome = "duplicate" if not created else "created" if row.revision == 1 else "correction"
    state.metrics.feedback.labels(outcome).inc()
    return feedback_out(row)


@router.get("/predictions/{prediction_id}", responses=NOT_FOUND)
async def read_prediction(prediction_id: uuid.UUID, state: StateDep) -> PredictionDetail:
    """The logged input and output, the feedback history (latest counts) and the lineage of the model."""
    record = await anyio.to_thread.run_sync(get_prediction, state.engine, prediction_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no prediction {prediction_id}")
    row, version = record.prediction, record.model_version
    history = [feedback_out(f) for f in record.feedback]
    return PredictionDetail(
        prediction_id=row.id,
        created_at=row.created_at,
        request_id=row.request_id,
        input=row.features,
        prediction=row.prediction,
        probabilities=row.probabilities,
        model_version=row.model_version,
        feedback=FeedbackSummary(actual=history[-1].actual if history else None, history=history),
        lineage=Lineage(
            model_name=row.model_name,
            model_version=row.model_version,
            run_id=version.run_id if version else None,
            **(version.lineage if version else {}),
        ),
    )
