"""The prediction step both serving modes share: score a batch, commit its log rows, then answer.

Plain mode calls `predict_and_log` once per request (routers/predict.py); fast mode once per micro-batch
(fast/serving.py). A record the model cannot score (see unscorable.py) is answered with a 422 naming the feature
(`unscorable_error`), and the records scored with it are answered as usual; a batch request stands or falls whole.
"""

from typing import Any

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..store.ids import new_ids
from ..store.repository import insert_predictions
from ..store.tables import utcnow
from .served_model import ServedModel
from .unscorable import Unscorable

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
    flags = model.out_of_range([features for (features, _), _ in scored])
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
            "out_of_range": flagged,
        }
        for prediction_id, ((features, request_id), output), flagged in zip(
            new_ids(len(scored)), scored, flags, strict=True
        )
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
