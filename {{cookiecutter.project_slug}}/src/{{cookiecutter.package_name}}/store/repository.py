"""Reads and writes of the prediction log; every function is one transaction, safe to call from worker threads."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .database import WRITE
from .ids import new_id
from .tables import Feedback, ModelReload, ModelVersion, Prediction, utcnow

# Racing writers of feedback on one prediction retry on the revision's unique constraint (PostgreSQL; SQLite
# serialises writers already). Each retry sees the winner's row, so a few attempts always suffice.
FEEDBACK_ATTEMPTS = 5


class PredictionNotFoundError(LookupError):
    """No prediction has this id."""


@dataclass(frozen=True)
class PredictionRecord:
    """A logged prediction with the version that made it and its feedback, oldest first (the last one counts)."""

    prediction: Prediction
    model_version: ModelVersion | None
    feedback: list[Feedback]


def record_model_version(engine: Engine, name: str, version: str, run_id: str | None, lineage: dict[str, Any]) -> None:
    """Remember a served version once, so that each prediction row points at its lineage without copying it.

    Workers that start together race to record the same version (PostgreSQL lets both read "absent"): the one whose
    insert meets the other's row has nothing left to do, and starts as the other did.
    """
    try:
        with Session(engine.execution_options(**WRITE)) as session, session.begin():
            if session.get(ModelVersion, (name, version)) is None:
                session.add(ModelVersion(name=name, version=version, run_id=run_id, lineage=lineage))
    except IntegrityError:
        with engine.connect() as connection:
            recorded = select(func.count()).where(ModelVersion.name == name, ModelVersion.version == version)
            if not connection.scalar(recorded):
                raise


def record_reload(engine: Engine, name: str, version: str, requested_by: str) -> int:
    """Record that the served model was swapped to this version; returns the reload's id."""
    with Session(engine.execution_options(**WRITE)) as session, session.begin():
        reload = ModelReload(model_name=name, version=version, requested_by=requested_by[:200])
        session.add(reload)
        session.flush()
        return reload.id


def latest_reload(engine: Engine, name: str) -> tuple[int, str] | None:
    """The id and version of the newest reload of this model, or None: one indexed read, cheap to repeat."""
    with Session(engine) as session:
        row = session.execute(
            select(ModelReload.id, ModelReload.version)
            .where(ModelReload.model_name == name)
            .order_by(ModelReload.id.desc())
            .limit(1)
        ).first()
    return None if row is None else (row.id, row.version)


def newest_reload_id(engine: Engine) -> int:
    """The id of the newest reload of any model, 0 when there is none: a watermark, read before a worker loads."""
    with Session(engine) as session:
        return session.execute(select(func.max(ModelReload.id))).scalar() or 0


def insert_predictions(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Insert a batch of prediction rows (dicts of Prediction's columns) in one committed transaction."""
    with engine.execution_options(**WRITE).begin() as connection:
        connection.execute(insert(Prediction), list(rows))


def get_prediction(engine: Engine, prediction_id: uuid.UUID) -> PredictionRecord | None:
    """The prediction, its model version and its feedback history, or None."""
    with Session(engine) as session:
        prediction = session.get(Prediction, prediction_id)
        if prediction is None:
            return None
        version = session.get(ModelVersion, (prediction.model_name, prediction.model_version))
        history = session.scalars(
            select(Feedback).where(Feedback.prediction_id == prediction_id).order_by(Feedback.revision)
        ).all()
        return PredictionRecord(prediction=prediction, model_version=version, feedback=list(history))


def add_feedback(
    engine: Engine,
    prediction_id: uuid.UUID,
    actual: Any,
    rating: int | None = None,
    comment: str | None = None,
    source: str | None = None,
) -> tuple[Feedback, bool]:
    """Store feedback unless it repeats the latest one; returns (the row, whether it was created).

    The same report sent twice (a client retry) is stored once. A different report is a new revision: it corrects
    the earlier ones, which stay as history, and the latest revision is the one that counts.
    """
    for attempt in range(FEEDBACK_ATTEMPTS):
        try:
            return _add_feedback_once(engine, prediction_id, actual, rating, comment, source)
        except IntegrityError:
            if attempt == FEEDBACK_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _add_feedback_once(
    engine: Engine, prediction_id: uuid.UUID, actual: Any, rating: int | None, comment: str | None, source: str | None
) -> tuple[Feedback, bool]:
    with Session(engine.execution_options(**WRITE), expire_on_commit=False) as session, session.begin():
        if session.scalar(select(Prediction.id).where(Prediction.id == prediction_id)) is None:
            raise PredictionNotFoundError(prediction_id)
        latest = session.scalars(
            select(Feedback).where(Feedback.prediction_id == prediction_id).order_by(Feedback.revision.desc()).limit(1)
        ).first()
        if latest is not None and (latest.actual, latest.rating, latest.comment, latest.source) == (
            actual,
            rating,
            comment,
            source,
        ):
            return latest, False
        row = Feedback(
            id=new_id(),
            prediction_id=prediction_id,
            revision=1 if latest is None else latest.revision + 1,
            created_at=utcnow(),
            actual=actual,
            rating=rating,
            comment=comment,
            source=source,
        )
        session.add(row)
    return row, True


def oldest_predictions(engine: Engine, before: datetime, limit: int) -> list[tuple[Prediction, list[Feedback]]]:
    """Up to `limit` predictions created before `before`, oldest first, each with every feedback revision.

    The order (created_at, then id) is total, so a rerun after a crash finds the same first rows again.
    """
    with Session(engine, expire_on_commit=False) as session:
        predictions = session.scalars(
            select(Prediction)
            .where(Prediction.created_at < before)
            .order_by(Prediction.created_at, Prediction.id)
            .limit(limit)
        ).all()
        revisions: dict[uuid.UUID, list[Feedback]] = {prediction.id: [] for prediction in predictions}
        if revisions:
            for row in session.scalars(
                select(Feedback).where(Feedback.prediction_id.in_(revisions)).order_by(Feedback.revision)
            ):
                revisions[row.prediction_id].append(row)
        return [(prediction, revisions[prediction.id]) for prediction in predictions]


def delete_archived(engine: Engine, feedback_counts: dict[uuid.UUID, int]) -> bool:
    """Delete these predictions and their feedback in one transaction, if each still has the feedback counted.

    `feedback_counts` holds, per prediction, how many revisions the archive holds. A revision posted since the
    export would be lost with the row, so then nothing is deleted and False says: export this batch again.
    The predictions are locked first (PostgreSQL: FOR UPDATE, which a new feedback's foreign key waits for; SQLite's
    write transaction already excludes every other writer), so no revision can arrive between the count and the delete.
    """
    ids = list(feedback_counts)
    with Session(engine.execution_options(**WRITE)) as session, session.begin():
        session.execute(select(Prediction.id).where(Prediction.id.in_(ids)).with_for_update())
        counted = dict(
            session.execute(
                select(Feedback.prediction_id, func.count())
                .where(Feedback.prediction_id.in_(ids))
                .group_by(Feedback.prediction_id)
            ).all()
        )
        if any(counted.get(prediction_id, 0) != count for prediction_id, count in feedback_counts.items()):
            return False
        session.execute(delete(Feedback).where(Feedback.prediction_id.in_(ids)))
        session.execute(delete(Prediction).where(Prediction.id.in_(ids)))
    return True
