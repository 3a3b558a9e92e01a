"""Which predictions a monitoring run reads: the window, the latest feedback, and a bounded, seeded sample."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, update

from {{ cookiecutter.package_name }}.core.monitoring import Reservoir, Window, parse_since, since_window
from {{ cookiecutter.package_name }}.io.prediction_log import Scope, read_window, start_of_last
from {{ cookiecutter.package_name }}.store.tables import Prediction

from .conftest import add_feedback, log_predictions

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
