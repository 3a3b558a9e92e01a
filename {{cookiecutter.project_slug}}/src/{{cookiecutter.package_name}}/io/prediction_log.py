"""Read the prediction log for monitoring and retraining: a window streamed in chunks, sampled, joined to feedback."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Engine, Select, Text, and_, cast, func, select

from ..core.monitoring import Reservoir, Window
from ..core.source_caps import ANONYMOUS
from ..store.tables import Feedback, Prediction

CHUNK = 10_000
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Scope:
    """Which predictions: those of one model version, inside a window."""

    model_name: str
    model_version: str
    window: Window

    def conditions(self) -> list[ColumnElement[bool]]:
        found = [
            Prediction.model_name == self.model_name,
            Prediction.model_version == self.model_version,
            Prediction.created_at <= self.window.end,
        ]
        return found if self.window.start is None else [*found, Prediction.created_at >= self.window.start]


@dataclass(frozen=True)
class WindowSample:
    """Decoded rows of the window (all of them, or a seeded sample) and how many the window held."""

    current: list[dict[str, Any]]  # features, prediction
    labeled: list[dict[str, Any]]  # features, prediction, probabilities, actual (latest feedback revision), source
    rows: int
    labeled_rows: int
    sampled: bool
    out_of_range_rows: int = 0  # predictions the service flagged with a value outside the model's expected range


def start_of_last(engine: Engine, model_name: str, model_version: str, count: int, end: datetime) -> datetime | None:
    """created_at of the count-th newest prediction (so `--last N` becomes a time window), None if there are fewer.

    Predictions answered in one micro-batch share a timestamp, so the window may hold a few more than count.
    """
    query = (
        select(Prediction.created_at)
        .where(Prediction.model_name == model_name, Prediction.model_version == model_version)
        .where(Prediction.created_at <= end)
        .order_by(Prediction.created_at.desc())
        .offset(count - 1)
        .limit(1)
    )
    with engine.connect() as connection:
        found: datetime | None = connection.scalar(query)
    return found


def count_out_of_range(engine: Engine, conditions: Sequence[ColumnElement[bool]]) -> int:
    """How many predictions of the window the service flagged as outside the model's expected range."""
    query = select(func.count()).select_from(Prediction).where(*conditions, Prediction.out_of_range.is_not(None))
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def latest_feedback() -> Any:
    """Per prediction, the number of its latest feedback revision (the one that counts)."""
    return (
        select(Feedback.prediction_id, func.max(Feedback.revision).label("revision"))
        .group_by(Feedback.prediction_id)
        .subquery()
    )


def labeled_query(conditions: Sequence[ColumnElement[bool]]) -> AnySelect:
    """Predictions with their latest actual and who sent it; JSON read as text so that only sampled rows are ever
    decoded."""
    latest = latest_feedback()
    return (
        select(
            cast(Prediction.features, Text),
            cast(Prediction.prediction, Text),
            cast(Prediction.probabilities, Text),
            cast(Feedback.actual, Text),
            Feedback.source,
        )
        .join(latest, latest.c.prediction_id == Prediction.id)
        .join(Feedback, and_(Feedback.prediction_id == latest.c.prediction_id, Feedback.revision == latest.c.revision))
        .where(*conditions)
        .order_by(Prediction.created_at)
    )


def stream(engine: Engine, query: AnySelect, chunk: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Rows in chunks: the driver fetches `chunk` rows at a time instead of the whole result."""
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=chunk).execute(query)
        for part in result.partitions():
            yield [tuple(row) for row in part]


def sample(engine: Engine, query: AnySelect, size: int, seed: int, chunk: int = CHUNK) -> Reservoir[Any]:
    reservoir: Reservoir[Any] = Reservoir(size, seed)
    for part in stream(engine, query, chunk):
        reservoir.offer(part)
    return reservoir


def _decode(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def read_window(engine: Engine, scope: Scope, size: int, seed: int, chunk: int = CHUNK) -> WindowSample:
    """Two streamed passes, each through a seeded reservoir of `size`: every prediction, and the labelled ones.

    Memory is bounded by `size` rows (their JSON text) whatever the length of the window.
    """
    conditions = scope.conditions()
    everything = select(cast(Prediction.features, Text), cast(Prediction.prediction, Text)).where(*conditions)
    current = sample(engine, everything.order_by(Prediction.created_at), size, seed, chunk)
    labeled = sample(engine, labeled_query(conditions), size, seed, chunk)
    return WindowSample(
        current=[{"features": _decode(f), "prediction": _decode(p)} for f, p in current.items],
        labeled=[
            {
                "features": _decode(f),
                "prediction": _decode(p),
                "probabilities": _decode(q),
                "actual": _decode(a),
                "source": source or ANONYMOUS,
            }
            for f, p, q, a, source in labeled.items
        ],
        rows=current.seen,
        labeled_rows=labeled.seen,
        sampled=current.sampled or labeled.sampled,
        out_of_range_rows=count_out_of_range(engine, conditions),
    )


def iter_feedback(engine: Engine, model_name: str, chunk: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    """Every prediction of the model that has feedback, with its features, latest actual and who sent it, in chunks."""
    query = labeled_query([Prediction.model_name == model_name]).add_columns(Prediction.id, Prediction.created_at)
    for part in stream(engine, query, chunk):
        yield [
            {
                "features": _decode(f),
                "actual": _decode(a),
                "prediction_id": str(pid),
                "created_at": created,
                "source": source or ANONYMOUS,
            }
            for f, _p, _q, a, source, pid, created in part
        ]
