"""Batch scoring against the hand-written script and `mlflow models predict`, on one generated CSV (`make bench-score`).

Needs a champion in the registry (`make pipeline`). A CSV of --rows rows with the champion's signature is written once
into a temporary folder: rows of the training split (data/processed/train.csv) drawn at random, each numeric value
moved by Gaussian noise of 5% of its column's spread, seeded (--seed), and rounded to 4 significant digits as a
data file would hold them. Then, for --rounds rounds, each of three child processes scores the whole file with the
same registered version (the alias is resolved once, so the three load the same one):

- `score`: `<package> score CSV OUTPUT` (the pandas engine, streaming chunks, validation and lineage per row);
- `script`: the batch job a team writes by hand, `mlflow.pyfunc.load_model(URI).predict(pd.read_csv(CSV))`,
  with the predictions written to Parquet beside the input columns;
- `mlflow`: `mlflow models predict -m URI -i CSV -t csv --env-manager local -o OUTPUT` (JSON predictions).

The order of the three turns each round, so that a burst of other work on a shared machine does not always hit the
same one. For each run: wall seconds from start to exit (the Python start, imports and model load included, as a
user waits for them), rows/s, and the peak resident memory of the process, which `os.wait4` returns with its exit
status (the kernel's ru_maxrss of that child alone: a fresh process per run, so no peak carries over). Each run's
output is counted, so that a run that scored fewer rows fails the benchmark. The table gives the medians over the
rounds and the ratios to the script, against score's targets (throughput at least 0.8x the script's, peak
memory at most half of it, faster than `mlflow models predict`).

Then, unless --skip-scale: the peak memory of `score` on 1M and on 5M rows (each CSV written, scored once and
deleted: streaming in chunks should keep the two within 25% of each other), and, when pyspark is installed
(`make install-spark`), `score --engine spark` on `local[1]` and `local[2]` over the --rows file, alternated for
--rounds rounds: rows/s and the scaling from one core to two. The MLflow runs that `score` logs (one per batch, in
`<name>-scoring`) are deleted afterwards: they are the benchmark's, not batches anyone scored.
"""

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet

from {{ cookiecutter.package_name }}.settings import find_project_root, get_settings

PACKAGE = "{{ cookiecutter.package_name }}"
ENGINES = ("score", "script", "mlflow")
SCALE_ROWS = (1_000_000, 5_000_000)
SPARK_MASTERS = ("local[1]", "local[2]")
CHUNK_ROWS = 200_000
# The batch job a team writes by hand without `score`: the whole file in memory, predictions beside it, one Parquet
# file.
SCRIPT = """
import sys
import mlflow.pyfunc
import pandas as pd

model_uri, csv_path, out = sys.argv[1:]
frame = pd.read_csv(csv_path)
frame["prediction"] = mlflow.pyfunc.load_model(model_uri).predict(frame)
frame.to_parquet(out)
"""


def champion(tracking_uri: str, model_uri: str) -> tuple[str, list[tuple[str, str]]]:
    """The exact version MODEL_URI names now (`models:/name/N`), and its signature's (column, type) pairs."""
    import mlflow
    from mlflow import MlflowClient

    from {{ cookiecutter.package_name }}.core.model_uri import parse_model_uri

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = MlflowClient()
    name, alias, version = parse_model_uri(model_uri)
    registered = client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, version)
    exact = f"models:/{name}/{registered.version}"
    signature = mlflow.models.get_model_info(exact).signature
    if signature is None:
        sys.exit(f"{exact} has no signature: the benchmark makes its CSV from the signature's columns")
    return exact, [(str(column.name), column.type.name) for column in signature.inputs.inputs]


def significant(values: np.ndarray, digits: int = 4) -> np.ndarray:
    """Values rounded to `digits` significant digits, so that the CSV's numbers are as long as real data's."""
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.where(values == 0, 0, np.floor(np.log10(np.abs(values))))
    scale = 10.0 ** (digits - 1 - magnitude)
    return np.round(values * scale) / scale


def write_csv(path: Path, rows: int, columns: list[tuple[str, str]], train: pd.DataFrame, seed: int) -> None:
    """`rows` rows of the signature's columns: training rows drawn at random, numbers moved by seeded noise."""
    rng = np.random.default_rng(seed)
    names = [name for name, _ in columns]
    absent = sorted(set(names) - set(train.columns))
    if absent:
        sys.exit(f"the training split lacks the champion's columns {absent}: run `make pipeline` again")
    numeric = [name for name, kind in columns if kind in {"double", "float", "long", "integer"}]
    spread = train[numeric].astype("float64").std().fillna(0.0).to_numpy()
    writer = None
    for first in range(0, rows, CHUNK_ROWS):
        count = min(CHUNK_ROWS, rows - first)
        chunk = train[names].iloc[rng.integers(0, len(train), count)].reset_index(drop=True)
        noisy = chunk[numeric].astype("float64").to_numpy() + rng.normal(0.0, 1.0, (count, len(numeric))) * (
            0.05 * spread
        )
        chunk[numeric] = significant(noisy)
        table = pa.Table.from_pandas(chunk, preserve_index=False)
        if writer is None:
            writer = pyarrow.csv.CSVWriter(path, table.schema)
        writer.write_table(table)
    if writer is not None:
        writer.close()


def commands(engine: str, model_uri: str, csv_path: Path, out: Path) -> list[str]:
    """The child's command line; `spark:<master>` is `score --engine spark --master <master>`."""
    bin_dir = Path(sys.executable).parent
    if engine == "score" or engine.startswith("spark:"):
        score = [str(bin_dir / PACKAGE), "score", str(csv_path), str(out), "--model-uri", model_uri, "--overwrite"]
        if engine.startswith("spark:"):
            score += ["--engine", "spark", "--master", engine.removeprefix("spark:")]
        return score
    if engine == "script":
        return [sys.executable, "-c", SCRIPT, model_uri, str(csv_path), str(out)]
    return [
        *(str(bin_dir / "mlflow"), "models", "predict", "-m", model_uri, "-i", str(csv_path)),
        *("-t", "csv", "--env-manager", "local", "-o", str(out)),
    ]


def rows_written(engine: str, out: Path) -> int:
    """How many predictions the run left, read from what it wrote."""
    if engine == "score" or engine.startswith("spark:"):
        summary = json.loads(out.with_name(f"{out.name}-summary.json").read_text(encoding="utf-8"))
        return int(summary["scored"])
    if engine == "script":
        return int(pyarrow.parquet.ParquetFile(out).metadata.num_rows)
    return len(json.loads(out.read_text(encoding="utf-8"))["predictions"])


def run_once(engine: str, model_uri: str, csv_path: Path, folder: Path, env: dict[str, str]) -> dict[str, Any]:
    """One child process scoring the whole file: wall seconds, its peak RSS (os.wait4's ru_maxrss) and its output."""
    out = folder / {"script": "script.parquet", "mlflow": "mlflow.json"}.get(engine, "scored")
    log = folder / "child.log"
    with log.open("w", encoding="utf-8") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(commands(engine, model_uri, csv_path, out), stdout=sink, stderr=sink, env=env)
        # wait4 rather than Popen.wait: the same reaping, plus the resource usage of this child alone.
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    if child.returncode != 0:
        sys.exit(f"{engine} failed (exit {child.returncode}):\n{text[-3000:]}")
    found = re.search(r"MLflow run (\w+)", text)
    # Linux reports ru_maxrss in KiB.
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "rows": rows_written(engine, out), "run": found}


def delete_runs(tracking_uri: str, run_ids: list[str]) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    for run_id in run_ids:
        client.delete_run(run_id)


def checked(result: dict[str, Any], engine: str, rows: int, runs: list[str]) -> dict[str, Any]:
    """The result, once its MLflow run is noted for deletion; the benchmark stops if it scored other than `rows`."""
    if result["run"] is not None:
        runs.append(result["run"].group(1))
    if result["rows"] != rows:
        sys.exit(f"{engine} wrote {result['rows']} predictions for {rows} rows")
    return result


def alternated(
    engines: list[str], rounds: int, rows: int, run: Any, runs: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each engine once a round, the order turned each round; the results per engine. run(engine) -> one result."""
    results: dict[str, list[dict[str, Any]]] = {engine: [] for engine in engines}
    for round_number in range(rounds):
        turn = round_number % len(engines)
        for engine in engines[turn:] + engines[:turn]:
            result = checked(run(engine), engine, rows, runs)
            results[engine].append(result)
            print(
                f"round {round_number + 1} {engine:>14}: {result['seconds']:6.1f} s, "
                f"{rows / result['seconds']:>9,.0f} rows/s, peak {result['peak_mb']:,.0f} MB",
                flush=True,
            )
    return results


def medians(results: dict[str, list[dict[str, Any]]], rows: int) -> dict[str, tuple[float, float]]:
    """Engine -> (median rows/s, median peak MB) over its rounds."""
    return {
        engine: (
            statistics.median(rows / r["seconds"] for r in rounds),
            statistics.median(r["peak_mb"] for r in rounds),
        )
        for engine, rounds in results.items()
    }


def target(text: str, ratio: float, met: bool) -> None:
    print(f"target: {text}: {ratio:.2f}x, {'met' if met else 'MISSED'}")


def print_comparison(figures: dict[str, tuple[float, float]], rounds: int) -> None:
    """The table of medians, the ratios to the script, and score's three targets."""
    base = figures.get("script")
    print(f"\n{'engine':>8} {'rows/s':>10} {'x script':>9} {'peak MB':>8} {'x script':>9}   (medians of {rounds})")
    for engine, (speed, peak) in figures.items():
        speed_ratio = f"{speed / base[0]:.2f}" if base else "-"
        peak_ratio = f"{peak / base[1]:.2f}" if base else "-"
        print(f"{engine:>8} {speed:>10,.0f} {speed_ratio:>9} {peak:>8,.0f} {peak_ratio:>9}")
    if "score" in figures and base:
        speed, peak = figures["score"]
        target("score's throughput at least 0.8x the script's", speed / base[0], speed >= 0.8 * base[0])
        target("score's peak memory at most 0.5x the script's", peak / base[1], peak <= 0.5 * base[1])
    if "score" in figures and "mlflow" in figures:
        faster = figures["score"][0] / figures["mlflow"][0]
        target("score faster than mlflow models predict", faster, faster > 1)


def memory_scaling(
    model_uri: str,
    columns: list[tuple[str, str]],
    train: pd.DataFrame,
    seed: int,
    folder: Path,
    env: dict[str, str],
    runs: list[str],
) -> None:
    """score's peak memory on 1M and 5M rows, each file written, scored once and deleted (disk is not free)."""
    peaks = []
    for rows in SCALE_ROWS:
        csv_path = folder / f"scale-{rows}.csv"
        write_csv(csv_path, rows, columns, train, seed)
        size = csv_path.stat().st_size / 2**20
        result = run_once("score", model_uri, csv_path, folder, env)
        csv_path.unlink()
        checked(result, "score", rows, runs)
        peaks.append(result["peak_mb"])
        print(
            f"score on {rows:>9,} rows ({size:,.0f} MB of CSV): {result['seconds']:6.1f} s, "
            f"{rows / result['seconds']:>9,.0f} rows/s, peak {result['peak_mb']:,.0f} MB",
            flush=True,
        )
    growth = peaks[1] / peaks[0]
    target("score's peak memory on 5M rows within 25% of 1M's", growth, growth <= 1.25)


def spark_scaling(
    model_uri: str, csv_path: Path, rows: int, rounds: int, folder: Path, env: dict[str, str], runs: list[str]
) -> None:
    """`score --engine spark` on local[1] and local[2], alternated: rows/s and the scaling."""
    if importlib.util.find_spec("pyspark") is None:
        print("\nSpark: skipped, pyspark is not installed (`make install-spark` adds it; Java 17+)")
        return
    size = csv_path.stat().st_size / 2**20
    print(f"\nSpark on the same {rows:,}-row file ({size:,.0f} MB of CSV), the JVM start included:", flush=True)
    engines = [f"spark:{master}" for master in SPARK_MASTERS]
    results = alternated(engines, rounds, rows, lambda e: run_once(e, model_uri, csv_path, folder, env), runs)
    figures = medians(results, rows)
    one, two = (figures[engine][0] for engine in engines)
    print(f"{SPARK_MASTERS[0]}: {one:,.0f} rows/s, {SPARK_MASTERS[1]}: {two:,.0f} rows/s, scaling {two / one:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--skip-scale", action="store_true", help="skip the 1M/5M memory part and the Spark part")
    args = parser.parse_args()
    settings = get_settings()
    model_uri, columns = champion(settings.mlflow_tracking_uri, settings.model_uri)
    train = pd.read_csv(find_project_root() / "data" / "processed" / "train.csv")
    # The children reach the same registry as this process (and its login, when .env holds one).
    env = {**os.environ, "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri}
    if settings.mlflow_tracking_username and settings.mlflow_tracking_password:
        env["MLFLOW_TRACKING_USERNAME"] = settings.mlflow_tracking_username
        env["MLFLOW_TRACKING_PASSWORD"] = settings.mlflow_tracking_password.get_secret_value()
    runs: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-score-") as temporary:
        folder = Path(temporary)
        csv_path = folder / "batch.csv"
        started = time.perf_counter()
        write_csv(csv_path, args.rows, columns, train, args.seed)
        size = csv_path.stat().st_size / 2**20
        print(
            f"{model_uri}: {args.rows:,} rows x {len(columns)} columns, {size:,.0f} MB of CSV "
            f"(written in {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        try:
            results = alternated(
                args.engines, args.rounds, args.rows, lambda e: run_once(e, model_uri, csv_path, folder, env), runs
            )
            print_comparison(medians(results, args.rows), args.rounds)
            if not args.skip_scale:
                print("\nPeak memory of score as the batch grows:", flush=True)
                memory_scaling(model_uri, columns, train, args.seed, folder, env, runs)
                spark_scaling(model_uri, csv_path, args.rows, args.rounds, folder, env, runs)
        finally:
            delete_runs(settings.mlflow_tracking_uri, runs)


if __name__ == "__main__":
    main()
