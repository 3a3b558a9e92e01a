"""Read the prediction log for monitoring and retraining: a window streamed in chunks, sampled, joined to feedback."""

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Engine, Select, Text, and_, cast, func, select

from ..core.monitoring import Reservoir, Window
from ..core.source_caps import ANONYMOUS
from ..store.tables import Feedback, Prediction
from .prediction_archive import files_of_days, latest_revision, window_rows

CHUNK = 10_000
# Ids per `IN (...)` when asking the log which archived rows it still holds: well under SQLite's 32,766 parameters.
ID_BATCH = 1_000
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


def _decode(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def ids_in_log(engine: Engine, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these prediction ids the log still holds."""
    found: set[uuid.UUID] = set()
    with engine.connect() as connection:
        for start in range(0, len(ids), ID_BATCH):
            query = select(Prediction.id).where(Prediction.id.in_(ids[start : start + ID_BATCH]))
            found.update(connection.execute(query).scalars())
    return found


def offer_archived(engine: Engine, root: Path, scope: Scope, current: Reservoir[Any], labeled: Reservoir[Any]) -> int:
    """Offer the window's archived rows (data/archive/predictions/, `db archive`) to the reservoirs, file by file;
    how many of them the service had flagged out of range.

    A row is counted once: one the log still holds (an archive run killed between its write and its delete) is
    left to the log, whose copy may have newer feedback; and a day's files are checked against each other (a row's
    day is its partition, so a copy can only be in the same day).
    """
    window = scope.window
    out_of_range = 0
    if window.start is None:
        return out_of_range
    for paths in files_of_days(root, window.start, window.end):
        seen: set[str] = set()
        for path in paths:
            rows = window_rows(path, scope.model_name, scope.model_version, window.start, window.end)
            logged = {str(found) for found in ids_in_log(engine, [uuid.UUID(row["id"]) for row in rows])}
            fresh = [row for row in rows if row["id"] not in logged and row["id"] not in seen]
            seen.update(row["id"] for row in fresh)
            current.offer([(row["features"], row["prediction"]) for row in fresh])
            labels = [(row, latest) for row in fresh if (latest := latest_revision(row)) is not None]
            labeled.offer(
                [
                    (row["features"], row["prediction"], row["probabilities"], latest["actual"], latest["source"])
                    for row, latest in labels
                ]
            )
            out_of_range += sum(row["out_of_range"] not in (None, "null") for row in fresh)
    return out_of_range


def read_window(
    engine: Engine, scope: Scope, size: int, seed: int, chunk: int = CHUNK, archive: Path | None = None
) -> WindowSample:
    """Two streamed passes, each through a seeded reservoir of `size`: every prediction, and the labelled ones.

    With `archive` (the archive's folder) and a window with a start, the archive's days that overlap the window are
    offered first (their rows are the older ones), then the log's rows. Memory is bounded by `size` rows (their JSON
    text) whatever the length of the window, plus one archive day's ids.
    """
    conditions = scope.conditions()
    current: Reservoir[Any] = Reservoir(size, seed)
    labeled: Reservoir[Any] = Reservoir(size, seed)
    archived_out_of_range = 0 if archive is None else offer_archived(engine, archive, scope, current, labeled)
    everything = select(cast(Prediction.features, Text), cast(Prediction.prediction, Text)).where(*conditions)
    for part in stream(engine, everything.order_by(Prediction.created_at), chunk):
        current.offer(part)
    for part in stream(engine, labeled_query(conditions), chunk):
        labeled.offer(part)
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
        out_of_range_rows=count_out_of_range(engine, conditions) + archived_out_of_range,
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
