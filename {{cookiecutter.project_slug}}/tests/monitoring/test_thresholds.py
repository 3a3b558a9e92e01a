"""When monitoring says a threshold was crossed, and what it prints."""

from datetime import UTC, datetime

import pytest

from {{ cookiecutter.package_name }}.core.monitoring import (
    Baseline,
    Reading,
    Summary,
    drift_breach,
    quality_baseline,
    quality_breach,
    relative_drop,
    render_summary,
)


def test_drift_breaches_only_when_evidently_flags_it() -> None:
    assert drift_breach(False, 0.4, 0.5) is None
    breach = drift_breach(True, 0.6, 0.5)
    assert breach is not None
    assert breach.check == "data_drift"
    assert "60%" in breach.message


def test_drop_follows_the_direction_of_the_metric() -> None:
    assert relative_drop("roc_auc", 0.9, 1.0) == pytest.approx(0.1)
    assert relative_drop("rmse", 12.0, 10.0) == pytest.approx(0.2)
    assert relative_drop("rmse", 8.0, 10.0) == pytest.approx(-0.2)


@pytest.mark.parametrize(
    ("metric", "live", "test", "breached"),
    [
        ("roc_auc", 0.90, 0.99, True),
        ("roc_auc", 0.96, 0.99, False),
        ("rmse", 11.0, 10.0, True),
        ("rmse", 9.0, 10.0, False),
    ],
)
def test_quality_breaches_when_worse_than_allowed(metric: str, live: float, test: float, breached: bool) -> None:
    baseline = Baseline(value=test, source="test split")
    assert (quality_breach(metric, live, baseline, 0.05, n_labeled=100, min_labeled=30) is not None) is breached


def test_quality_does_not_breach_on_too_few_labels() -> None:
    baseline = Baseline(value=0.99, source="test split")
    assert quality_breach("accuracy", 0.1, baseline, 0.05, n_labeled=5, min_labeled=30) is None
    assert quality_breach("accuracy", None, baseline, 0.05, n_labeled=100, min_labeled=30) is None
    assert quality_breach("accuracy", 0.1, None, 0.05, n_labeled=100, min_labeled=30) is None


def test_the_test_split_is_the_baseline_while_it_agrees_with_recent_feedback() -> None:
    # No recent slice was judged (the first version, or a gate that fell back): the test split.
    assert quality_baseline("roc_auc", 0.98, None, 0, guard=0.1) == Baseline(value=0.98, source="test split")
    # Judged on both, within the guard of each other: the test split, the larger and steadier sample.
    assert quality_baseline("roc_auc", 0.98, 0.93, 80, guard=0.1) == Baseline(value=0.98, source="test split")
    assert quality_baseline("rmse", 50.0, 54.0, 80, guard=0.1) == Baseline(value=50.0, source="test split")
    assert quality_baseline("roc_auc", None, 0.9, 80, guard=0.1) is None


def test_a_promotion_that_showed_the_test_split_stale_sets_the_baseline_to_recent_feedback() -> None:
    # Promoted after concept drift: 0.23 on yesterday's split, 0.86 on the 126 recent rows it never trained on.
    baseline = quality_baseline("roc_auc", 0.23, 0.86, 126, guard=0.1)
    assert baseline == Baseline(value=0.86, source="recent feedback", rows=126)
    # Post-swap traffic at 0.62 would pass a threshold taken from the test split; against the evidence it breaches.
    breach = quality_breach("roc_auc", 0.62, baseline, 0.05, n_labeled=100, min_labeled=30)
    assert breach is not None
    assert "worse than 0.86 on the 126 recent feedback rows it was promoted on" in breach.message
    assert quality_breach("roc_auc", 0.84, baseline, 0.05, n_labeled=100, min_labeled=30) is None
    # Lower is better works the same way: a regression model far better on recent rows than on the old split.
    assert quality_baseline("rmse", 80.0, 40.0, 60, guard=0.1) == Baseline(
        value=40.0, source="recent feedback", rows=60
    )


def make_summary(drifted: bool) -> Summary:
    breaches = [b for b in [drift_breach(drifted, 0.8 if drifted else 0.1, 0.5)] if b is not None]
    return Summary(
        created_at=datetime.now(UTC),
        model_name="m",
        model_version="3",
        task="classification",
        window={"start": None, "end": "2025-06-01T00:00:00+00:00", "description": "last 100 predictions"},
        reading=Reading(mode="all", sample_size=50_000, seed=0, rows_read=100, labeled_rows_read=40),
        n_current=100,
        n_labeled=40,
        n_reference=400,
        drift_detected=drifted,
        drift_share=0.8 if drifted else 0.1,
        drift_threshold=0.5,
        drifted_columns=["a", "b"] if drifted else [],
        n_columns=5,
        prediction_drift={"method": "Z-test p_value", "score": 0.01, "detected": drifted},
        quality_metric="roc_auc",
        quality={"roc_auc": 0.91},
        champion_test={"roc_auc": 0.95},
        breaches=breaches,
        reports={"html": "reports/monitoring/x/report.html"},
        quality_baseline=Baseline(value=0.95, source="test split"),
    )


def test_summary_json_round_trips() -> None:
    summary = make_summary(drifted=True)
    assert Summary.model_validate_json(summary.model_dump_json()) == summary
    assert summary.breached
    # A summary.json written before the baseline was recorded still loads, and still prints.
    older = Summary.model_validate_json(summary.model_copy(update={"quality_baseline": None}).model_dump_json())
    assert "test split: 0.95" in render_summary(older)


def test_printed_summary_fits_one_screen_and_names_the_breach() -> None:
    text = render_summary(make_summary(drifted=True))
    assert len(text.splitlines()) <= 12
    assert "DRIFT" in text
    assert "BREACH" in text
    assert "roc_auc 0.91 (baseline 0.95 on the test split)" in text
    quiet = render_summary(make_summary(drifted=False))
    assert "breaches   none" in quiet
    assert "no drift" in quiet
