"""How fast `db archive` moves rows, and how long the service's inserts wait meanwhile (`make bench-archive`).

A throwaway SQLite log (or, with `--database-url`, an empty PostgreSQL database that nothing else uses: never the
team's prediction log, the benchmark fills it) is filled with ROWS predictions older than 30 days (10% with
feedback), then archived in batches of 5000 while a thread inserts one new prediction every 10 ms through the store,
as the service's log writer does. Printed: rows per second archived, the archive's size, and the median, p99 and
worst latency of those inserts during the archive against the same inserts alone. The store layer only: HTTP and
the model are not in the figures.
"""

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from {{ cookiecutter.package_name }}.jobs.archive import archive
from {{ cookiecutter.package_name }}.store.database import create_db_engine, upgrade
from {{ cookiecutter.package_name }}.store.ids import new_ids
from {{ cookiecutter.package_name }}.store.repository import insert_predictions, record_model_version
from {{ cookiecutter.package_name }}.store.tables import Feedback, Prediction

MODEL = "bench"
Stop = threading.Event | ProcessEvent


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


def insert_latencies(engine: Engine, stop: Stop) -> list[float]:
    """Milliseconds of each single-row insert, one every 10 ms, until `stop` is set."""
    latencies = []
    while not stop.is_set():
        start = time.perf_counter()
        insert_predictions(engine, rows(1, datetime.now(UTC)))
        latencies.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
    return latencies


def insert_from_a_process(url: str, ready: Stop, stop: Stop, results: "multiprocessing.Queue[list[float]]") -> None:
    engine = create_db_engine(url)
    ready.set()
    results.put(insert_latencies(engine, stop))


def start_writer(mode: str, engine: Engine) -> Callable[[], list[float]]:
    """Start inserting; the returned call stops and gives the latencies.

    A thread shares the archive's process, and so its interpreter lock: its waits include that CPU contention. A
    process of its own is what the service is: its waits are the database's (locks, I/O) and the machine's cores.
    """
    if mode == "thread":
        stop = threading.Event()
        latencies: list[float] = []
        thread = threading.Thread(target=lambda: latencies.extend(insert_latencies(engine, stop)))
        thread.start()

        def finish_thread() -> list[float]:
            stop.set()
            thread.join()
            return latencies

        return finish_thread
    context = multiprocessing.get_context("spawn")
    ready, stop_process, results = context.Event(), context.Event(), context.Queue()
    url = engine.url.render_as_string(hide_password=False)
    process = context.Process(target=insert_from_a_process, args=(url, ready, stop_process, results))
    process.start()
    if not ready.wait(timeout=120):
        sys.exit("bench-archive: the inserting process did not start")

    def finish_process() -> list[float]:
        stop_process.set()
        found = results.get(timeout=120)
        process.join()
        return found

    return finish_process


def describe(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"median {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms ({len(ordered)})"


def fill(engine: Engine, count: int) -> None:
    """`count` predictions from 31 days back, one a second, every tenth labelled: 20,000 rows a transaction."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database-url", help="An empty throwaway database (default: a temporary SQLite file)")
    parser.add_argument(
        "--writer",
        choices=("thread", "process"),
        default="thread",
        help="Insert from a thread, or a process as the service",
    )
    arguments = parser.parse_args()
    count = arguments.rows
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(arguments.database_url or f"sqlite:///{Path(folder) / 'predictions.db'}")
        upgrade(engine)
        with engine.connect() as connection:
            if connection.execute(select(func.count()).select_from(Prediction)).scalar_one():
                sys.exit("bench-archive: that database already holds predictions: give it an empty throwaway one")
        record_model_version(engine, MODEL, "1", None, {})
        began = time.perf_counter()
        fill(engine, count)
        print(
            f"{engine.dialect.name}: {count:,} predictions logged in {time.perf_counter() - began:.0f} s; "
            f"inserts from a {arguments.writer}"
        )
        writer = start_writer(arguments.writer, engine)
        time.sleep(10)
        alone = writer()
        writer = start_writer(arguments.writer, engine)
        began = time.perf_counter()
        archive_root = Path(folder) / "archive"
        moved = archive(engine, archive_root, datetime.now(UTC) - timedelta(days=30))
        took = time.perf_counter() - began
        during = writer()
        size = sum(path.stat().st_size for path in archive_root.rglob("*.parquet"))
        print(
            f"archived {moved.predictions} predictions ({moved.files} files) in {took:.1f} s: "
            f"{moved.predictions / took:,.0f} rows/s; Parquet {size / 1e6:,.0f} MB "
            f"({size / max(moved.predictions, 1):,.0f} bytes a prediction)"
        )
        print(f"inserts alone:          {describe(alone)}")
        print(f"inserts during archive: {describe(during)}")


if __name__ == "__main__":
    main()
