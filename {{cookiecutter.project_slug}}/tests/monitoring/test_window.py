"""Which predictions a monitoring run reads: the window, the latest feedback, and a bounded, seeded sample."""

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, insert, update
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.core.monitoring import Reservoir, Window, parse_since, range_window, since_window
from {{ cookiecutter.package_name }}.core.source_caps import ANONYMOUS
from {{ cookiecutter.package_name }}.io.prediction_archive import (
    ARCHIVE,
    archive_files,
    day_of,
    file_for,
    to_table,
    write_durably,
)
from {{ cookiecutter.package_name }}.io.prediction_log import Scope, read_window, start_of_last
from {{ cookiecutter.package_name }}.jobs.archive import archive
from {{ cookiecutter.package_name }}.jobs.context import Paths
from {{ cookiecutter.package_name }}.params import Params
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.database import create_db_engine, upgrade
from {{ cookiecutter.package_name }}.store.repository import oldest_predictions, record_model_version
from {{ cookiecutter.package_name }}.store.tables import Prediction

from .conftest import TASK, add_feedback, log_predictions, make_frame, project_settings

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_since_accepts_relative_durations_and_iso_times() -> None:
    assert parse_since("24h", NOW) == NOW - timedelta(hours=24)
    assert parse_since("7d", NOW) == NOW - timedelta(days=7)
    assert parse_since("2025-05-31T00:00", NOW) == datetime(2025, 5, 31, tzinfo=UTC)
    assert parse_since("2025-05-31T00:00+02:00", NOW) == datetime(2025, 5, 30, 22, tzinfo=UTC)


def test_since_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="--since"):
        parse_since("yesterday", NOW)


def test_no_option_means_every_prediction_up_to_now() -> None:
    window = since_window(None, NOW)
    assert window.start is None
    assert window.end == NOW


def test_last_n_reads_only_the_newest_n_predictions(engine: Engine) -> None:
    log_predictions(engine, 50)
    now = datetime.now(UTC)
    start = start_of_last(engine, "m", "1", 10, now)
    sample = read_window(engine, Scope("m", "1", Window(start, now, "last 10")), size=100, seed=0)
    assert sample.rows == 10
    assert sorted(row["features"]["x"] for row in sample.current) == list(range(40, 50))
    assert start_of_last(engine, "m", "1", 500, now) is None  # fewer than asked: the whole log


def test_window_ignores_other_versions_and_later_predictions(engine: Engine) -> None:
    log_predictions(engine, 20)
    sample = read_window(engine, Scope("m", "2", since_window(None, datetime.now(UTC))), size=100, seed=0)
    assert sample.rows == 0
    early = read_window(engine, Scope("m", "1", since_window(None, datetime.now(UTC) - timedelta(days=2))), 100, 0)
    assert early.rows == 0


def test_labelled_rows_carry_the_latest_feedback_revision(engine: Engine) -> None:
    ids = log_predictions(engine, 5)
    add_feedback(engine, ids[0], [1, 0])  # a correction: the second report counts
    add_feedback(engine, ids[3], [1])
    sample = read_window(engine, Scope("m", "1", since_window(None, datetime.now(UTC))), size=100, seed=0)
    actuals = {row["features"]["x"]: row["actual"] for row in sample.labeled}
    assert actuals == {0: 0, 3: 1}
    assert (sample.rows, sample.labeled_rows, sample.sampled) == (5, 2, False)


def test_predictions_flagged_out_of_range_are_counted_in_the_window(engine: Engine) -> None:
    ids = log_predictions(engine, 8)
    with engine.begin() as connection:
        connection.execute(update(Prediction).where(Prediction.id.in_(ids[:2])).values(out_of_range=["x"]))
        # What the service writes for a record inside every range: None, stored as SQL NULL, so it is not counted.
        connection.execute(update(Prediction).where(Prediction.id == ids[2]).values(out_of_range=None))
    sample = read_window(engine, Scope("m", "1", since_window(None, datetime.now(UTC))), size=3, seed=0)
    assert (sample.rows, sample.out_of_range_rows) == (8, 2)


def test_a_window_larger_than_the_sample_size_is_sampled_in_bounded_memory(engine: Engine) -> None:
    log_predictions(engine, 3_000)
    scope = Scope("m", "1", since_window(None, datetime.now(UTC)))
    first = read_window(engine, scope, size=200, seed=7, chunk=256)
    again = read_window(engine, scope, size=200, seed=7, chunk=256)
    assert (first.rows, len(first.current), first.sampled) == (3_000, 200, True)
    assert first.current == again.current  # seeded: the same report twice
    values = np.array([row["features"]["x"] for row in first.current])
    assert len(set(values.tolist())) == 200
    assert 1_200 < values.mean() < 1_800  # spread over the whole window, not its first rows


def test_reservoir_keeps_everything_up_to_its_size() -> None:
    reservoir: Reservoir[int] = Reservoir(size=10, seed=0)
    reservoir.offer(list(range(4)))
    reservoir.offer(list(range(4, 10)))
    assert reservoir.items == list(range(10))
    assert not reservoir.sampled


def test_reservoir_gives_every_item_the_same_chance() -> None:
    hits = np.zeros(100)
    for seed in range(400):
        reservoir: Reservoir[int] = Reservoir(size=10, seed=seed)
        for start in range(0, 100, 30):
            reservoir.offer(list(range(start, min(start + 30, 100))))
        hits[reservoir.items] += 1
    # Each item is kept with probability 10/100: 40 times in 400 runs, give or take sampling noise.
    assert hits.min() > 15
    assert hits.max() < 70
    assert abs(hits[:50].sum() - hits[50:].sum()) < 300


# --from/--to: a window that reaches into the archive `db archive` wrote (data/archive/predictions/).


def log_days_ago(engine: Engine, days: list[float], now: datetime) -> list[uuid.UUID]:
    """One prediction per entry, `days[i]` days before now, with x = i; every third labelled (a correction on every
    sixth), every fourth flagged out of range. Returns the ids, in the order of `days`."""
    ids = [uuid.uuid4() for _ in days]
    rows = [
        {
            "id": ids[i],
            "created_at": now - timedelta(days=ago),
            "model_name": "m",
            "model_version": "1",
            "features": {"x": i},
            "prediction": i % 2,
            "probabilities": {"0": 0.5, "1": 0.5},
            "out_of_range": ["x"] if i % 4 == 0 else None,
        }
        for i, ago in enumerate(days)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Prediction), rows)
    for i, prediction_id in enumerate(ids):
        if i % 3 == 0:
            add_feedback(engine, prediction_id, [1, 0] if i % 6 == 0 else [1])
    return ids


# Two predictions a day from 60 days back to yesterday, the newest last.
DAYS = [day + half for day in range(60, 0, -1) for half in (0.0, 0.5)]


def expected(now: datetime, window: Window) -> dict[str, Any]:
    """What a window holds of DAYS, worked out from the list itself."""
    assert window.start is not None
    inside = [i for i, ago in enumerate(DAYS) if window.start <= now - timedelta(days=ago) <= window.end]
    return {
        "xs": sorted(inside),
        "actuals": {i: 0 if i % 6 == 0 else 1 for i in inside if i % 3 == 0},
        "out_of_range": sum(i % 4 == 0 for i in inside),
    }


def test_from_to_reads_a_window_that_straddles_the_archive_cut(engine: Engine, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    log_days_ago(engine, DAYS, now)
    root = tmp_path / ARCHIVE
    moved = archive(engine, root, now - timedelta(days=30), batch_size=7)  # `db archive --older-than 30d`
    assert moved.predictions == sum(ago > 30 for ago in DAYS)
    window = range_window("45d", "15d", now)  # half of it archived, half still in the log
    sample = read_window(engine, Scope("m", "1", window), size=1_000, seed=0, archive=root)
    want = expected(now, window)
    assert sorted(row["features"]["x"] for row in sample.current) == want["xs"]
    assert {row["features"]["x"]: row["actual"] for row in sample.labeled} == want["actuals"]
    assert (sample.rows, sample.labeled_rows, sample.out_of_range_rows) == (
        len(want["xs"]),
        len(want["actuals"]),
        want["out_of_range"],
    )
    assert {row["source"] for row in sample.labeled} == {ANONYMOUS}
    # The log alone, as before the archive: only the half after the cut.
    log_only = read_window(engine, Scope("m", "1", window), size=1_000, seed=0)
    assert log_only.rows == sum(15 <= ago <= 30 for ago in DAYS)


def test_a_row_still_in_the_log_or_twice_in_the_archive_is_counted_once(engine: Engine, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    log_days_ago(engine, DAYS, now)
    root = tmp_path / ARCHIVE
    archive(engine, root, now - timedelta(days=40), batch_size=7)
    # A run killed between its write and its delete: the next rows' files are durable, the rows still logged.
    batch = oldest_predictions(engine, now - timedelta(days=30), 1_000)
    for day, rows in groupby(batch, key=lambda row: day_of(row[0].created_at)):
        day_rows = list(rows)
        write_durably(to_table(day_rows), file_for(root, day, day_rows[0][0].id))
    # And a day's rows in two files (a killed run with another --batch-size wrote them under another first id).
    copied = next(path for path in archive_files(root) if path.parent.name == f"day={day_of(now - timedelta(days=45))}")
    shutil.copyfile(copied, copied.with_name(f"part-{uuid.uuid4()}.parquet"))
    window = range_window("50d", "10d", now)
    sample = read_window(engine, Scope("m", "1", window), size=1_000, seed=0, archive=root)
    want = expected(now, window)
    xs = [row["features"]["x"] for row in sample.current]
    assert sorted(xs) == want["xs"]  # each once
    assert sample.rows == len(want["xs"])
    assert sorted(row["features"]["x"] for row in sample.labeled) == sorted(want["actuals"])
    assert sample.out_of_range_rows == want["out_of_range"]


def test_an_archived_window_is_sampled_with_the_same_seed_every_time(engine: Engine, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    log_days_ago(engine, DAYS, now)
    root = tmp_path / ARCHIVE
    archive(engine, root, now - timedelta(days=30), batch_size=7)
    scope = Scope("m", "1", range_window("60d", now.isoformat(), now))
    first = read_window(engine, scope, size=25, seed=3, chunk=16, archive=root)
    again = read_window(engine, scope, size=25, seed=3, chunk=16, archive=root)
    assert (first.rows, len(first.current), first.sampled) == (len(DAYS) - 1, 25, True)  # 60.5 days ago is outside
    assert first.current == again.current
    values = np.array([row["features"]["x"] for row in first.current])
    assert values.min() < 40 < values.max()  # from both sides of the cut (x < 60: archived)


def test_a_window_before_anything_was_logged_is_empty(engine: Engine, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    log_days_ago(engine, DAYS, now)
    root = tmp_path / ARCHIVE
    archive(engine, root, now - timedelta(days=30), batch_size=7)
    sample = read_window(engine, Scope("m", "1", range_window("90d", "70d", now)), 100, 0, archive=root)
    assert (sample.rows, sample.labeled_rows, sample.current) == (0, 0, [])


def test_from_and_to_read_spans_and_iso_dates_and_refuse_a_backwards_window() -> None:
    window = range_window("60d", "30d", NOW)
    assert (window.start, window.end) == (NOW - timedelta(days=60), NOW - timedelta(days=30))
    assert range_window("2025-05-01", None, NOW) == Window(
        datetime(2025, 5, 1, tzinfo=UTC), NOW, "predictions from 2025-05-01T00:00:00+00:00 to 2025-06-01T12:00:00+00:00"
    )
    with pytest.raises(ValueError, match=r"--from \(2025-05-31T12:00:00\+00:00\) must be before --to"):
        range_window("1d", "2d", NOW)
    with pytest.raises(ValueError, match="--to expects"):
        range_window("2d", "last week", NOW)


def test_monitor_from_to_reports_an_archived_window_beside_the_services_runs(
    trained_project: tuple[Settings, Params, Paths], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The job on a trained champion: its logged predictions from 45 to 16 days back, archived before 30 days, read
    by `--from 40d --to 20d` into reports/monitoring/window-<start>-<end>/; latest/ stays the service's."""
    from {{ cookiecutter.package_name }}.jobs import monitor

    trained, params, paths = trained_project
    shutil.copytree(paths.root / "data", tmp_path / "data")  # the champion's splits: the reports' reference
    settings = project_settings(
        tmp_path, mlflow_tracking_uri=trained.mlflow_tracking_uri, mlflow_artifact_root=trained.mlflow_artifact_root
    )
    champion = monitor.load_reference(settings, params).champion
    log = create_db_engine(settings.database_url)
    upgrade(log)
    record_model_version(log, champion.name, champion.version, None, {})
    now = datetime.now(UTC)

    def ago(i: int) -> float:  # 45.25 days back to 15.75, none on a boundary of the window or the cut
        return 45.25 - i / 2

    frame = make_frame(60, seed=5).drop(columns="target")
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    ids = [uuid.uuid4() for _ in records]
    with log.begin() as connection:
        connection.execute(
            insert(Prediction),
            [
                {
                    "id": ids[i],
                    "created_at": now - timedelta(days=ago(i)),
                    "model_name": champion.name,
                    "model_version": champion.version,
                    "features": record,
                    "prediction": 1 if TASK == "classification" else 50.0,
                }
                for i, record in enumerate(records)
            ],
        )
    moved = archive(log, tmp_path / ARCHIVE, now - timedelta(days=30))
    assert moved.predictions == sum(ago(i) > 30 for i in range(len(ids)))

    summary = monitor.run(settings, params, span=monitor.Span(start="40d", end="20d"))
    assert summary is not None
    assert summary.n_current == sum(20 <= ago(i) <= 40 for i in range(len(ids)))  # 20 archived, 20 logged
    report = Path(summary.reports["html"])
    assert report.is_file() and report.parent.parent.name.startswith("window-")
    assert report.parent.parent.parent == settings.monitoring_dir
    assert not (settings.monitoring_dir / "latest").exists()  # a look back: not the service's current report

    assert monitor.run(settings, params, span=monitor.Span(start="90d", end="70d")) is None
    assert "No predictions of" in capsys.readouterr().out
    log.dispose()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "60d", "--last", "5"], "--from/--to is a window of its own"),
        (["--from", "60d", "--since", "7d"], "--from/--to is a window of its own"),
        (["--to", "30d"], "--to ends a window that --from starts"),
        (["--from", "30d", "--to", "60d"], "must be before --to"),
        (["--from", "last month"], "--from expects 24h, 7d, 30m or an ISO date"),
        (["--since", "yesterday"], "--since expects 24h, 7d, 30m or an ISO date"),
    ],
)
def test_monitor_refuses_a_window_it_cannot_read_in_one_sentence(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["monitor", *arguments])
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
    assert "Traceback" not in result.output
