"""How fast `db archive` moves rows, and how long the service's inserts wait meanwhile (SQLite; `make bench-archive`).

A throwaway SQLite log is filled with ROWS predictions older than 30 days (10% with feedback), then archived in
batches of 5000 while a thread inserts one new prediction every 10 ms through the store, as the service's log writer
does. Printed: rows per second archived, and the median, p99 and worst latency of those inserts during the archive
against the same inserts alone. The store layer only: HTTP and the model are not in the figures.
"""

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from {{ cookiecutter.package_name }}.jobs.archive import archive
from {{ cookiecutter.package_name }}.store.database import create_db_engine, upgrade
from {{ cookiecutter.package_name }}.store.ids import new_ids
from {{ cookiecutter.package_name }}.store.repository import insert_predictions, record_model_version
from {{ cookiecutter.package_name }}.store.tables import Feedback

MODEL = "bench"


def rows(count: int, moment: datetime) -> list[dict[str, object]]:
    return [
        {
            "id": prediction_id,
            "created_at": moment - timedelta(seconds=i),
            "model_name": MODEL,
            "model_version": "1",
            "request_id": None,
            "features": {f"x{j}": float(i + j) for j in range(10)} | {"colour": "red"},
            "prediction": 1,
            "probabilities": {"0": 0.2, "1": 0.8},
            "out_of_range": None,
        }
        for i, prediction_id in enumerate(new_ids(count))
    ]


def insert_latencies(engine: object, stop: threading.Event, seconds: float | None = None) -> list[float]:
    """Milliseconds of each single-row insert, one every 10 ms, until `stop` is set (or `seconds` pass)."""
    latencies = []
    end = None if seconds is None else time.monotonic() + seconds
    while not stop.is_set() and (end is None or time.monotonic() < end):
        start = time.perf_counter()
        insert_predictions(engine, rows(1, datetime.now(UTC)))  # type: ignore[arg-type]
        latencies.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
    return latencies


def describe(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"median {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms ({len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    count = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'predictions.db'}")
        upgrade(engine)
        record_model_version(engine, MODEL, "1", None, {})
        old = datetime.now(UTC) - timedelta(days=31)
        for start in range(0, count, 20_000):
            batch = rows(min(20_000, count - start), old - timedelta(seconds=start))
            insert_predictions(engine, batch)
            labels = [
                {"id": uuid.uuid4(), "prediction_id": row["id"], "revision": 1, "created_at": old, "actual": 1}
                for row in batch[::10]
            ]
            with engine.begin() as connection:
                connection.execute(insert(Feedback), labels)
        alone = insert_latencies(engine, threading.Event(), seconds=10)
        stop = threading.Event()
        during: list[float] = []
        writer = threading.Thread(target=lambda: during.extend(insert_latencies(engine, stop)))
        writer.start()
        began = time.perf_counter()
        moved = archive(engine, Path(folder) / "archive", datetime.now(UTC) - timedelta(days=30))
        took = time.perf_counter() - began
        stop.set()
        writer.join()
        print(
            f"archived {moved.predictions} predictions ({moved.files} files) in {took:.1f} s: "
            f"{moved.predictions / took:,.0f} rows/s"
        )
        print(f"inserts alone:          {describe(alone)}")
        print(f"inserts during archive: {describe(during)}")


if __name__ == "__main__":
    main()
