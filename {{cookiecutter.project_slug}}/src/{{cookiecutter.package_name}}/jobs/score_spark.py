"""Batch scoring on Spark (`score --engine spark`): the pandas engine's rows, columns and rejections, on a cluster.

Each input file becomes a Spark DataFrame read as the pandas engine reads it (a CSV's columns as text), with each
row's number in its file. Every Spark task then runs jobs/score.py's BatchScorer on its Arrow batches (mapInArrow),
so which rows are rejected and why is decided by the one rule both engines share, and the lineage columns are made
the same way. The `prediction` column itself comes from MLflow's own `mlflow.pyfunc.spark_udf` over the signature's
columns by name (local environment manager: the executors' Python is the project's); the class probabilities and
the rejections from BatchScorer. The datasets are written to the same staging folder and moved into place by the
same `finish` as the pandas engine's. pyspark is an optional dependency: `make install-spark`.
"""

import logging
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..core.batch_rows import RejectTally, cause_of
from ..io.batch_files import Source, columns_of
from ..params import Params
from ..service.served_model import ServedModel
from ..user_errors import UserError
from .score import LINEAGE, BatchScorer, Outputs, Summary, as_numbers, batch_sources, finish

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

DEFAULT_MASTER = "local[*]"
INSTALL = "--engine spark needs pyspark, which `make install` leaves out: run `make install-spark`"
# Internal columns of the one dataset each task returns: the row's number in its file, and for a rejected row its
# column, value and reason (null for a scored row). Named so that no input column can be one of them.
ROW = "__score_source_row"
REJECTED = {"column": "__score_rejected_column", "value": "__score_rejected_value", "reason": "__score_rejected_reason"}


def pyspark_installed() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


def start_spark(master: str, app_name: str) -> "SparkSession":
    """A Spark session on `master`; a local one stays on 127.0.0.1 with no web UI, and runs this Python."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
    # Python workers run the project's interpreter unless the cluster says otherwise (docs/batch.md: executors).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    # The pandas engine's Parquet types: timestamps as microseconds (not Spark's legacy INT96).
    builder = builder.config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # pyspark's Java gateway error: no Java, or one Spark cannot run on
        raise UserError(
            f"Spark did not start ({type(error).__name__}: {str(error).splitlines()[0]}): it needs Java 17 or newer "
            "on the PATH or in JAVA_HOME; `doctor` says which Java it finds"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def read_source(spark: "SparkSession", source: Source) -> tuple["DataFrame", int]:
    """The file as the pandas engine reads it (a CSV's columns as text, empty as null), with each row's number in
    the column ROW; and how many rows it has."""
    from pyspark.sql import functions as F  # noqa: N812 (pyspark's own convention)

    path = Path(source.path).as_uri()
    frame = spark.read.parquet(path) if source.is_parquet else spark.read.option("header", True).csv(path)
    # A row's number in its file: Spark's id is (partition << 33) + position in the partition, and a file's
    # partitions are its consecutive parts, so the rows before each partition give the offset. All in the JVM.
    ids = frame.withColumn("__id", F.monotonically_increasing_id())
    ids = ids.withColumn("__partition", F.shiftright("__id", 33))
    sizes = sorted((int(row["__partition"]), int(row["count"])) for row in ids.groupBy("__partition").count().collect())
    starts: list[tuple[int, int]] = []
    rows = 0
    for partition, count in sizes:
        starts.append((partition, rows))
        rows += count
    offsets = spark.createDataFrame(starts, "__partition long, __start long")
    numbered = ids.join(F.broadcast(offsets), "__partition")
    row = F.col("__start") + F.col("__id") - F.shiftleft("__partition", 33)
    return numbered.withColumn(ROW, row).drop("__id", "__partition", "__start"), rows


def scored_schema(frame: "DataFrame", scorer: BatchScorer, missing: list[str]) -> "StructType":
    """The Spark schema of BatchScorer's scored rows for this file, with the rejected rows' columns after them."""
    from pyspark.sql.pandas.types import from_arrow_type
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType, TimestampType

    fields = []
    for field in frame.schema.fields:
        if field.name == ROW:
            continue
        kind = scorer.kinds.get(field.name)
        data_type = field.dataType if kind is None else DoubleType() if kind == "numeric" else StringType()
        fields.append(StructField(field.name, data_type))
    if not missing:  # a file that lacks a feature has no scored row, and no prediction column to type
        fields.append(StructField("prediction", from_arrow_type(scorer.prediction_type)))
        fields += [StructField(f"probability_{label}", DoubleType()) for label in scorer.model.classes]
    timed = {"scored_at": TimestampType(), "source_row": LongType()}
    fields += [StructField(name, timed.get(name, StringType())) for name in LINEAGE]
    fields += [StructField(name, StringType()) for name in REJECTED.values()]
    return StructType(fields)


class Tables:
    """A sink that keeps the tables a BatchScorer hands it (a Spark task returns them as its output)."""

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []

    def write(self, table: pa.Table) -> None:
        self.tables.append(table)


def conform(table: pa.Table, schema: pa.Schema, renamed: dict[str, str] | None = None) -> pa.Table:
    """`table` with exactly the columns of `schema`, in order and of its types: the ones it lacks as nulls."""
    renamed = renamed or {}
    columns = {renamed.get(name, name): table.column(name) for name in table.column_names}
    arrays = [
        columns[field.name].cast(field.type) if field.name in columns else pa.nulls(table.num_rows, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def score_batches(
    model: ServedModel, file: str, missing: list[str], schema: pa.Schema, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """One Spark task: BatchScorer over its batches, the scored and the rejected rows as one stream of `schema`."""
    scored, rejected = Tables(), Tables()
    scorer = BatchScorer(model, scored, rejected)
    to_reject = {name: REJECTED[name] for name in ("column", "value", "reason")}
    for batch in batches:
        table = pa.Table.from_batches([batch])
        rows = table.column(ROW).to_numpy().astype("int64")
        scorer.score_chunk(file, as_numbers(table.drop_columns([ROW]), scorer.kinds), rows, missing)
        out = [conform(t, schema) for t in scored.tables] + [conform(t, schema, to_reject) for t in rejected.tables]
        scored.tables.clear()
        rejected.tables.clear()
        for part in out:
            yield from part.to_batches()


def score_file(
    spark: "SparkSession", source: Source, model: ServedModel, predict: Any, staging: Path
) -> tuple[int, int]:
    """Score one file into the staging datasets; its rows in and rows scored. ValueError for a file refused whole."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql.pandas.types import to_arrow_schema

    checker = BatchScorer(model, Tables(), Tables())
    missing = checker.check_columns(source.name, columns_of(source))
    frame, rows_in = read_source(spark, source)
    schema = scored_schema(frame, checker, missing)
    task = partial(score_batches, model, source.name, missing, to_arrow_schema(schema, timezone="UTC"))
    both = frame.mapInArrow(task, schema).persist()
    try:
        reason = F.col(REJECTED["reason"])
        scored = both.where(reason.isNull()).drop(*REJECTED.values())
        scored_rows = scored.count()
        if scored_rows:
            features = F.struct(*[F.col(f"`{feature.name}`") for feature in model.features])
            scored.withColumn("prediction", predict(features)).write.mode("append").parquet(str(staging / "scored"))
        rejected = both.where(reason.isNotNull()).select(
            "source_file", "source_row", *[F.col(internal).alias(name) for name, internal in REJECTED.items()]
        )
        rejected.write.mode("append").parquet(str(staging / "rejected"))
    finally:
        both.unpersist()
    return rows_in, scored_rows


def rejection_tally(spark: "SparkSession", folder: Path, rows_in: int) -> RejectTally:
    """The batch's tally (rows in, rows rejected, the commonest causes) from the rejected dataset Spark wrote."""
    rejected = spark.read.parquet(str(folder))
    rows = rejected.select("source_file", "source_row").distinct().count()
    tally = RejectTally(rows=rows_in, rejected=rows)
    for found in rejected.groupBy("column", "reason").count().collect():
        tally.causes[(found["column"], cause_of(found["reason"]))] += found["count"]
    return tally


def score(
    input_location: str,
    output: Path,
    model: ServedModel,
    model_uri: str,
    params: Params,
    overwrite: bool = False,
    master: str = DEFAULT_MASTER,
) -> Summary:
    """The pandas engine's `score`, on Spark; model_uri names the exact version `model` is (for spark_udf)."""
    import mlflow.pyfunc
    from pyspark.sql.pandas.types import from_arrow_type

    outputs = Outputs(output)
    sources = batch_sources(input_location, outputs, overwrite)
    started = time.perf_counter()
    with warnings.catch_warnings():
        # pyspark warns that it does not yet fully support pandas 3 at every import; the columns it gets are Arrow.
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
        spark = start_spark(master, f"{model.name}-scoring")
        prediction_type = from_arrow_type(BatchScorer(model, Tables(), Tables()).prediction_type)
        # MLflow warns that "local" does not recreate the training environment: the executors run this project's
        # locked one, which is the model's (docs/batch.md: what executors need).
        pyfunc_log = logging.getLogger("mlflow.pyfunc")
        level = pyfunc_log.level
        pyfunc_log.setLevel(logging.ERROR)
        try:
            predict = mlflow.pyfunc.spark_udf(spark, model_uri, env_manager="local", result_type=prediction_type)
        finally:
            pyfunc_log.setLevel(level)
        staging = outputs.staging()
        staging.mkdir(parents=True, exist_ok=True)
        try:
            rows_in, scored = 0, 0
            for source in sources:
                try:
                    rows, done = score_file(spark, source, model, predict, staging)
                except ValueError as error:
                    raise UserError(str(error)) from None
                rows_in, scored = rows_in + rows, scored + done
            (staging / "scored").mkdir(exist_ok=True)  # as the pandas engine's, when no row could be scored
            tally = rejection_tally(spark, staging / "rejected", rows_in)
            batch = (input_location, "spark", time.perf_counter() - started)
            return finish(staging, outputs, tally, scored, model, params, batch, overwrite)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
