"""`feedback import FILE --scored OUTPUT`: the outcomes of batch rows, by prediction_id, into the feedback loop.

Why it reads the scored dataset: `score` does not write its rows to the prediction log. A batch is millions of rows
that would swell the log and mix tonight's batch into the service's own monitoring window; and most batch rows never
get an outcome. The rows that do are the ones the loop needs, so import looks each id up in OUTPUT (the Parquet
dataset `score` wrote, scanned for those ids only), records that row in the log as a prediction of the version that
scored it (at its `scored_at`, with request_id `batch:<OUTPUT's name>`), then stores its outcome exactly as
POST /feedback does: the label is checked by the model's own `coerce_label` and stored by `add_feedback` (a repeat is
stored once, another value is a correction), with the source `file:<FILE's name>`. `retrain` reads the log's
feedback, so these rows reach it and meet the same quarantine as the service's (data/expectations.json).
"""

import math
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset
from sqlalchemy import select

from ..service.served_model import ServedModel, fetch_served_model
from ..settings import Settings, get_settings
from ..store.database import create_db_engine, upgrade
from ..store.repository import add_feedback, insert_predictions, record_model_version
from ..store.tables import Prediction
from ..user_errors import UserError
from .context import say

STEP = "feedback"
COLUMNS = ("prediction_id", "actual")
# Predictions written to the log per transaction: a large file of outcomes stays a series of small commits.
LOG_BATCH = 1_000


@dataclass
class Imported:
    """What one import did: outcomes stored, repeats of the stored ones, and each refused row's reason."""

    source: str
    stored: int = 0
    repeated: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)

    def text(self) -> str:
        reasons = Counter(reason for _, reason in self.refused)
        commonest = "; ".join(f"{reason} ({count} rows)" for reason, count in reasons.most_common(3))
        refused = f", {len(self.refused)} refused: {commonest}" if self.refused else ""
        return f"{self.stored} outcomes stored as source {self.source}, {self.repeated} already stored{refused}"


def read_outcomes(path: Path) -> pd.DataFrame:
    """The file's prediction_id and actual columns, as text from a CSV (the label is checked per row later)."""
    if not path.is_file() or path.suffix not in (".csv", ".parquet"):
        raise UserError(f"{path} is not a .csv or .parquet file of outcomes (columns prediction_id, actual)")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [name for name in COLUMNS if name not in frame.columns]
    if missing:
        raise UserError(f"{path} has no column {', '.join(missing)}: it needs prediction_id and actual")
    return frame[list(COLUMNS)]


def parse_id(text: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text).strip())
    except ValueError:
        return None


def scored_rows(scored: Path, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The rows of `score`'s OUTPUT with these ids (id text -> row as a dict), read with a filter, not whole."""
    if not scored.is_dir():
        raise UserError(f"{scored} is not a folder: pass the OUTPUT that `score` wrote with --scored")
    dataset = pyarrow.dataset.dataset(scored, format="parquet", exclude_invalid_files=True)
    if "prediction_id" not in dataset.schema.names:
        raise UserError(f"{scored} is not a dataset written by `score`: it has no prediction_id column")
    table = dataset.to_table(filter=pc.field("prediction_id").isin(pa.array(ids, pa.string())))
    return {row["prediction_id"]: row for row in table.to_pylist()}


def log_row(model: ServedModel, row: dict[str, Any], batch: str) -> dict[str, Any]:
    """A scored row as the prediction log holds a served one: raw features (a missing value null), the outputs."""
    features = {
        feature.name: None if isinstance(value := row.get(feature.name), float) and math.isnan(value) else value
        for feature in model.features
    }
    probabilities = {str(label): row[f"probability_{label}"] for label in model.classes} if model.classes else None
    return {
        "id": uuid.UUID(row["prediction_id"]),
        "created_at": row["scored_at"],
        "model_name": model.name,
        "model_version": model.version,
        "request_id": batch,
        "features": features,
        "prediction": row["prediction"],
        "probabilities": probabilities if model.task == "classification" else None,
        "out_of_range": model.out_of_range([features])[0],
    }


def import_outcomes(settings: Settings, file: Path, scored: Path) -> Imported:
    """Store the outcomes of `file` for the rows of `scored` (see the module's docstring)."""
    outcomes = read_outcomes(file)
    result = Imported(source=f"file:{file.name}")
    ids = [parse_id(text) for text in outcomes["prediction_id"]]
    found = scored_rows(scored, sorted({str(i) for i in ids if i is not None}))
    models: dict[str, ServedModel] = {}
    accepted: list[tuple[uuid.UUID, Any, dict[str, Any]]] = []
    for position, (prediction_id, actual) in enumerate(zip(ids, outcomes["actual"], strict=True)):
        if prediction_id is None:
            result.refused.append((position, "prediction_id is not a prediction id"))
            continue
        row = found.get(str(prediction_id))
        if row is None:
            result.refused.append((position, f"no prediction with this id in {scored}"))
            continue
        version = str(row["model_version"])
        if version not in models:
            models[version] = fetch_served_model(settings.mlflow_tracking_uri, f"models:/{row['model_name']}/{version}")
        try:
            label = models[version].coerce_label(actual)  # the rule POST /feedback answers a 422 by
        except ValueError as error:
            result.refused.append((position, str(error)))
            continue
        accepted.append((prediction_id, label, row))
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    try:
        for model in models.values():
            record_model_version(engine, model.name, model.version, model.run_id, model.lineage)
        unique = {prediction_id: row for prediction_id, _, row in accepted}
        logged: set[uuid.UUID] = set()
        with engine.connect() as connection:
            known = list(unique)
            for start in range(0, len(known), LOG_BATCH):
                query = select(Prediction.id).where(Prediction.id.in_(known[start : start + LOG_BATCH]))
                logged.update(connection.scalars(query))
        batch = f"batch:{scored.name}"
        new = [
            log_row(models[str(row["model_version"])], row, batch)
            for prediction_id, row in unique.items()
            if prediction_id not in logged
        ]
        for start in range(0, len(new), LOG_BATCH):
            insert_predictions(engine, new[start : start + LOG_BATCH])
        for prediction_id, label, _ in accepted:
            _, created = add_feedback(engine, prediction_id, label, source=result.source)
            result.stored += created
            result.repeated += not created
    finally:
        engine.dispose()
    return result


def main(file: Path, scored: Path) -> int:
    """Exit 1 when a row was refused (the others are stored): a scheduled import then shows up as failed."""
    try:
        result = import_outcomes(get_settings(), file, scored)
    except OSError as error:
        raise UserError(f"cannot read {error.filename or file}: {error.strerror or error}") from None
    say(STEP, result.text())
    if result.refused:
        first = ", ".join(str(position) for position, _ in result.refused[:5])
        more = ", ..." if len(result.refused) > 5 else ""
        say(STEP, f"refused rows of {file} (from 0, after the header): {first}{more}")
    return 1 if result.refused else 0
