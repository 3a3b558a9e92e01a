"""Time and peak memory of monitoring over 10k, 100k and 1M logged predictions (`make bench-monitor`).

For each size a child process fills a throwaway SQLite prediction log through the store's tables (bulk inserts;
1% of the rows get feedback), then runs what `monitor` runs: the streamed, seeded reservoir read of the window
(monitor.sample_size rows from params.yaml) and the Evidently reports on the sample. Only those two phases are timed;
the peak resident memory (ru_maxrss) of the child shows that memory follows the sample size, not the log size.
The reference is a model fitted in the child on the same synthetic schema (10 numeric features and 1 categorical),
so the benchmark needs no MLflow registry and leaves the project's files alone.
"""

import argparse
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PACKAGE = "{{ cookiecutter.package_name }}"
SIZES = (10_000, 100_000, 1_000_000)
NUMERIC = [f"x{i}" for i in range(10)]
COLOURS = np.array(["red", "green", "blue", "amber"], dtype=object)
BATCH = 20_000


def synthetic(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.DataFrame(rng.normal(0.0, 1.0, (n, len(NUMERIC))), columns=NUMERIC)
    frame["colour"] = rng.choice(COLOURS, n)
    score = frame["x0"] + 0.5 * frame["x1"] - (frame["colour"] == "red") + rng.normal(0.0, 0.5, n)
    return frame, (score > 0).astype(int).to_numpy()


def fill_log(url: str, rows: int, model: Any, seed: int) -> None:
    """Logged predictions (and 1% feedback) straight into the store's tables, BATCH rows per INSERT."""
    database = importlib.import_module(f"{PACKAGE}.store.database")
    tables = importlib.import_module(f"{PACKAGE}.store.tables")
    from sqlalchemy import insert

    engine = database.create_db_engine(url)
    database.upgrade(engine)
    rng, start = np.random.default_rng(seed), datetime.now(UTC) - timedelta(days=1)
    with engine.begin() as connection:
        connection.execute(insert(tables.ModelVersion), [{"name": "bench", "version": "1", "lineage": {}}])
    for first in range(0, rows, BATCH):
        n = min(BATCH, rows - first)
        features, truth = synthetic(n, rng)
        proba = model.predict_proba(features)[:, 1]
        ids = [uuid.uuid4() for _ in range(n)]
        records = features.to_dict(orient="records")
        predictions = [
            {
                "id": ids[i],
                "created_at": start + timedelta(milliseconds=first + i),
                "model_name": "bench",
                "model_version": "1",
                "request_id": None,
                "features": records[i],
                "prediction": int(proba[i] > 0.5),
                "probabilities": {"0": float(1 - proba[i]), "1": float(proba[i])},
            }
            for i in range(n)
        ]
        labelled = np.flatnonzero(rng.random(n) < 0.01)
        feedback = [
            {"id": uuid.uuid4(), "prediction_id": ids[i], "revision": 1, "created_at": start, "actual": int(truth[i])}
            for i in labelled
        ]
        with engine.begin() as connection:
            connection.execute(insert(tables.Prediction), predictions)
            if feedback:
                connection.execute(insert(tables.Feedback), feedback)
    engine.dispose()


def child(rows: int, folder: Path) -> dict[str, Any]:
    """Fill a log of `rows` predictions, then time the monitoring read and reports; returns the figures."""
    monitor = importlib.import_module(f"{PACKAGE}.jobs.monitor")
    reference_io = importlib.import_module(f"{PACKAGE}.io.reference")
    prediction_log = importlib.import_module(f"{PACKAGE}.io.prediction_log")
    core = importlib.import_module(f"{PACKAGE}.core.monitoring")
    model_module = importlib.import_module(f"{PACKAGE}.core.model")
    params = importlib.import_module(f"{PACKAGE}.params").load_params()
    kinds = {**dict.fromkeys(NUMERIC, "numeric"), "colour": "categorical"}
    rng = np.random.default_rng(0)
    train, y_train = synthetic(2_000, rng)
    test, y_test = synthetic(500, rng)
    model = model_module.build_pipeline("classification", "logistic_regression", {}, 0, kinds).fit(train, y_train)
    champion = reference_io.Champion(
        name="bench",
        version="1",
        run_id="bench",
        task="classification",
        target="target",
        kinds=kinds,
        classes=[0, 1],
        test_metrics={"accuracy": float((model.predict(test) == y_test).mean()), "roc_auc": 0.9, "f1": 0.8},
        recent_metrics={},
        recent_rows=0,
        tags={},
        pipeline=model,
    )
    reference = monitor.Reference(
        champion=champion,
        train=reference_io.with_predictions(champion, train.assign(target=y_train)),
        test=reference_io.with_predictions(champion, test.assign(target=y_test)),
    )
    url = f"sqlite:///{folder / 'predictions.db'}"
    started = time.perf_counter()
    fill_log(url, rows, model, seed=1)
    filled = time.perf_counter() - started
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    database = importlib.import_module(f"{PACKAGE}.store.database")
    engine = database.create_db_engine(url)
    window = core.since_window(None, datetime.now(UTC))
    started = time.perf_counter()
    sample = prediction_log.read_window(
        engine, prediction_log.Scope("bench", "1", window), params.monitor.sample_size, params.monitor.seed
    )
    read = time.perf_counter() - started
    out = folder / "report"
    out.mkdir()
    started = time.perf_counter()
    summary = monitor.monitor(reference, sample, window, params, out)
    reported = time.perf_counter() - started
    return {
        "rows": rows,
        "labelled": sample.labeled_rows,
        "mode": summary.reading.mode,
        "rows_in_report": summary.reading.rows_read,
        "fill_s": round(filled, 1),
        "read_s": round(read, 1),
        "report_s": round(reported, 1),
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_read_mb": round(baseline / 1024),
        "drift_detected": summary.drift_detected,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="bench-monitor-") as folder:
            print(json.dumps(child(args.child, Path(folder))), flush=True)
        return
    header = ("rows", 9), ("labelled", 8), ("read", 9), ("fill s", 7), ("read s", 7), ("report s", 8), ("base MB", 8)
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'peak MB':>8}")
    for size in args.sizes:
        # One process per size, so that each peak is its own and not the largest so far.
        done = subprocess.run([sys.executable, __file__, "--child", str(size)], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"size {size} failed:\n{done.stderr[-3000:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{row['rows']:>9} {row['labelled']:>8} {row['mode']:>9} {row['fill_s']:>7} {row['read_s']:>7}"
            f" {row['report_s']:>8} {row['rss_before_read_mb']:>8} {row['peak_rss_mb']:>8}",
            flush=True,
        )


if __name__ == "__main__":
    main()
