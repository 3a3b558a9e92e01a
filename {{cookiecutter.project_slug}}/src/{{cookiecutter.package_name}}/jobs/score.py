"""Batch scoring: a CSV or Parquet file (or a folder of them) in, a Parquet dataset of predictions with lineage out.

Read top to bottom: `score` streams each file in chunks (io/batch_files.py), rejects the rows the model cannot take
(core/batch_rows.py), scores the others with the same model object and the same overflow rule as /predict
(service/served_model.py), and adds the lineage of every row. Nothing is in place until the whole batch is done:
the datasets are written to a staging folder beside OUTPUT and moved there at the end, or removed when too many
rows were rejected. docs/batch.md shows the layout of what is written.
"""

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs

from ..core.batch_rows import CANNOT_SCORE, MISSING_COLUMN, RejectTally, missing_features, unreadable_numbers
from ..core.features import Kind, coerce_features
from ..core.model_inputs import kinds_of, types_of
from ..io.batch_files import DatasetWriter, Source, columns_of, list_sources, publish, read_chunks, row_count
from ..params import Params, load_params
from ..service.served_model import ServedModel, fetch_served_model
from ..settings import Settings, get_settings
from ..store.ids import new_id_bytes
from ..user_errors import UserError
from .context import say

STEP = "score"
LINEAGE = (
    "prediction_id",
    "model_name",
    "model_version",
    "model_run_id",
    "git_commit",
    "training_data_hash",
    "scored_at",
    "source_file",
    "source_row",
)
REJECT_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("reason", pa.string()),
    ]
)


@dataclass(frozen=True)
class Outputs:
    """What one batch writes: the scored dataset, the rejected rows beside it, and the summary."""

    scored: Path

    @property
    def rejected(self) -> Path:
        return self.scored.with_name(f"{self.scored.name}-rejected")

    @property
    def summary(self) -> Path:
        return self.scored.with_name(f"{self.scored.name}-summary.json")

    def targets(self) -> dict[str, Path]:
        """Each name written under the staging folder -> where it goes once the batch is done."""
        return {"scored": self.scored, "rejected": self.rejected, "summary.json": self.summary}

    def staging(self) -> Path:
        """The folder a batch is written to before it is moved into place, beside OUTPUT (same file system)."""
        self.scored.parent.mkdir(parents=True, exist_ok=True)
        return self.scored.with_name(f".{self.scored.name}.partial")


@dataclass(frozen=True)
class Summary:
    input: str
    output: str
    rows_in: int
    scored: int
    rejected: int
    model_name: str
    model_version: str
    engine: str
    seconds: float
    rows_per_second: float

    def text(self) -> str:
        return (
            f"{self.rows_in} rows in, {self.scored} scored, {self.rejected} rejected by {self.model_name} "
            f"v{self.model_version} ({self.engine}) in {self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s"
        )


def model_kinds(model: ServedModel) -> dict[str, Kind]:
    """Feature -> numeric or categorical, from the model's signature (what /predict's schema is built from)."""
    return kinds_of(types_of(model.features))


def id_texts(count: int) -> pa.Array:
    """`count` new prediction ids in the usual 8-4-4-4-12 text form, formatted by Arrow rather than row by row."""
    hexadecimal = pa.array(np.frombuffer(new_id_bytes(count).tobytes().hex().encode(), dtype="S32")).cast(pa.string())
    parts = [
        pc.utf8_slice_codeunits(hexadecimal, start, stop)
        for start, stop in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
    ]
    return pc.binary_join_element_wise(*parts, "-")


def is_text(data_type: pa.DataType) -> bool:
    """Arrow's text types: a CSV read here gives `string`, pandas writes its text to Parquet as `large_string`."""
    return bool(pa.types.is_string(data_type) or pa.types.is_large_string(data_type))


def as_numbers(table: pa.Table, kinds: dict[str, Kind]) -> pa.Table:
    """Numeric features read as text become float64 in Arrow when every value is a number (the usual case, fast);
    a column with text in it stays text, for `text_in_numbers` to find the rows."""
    for name, kind in kinds.items():
        if kind == "numeric" and name in table.column_names and is_text(table.schema.field(name).type):
            try:
                column = pc.cast(table.column(name), pa.float64())
            except pa.ArrowInvalid:
                continue
            table = table.set_column(table.column_names.index(name), name, column)
    return table


class TableSink(Protocol):
    """Where a scorer's tables go: a Parquet dataset being written (DatasetWriter), or Spark's task output."""

    def write(self, table: pa.Table) -> None: ...


class BatchScorer:
    """Scores chunks with one model, hands the scored and the rejected rows to their sinks, counts what it did.

    The pandas engine runs it over each file's chunks; the Spark engine runs it in each task (jobs/score_spark.py),
    so both apply the one rule of which rows are rejected and why.
    """

    def __init__(self, model: ServedModel, scored: TableSink, rejected: TableSink) -> None:
        self.model = model
        self.kinds = model_kinds(model)
        self.scored = scored
        self.rejected = rejected
        self.tally = RejectTally()
        first = model.classes[0] if model.classes else 0.0
        self.prediction_type = pa.float64() if model.task == "regression" else pa.array([first]).type

    def check_columns(self, file: str, columns: list[str]) -> list[str]:
        """The features the file lacks; ValueError with a sentence when it has none, or has an output's column."""
        missing = missing_features(file, columns, self.kinds)
        clash = sorted(set(columns) & ({"prediction", *LINEAGE} | {f"probability_{c}" for c in self.model.classes}))
        if clash:
            raise ValueError(f"{file} already has columns named like the output's: {', '.join(clash)}")
        return missing

    def score_file(self, source: Source, progress: Any) -> None:
        missing = self.check_columns(source.name, columns_of(source))
        offset = 0
        for table in read_chunks(source):
            rows = np.arange(offset, offset + table.num_rows, dtype="int64")
            self.score_chunk(source.name, as_numbers(table, self.kinds), rows, missing)
            offset += table.num_rows
            progress.update(table.num_rows)

    def score_chunk(self, file: str, table: pa.Table, source_rows: np.ndarray, missing: list[str]) -> None:
        """Score one chunk of `file`; source_rows[i] is the row number in the file of the table's row i."""
        rows = table.num_rows
        self.tally.rows += rows
        if missing:  # every row lacks the column: all of them are rejected, once for each missing column
            positions = np.repeat(np.arange(rows), len(missing))
            self.reject(file, source_rows, positions, missing * rows, [None] * len(positions), MISSING_COLUMN)
            self.tally.rejected += rows
            return
        frame = table.select(list(self.kinds)).to_pandas()
        text = unreadable_numbers(frame, self.kinds)
        for reason, found in text.groupby("reason"):
            self.reject(
                file,
                source_rows,
                found["position"].to_numpy(),
                found["column"].tolist(),
                found["value"].tolist(),
                str(reason),
            )
        candidates = np.setdiff1d(np.arange(rows), text["position"].to_numpy())
        features = coerce_features(frame.iloc[candidates] if len(text) else frame, self.kinds)
        scored = self.model.score_inputs(
            self.model.preprocess(features), lambda i: {str(k): v for k, v in features.iloc[i].items()}
        )
        refused = [scored.refused[i] for i in sorted(scored.refused)]
        self.reject(
            file,
            source_rows,
            candidates[sorted(scored.refused)],
            [refusal.feature or "(several)" for refusal in refused],
            [None if refusal.value is None else str(refusal.value) for refusal in refused],
            CANNOT_SCORE,
            [refusal.message for refusal in refused],
        )
        self.tally.rejected += text["position"].nunique() + len(refused)
        if scored.outputs is not None and len(scored.rows):
            self.write_scored(file, table, features, candidates[scored.rows], scored.rows, scored.outputs, source_rows)

    def reject(
        self,
        file: str,
        source_rows: np.ndarray,
        positions: np.ndarray,
        columns: list[str],
        values: list[str | None],
        cause: str,
        reasons: list[str] | None = None,
    ) -> None:
        """Write rejections, one per row and column; the reason is the cause unless a sentence per row is given."""
        if not len(positions):
            return
        self.tally.causes.update((column, cause) for column in columns)
        table = pa.table(
            {
                "source_file": pa.repeat(file, len(positions)),
                "source_row": pa.array(source_rows[positions], pa.int64()),
                "column": pa.array(columns, pa.string()),
                "value": pa.array(values, pa.string()),
                "reason": pa.array(reasons or [cause] * len(positions), pa.string()),
            },
            schema=REJECT_SCHEMA,
        )
        self.rejected.write(table)

    def write_scored(
        self,
        file: str,
        table: pa.Table,
        features: Any,
        positions: np.ndarray,
        feature_rows: np.ndarray,
        outputs: Any,
        source_rows: np.ndarray,
    ) -> None:
        """The scored rows: every input column (features as the model took them), the outputs, the lineage."""
        count = len(positions)
        taken = table.take(pa.array(positions))
        columns: dict[str, pa.Array] = {}
        for name in table.column_names:
            kind = self.kinds.get(name)
            if kind is None:
                columns[name] = taken.column(name)
            else:
                values = features[name].to_numpy()[feature_rows]
                columns[name] = pa.array(values, pa.float64() if kind == "numeric" else pa.string(), from_pandas=True)
        for name, values in self.model.output_columns(outputs).items():
            columns[name] = pa.array(values, self.prediction_type if name == "prediction" else pa.float64())
        model = self.model
        constants = {
            "model_name": model.name,
            "model_version": model.version,
            "model_run_id": model.run_id,
            "git_commit": model.lineage.get("git_commit"),
            "training_data_hash": model.lineage.get("data_train"),
        }
        columns["prediction_id"] = id_texts(count)
        for name, value in constants.items():
            columns[name] = pa.repeat(pa.scalar(value, pa.string()), count)
        columns["scored_at"] = pa.repeat(pa.scalar(datetime.now(UTC), pa.timestamp("us", tz="UTC")), count)
        columns["source_file"] = pa.repeat(file, count)
        columns["source_row"] = pa.array(source_rows[positions], pa.int64())
        self.scored.write(pa.table(columns))


def batch_sources(
    input_location: str, outputs: Outputs, overwrite: bool, filesystem: pyarrow.fs.FileSystem | None = None
) -> list[Source]:
    """The files to score, once OUTPUT is known free (or may be replaced); UserError in one sentence otherwise."""
    existing = [str(path) for path in outputs.targets().values() if path.exists()]
    if existing and not overwrite:
        raise UserError(f"{existing[0]} exists: pass --overwrite to replace it, or choose another OUTPUT")
    try:
        return list_sources(input_location, filesystem)
    except (FileNotFoundError, ValueError) as error:
        raise UserError(f"{error}: INPUT must be a .csv or .parquet file or a folder of them") from None


def finish(
    staging: Path,
    outputs: Outputs,
    tally: RejectTally,
    scored: int,
    model: ServedModel,
    params: Params,
    batch: tuple[str, str, float],
    overwrite: bool,
) -> Summary:
    """Stop past score.max_rejected_share, else write the summary and move the batch into place (both engines).

    batch: the input, the engine and the seconds it took.
    """
    stop = tally.too_many(params.score.max_rejected_share)
    if stop is not None:
        raise UserError(stop)
    input_location, engine, seconds = batch
    summary = Summary(
        input=input_location,
        output=str(outputs.scored),
        rows_in=tally.rows,
        scored=scored,
        rejected=tally.rejected,
        model_name=model.name,
        model_version=model.version,
        engine=engine,
        seconds=round(seconds, 3),
        rows_per_second=round(tally.rows / seconds, 1) if seconds else 0.0,
    )
    (staging / "summary.json").write_text(json.dumps(asdict(summary), indent=2) + "\n", encoding="utf-8")
    publish(staging, outputs.targets(), overwrite)
    return summary


def score(
    input_location: str,
    output: Path,
    model: ServedModel,
    params: Params,
    overwrite: bool = False,
    filesystem: pyarrow.fs.FileSystem | None = None,
) -> Summary:
    """Score every file of `input_location` into `output` (see the module's docstring); UserError when it cannot."""
    from tqdm import tqdm

    outputs = Outputs(output)
    sources = batch_sources(input_location, outputs, overwrite, filesystem)
    counts = [row_count(source) for source in sources]
    total = None if None in counts else sum(c for c in counts if c is not None)
    staging = outputs.staging()
    scored, rejected = DatasetWriter(staging / "scored"), DatasetWriter(staging / "rejected")
    scorer = BatchScorer(model, scored, rejected)
    started = time.perf_counter()
    try:
        with tqdm(total=total, unit=" rows", unit_scale=True, desc=STEP, file=sys.stderr, disable=None) as progress:
            for source in sources:
                try:
                    scorer.score_file(source, progress)
                except ValueError as error:
                    raise UserError(str(error)) from None
                scored.next_part()  # one part file per input file: the next may have other columns
        scored.close(empty_schema=None)
        rejected.close(empty_schema=REJECT_SCHEMA)
        batch = (input_location, "pandas", time.perf_counter() - started)
        return finish(staging, outputs, scorer.tally, scored.rows, model, params, batch, overwrite)
    finally:
        # Too many rejections, a bad file or an interruption: nothing half-written is left behind.
        scored.next_part()
        rejected.next_part()
        shutil.rmtree(staging, ignore_errors=True)


def run(
    settings: Settings,
    params: Params,
    input_location: str,
    output: Path,
    model_uri: str | None = None,
    overwrite: bool = False,
    engine: str = "pandas",
    master: str | None = None,
) -> tuple[Summary, str]:
    """Load the model, score the batch and log it as a run of `<name>-scoring`; the summary and the run's id."""
    from ..io.scoring_runs import log_batch

    if engine == "spark":
        from . import score_spark

        if not score_spark.pyspark_installed():
            raise UserError(score_spark.INSTALL)
    elif master is not None:
        raise UserError("--master is for --engine spark: the pandas engine runs in this process")
    uri = model_uri or settings.model_uri
    try:
        model = fetch_served_model(settings.mlflow_tracking_uri, uri)
    except Exception as error:
        raise UserError(
            f"cannot load {uri} ({type(error).__name__}: {error}); train and promote a model first "
            "(`make pipeline`), or pass --model-uri"
        ) from None
    say(STEP, f"scoring {input_location} with {model.name} v{model.version} ({uri}, {engine})")
    if engine == "spark":
        # The exact version loaded, for spark_udf: the alias may move while the batch runs.
        exact = f"models:/{model.name}/{model.version}"
        summary = score_spark.score(
            input_location, output, model, exact, params, overwrite, master or score_spark.DEFAULT_MASTER
        )
    else:
        summary = score(input_location, output, model, params, overwrite)
    run_id = log_batch(settings, model, asdict(summary), Outputs(output).summary)
    return summary, run_id


def main(
    input_location: str,
    output: Path,
    model_uri: str | None = None,
    overwrite: bool = False,
    engine: str = "pandas",
    master: str | None = None,
) -> int:
    """`score INPUT OUTPUT`: the champion (or --model-uri) over a batch; prints the summary and where it wrote."""
    summary, run_id = run(get_settings(), load_params(), input_location, output, model_uri, overwrite, engine, master)
    outputs = Outputs(output)
    say(STEP, summary.text())
    say(STEP, f"wrote {outputs.scored}, {outputs.rejected} and {outputs.summary}; MLflow run {run_id}")
    return 0
