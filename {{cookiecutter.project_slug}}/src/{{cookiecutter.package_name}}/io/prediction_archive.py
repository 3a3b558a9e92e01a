"""The archive of the prediction log: Parquet files under data/archive/predictions/, one folder per day.

A file holds one batch's rows of one day: predictions with every feedback revision (a list column), named by the
first id it holds, `day=2026-11-01/part-<first id>.parquet`. It is written crash-safe: to a hidden temporary name,
fsynced, renamed over the final name (atomic), then the folder is fsynced so that the rename itself is durable.
A rerun that exports the same rows again writes the same name, replacing the file, so no row is ever held twice.
"""

import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.source_caps import ANONYMOUS
from ..store.tables import Feedback, Prediction

ARCHIVE = "data/archive/predictions"

FEEDBACK_TYPE = pa.struct(
    [
        ("id", pa.string()),
        ("revision", pa.int32()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("actual", pa.string()),  # JSON: a label or a number, as logged
        ("rating", pa.int32()),
        ("comment", pa.string()),
        ("source", pa.string()),
    ]
)
# The log's JSON columns stay JSON text: feature types differ from project to project, and the text restores each
# value exactly as it was logged.
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("request_id", pa.string()),
        ("features", pa.string()),
        ("prediction", pa.string()),
        ("probabilities", pa.string()),
        ("out_of_range", pa.string()),
        ("feedback", pa.list_(FEEDBACK_TYPE)),
    ]
)


def _json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def to_table(batch: Sequence[tuple[Prediction, Sequence[Feedback]]]) -> pa.Table:
    """Predictions with their feedback revisions (oldest first) as one Arrow table of SCHEMA."""
    rows = [
        {
            "id": str(prediction.id),
            "created_at": prediction.created_at,
            "model_name": prediction.model_name,
            "model_version": prediction.model_version,
            "request_id": prediction.request_id,
            "features": _json(prediction.features),
            "prediction": _json(prediction.prediction),
            "probabilities": _json(prediction.probabilities),
            "out_of_range": _json(prediction.out_of_range),
            "feedback": [
                {
                    "id": str(row.id),
                    "revision": row.revision,
                    "created_at": row.created_at,
                    "actual": _json(row.actual),
                    "rating": row.rating,
                    "comment": row.comment,
                    "source": row.source,
                }
                for row in revisions
            ],
        }
        for prediction, revisions in batch
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def day_of(moment: datetime) -> str:
    """The partition of a prediction: its UTC day."""
    return moment.date().isoformat()


def file_for(root: Path, day: str, first_id: uuid.UUID) -> Path:
    return root / f"day={day}" / f"part-{first_id}.parquet"


def _fsync_folder(folder: Path) -> None:
    if os.name == "nt":
        return  # Windows cannot open a folder to fsync it; NTFS journals the rename itself.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_durably(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` so that, once this returns, the whole file is on disk whatever happens next."""
    new_folder = not path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    if new_folder:
        _fsync_folder(path.parent.parent)  # the new day's folder must survive too
    # A leading dot: readers (pyarrow.dataset, pandas) skip the file while it is incomplete.
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        pq.write_table(table, handle, compression="zstd")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def archived_ids(path: Path) -> list[uuid.UUID]:
    """The prediction ids a durable archive file holds, read back from the disk."""
    return [uuid.UUID(text) for text in pq.read_table(path, columns=["id"]).column("id").to_pylist()]


def archive_files(root: Path) -> list[Path]:
    """Every complete archive file, oldest day first (an interrupted write's temporary file is not one)."""
    return sorted(root.glob("day=*/part-*.parquet"))


def archived_feedback(root: Path, model_name: str) -> list[dict[str, Any]]:
    """Every archived prediction of the model with feedback, as `io.prediction_log.iter_feedback` gives a logged one:
    its features, its latest actual (the revision that counts) and who sent that, its id and time."""
    rows = []
    for path in archive_files(root):
        table = pq.read_table(path, columns=["id", "created_at", "model_name", "features", "feedback"])
        for row in table.to_pylist():
            latest = latest_revision(row)
            if row["model_name"] != model_name or latest is None:
                continue
            rows.append(
                {
                    "features": orjson.loads(row["features"]),
                    "actual": orjson.loads(latest["actual"]),
                    "prediction_id": row["id"],
                    "created_at": row["created_at"],
                    "source": latest["source"] or ANONYMOUS,
                }
            )
    return rows


def files_of_days(root: Path, start: datetime, end: datetime) -> list[list[Path]]:
    """The archive files of each UTC day that overlaps [start, end], day by day, oldest first; the other days'
    folders are never opened."""
    first, last = day_of(start.astimezone(UTC)), day_of(end.astimezone(UTC))
    days: dict[str, list[Path]] = {}
    for path in archive_files(root):
        day = path.parent.name.removeprefix("day=")
        if first <= day <= last:  # ISO dates sort as text
            days.setdefault(day, []).append(path)
    return list(days.values())


def window_rows(
    path: Path, model_name: str, model_version: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The rows of one archive file (one batch: at most a few thousand) that are the model version's and inside
    [start, end], with the JSON columns still as text so that only the sampled rows are ever decoded."""
    table = pq.read_table(
        path,
        columns=["id", "features", "prediction", "probabilities", "out_of_range", "feedback"],
        filters=[
            ("model_name", "=", model_name),
            ("model_version", "=", model_version),
            ("created_at", ">=", start),
            ("created_at", "<=", end),
        ],
    )
    return table.to_pylist()


def latest_revision(row: dict[str, Any]) -> dict[str, Any] | None:
    """An archived row's feedback revision that counts (the newest), None without feedback."""
    revisions = row["feedback"] or []
    return max(revisions, key=lambda revision: revision["revision"]) if revisions else None
