"""The trend plot: one point per run and series, a gap where a run had no quality value, data escaped."""

from datetime import UTC, datetime, timedelta

from {{ cookiecutter.package_name }}.core.monitoring import HistoryEntry
from {{ cookiecutter.package_name }}.core.trend_plot import trend_section


def run(hours: int, drift_share: float, quality: float | None, metric: str = "roc_auc") -> HistoryEntry:
    return HistoryEntry(
        created_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=hours),
        model_version="2",
        window="last 50 predictions",
        drift_share=drift_share,
        drift_detected=False,
        quality_metric=metric,
        quality_value=quality,
        n_current=50,
        n_labeled=20,
        breaches=[],
        out_of_range_share=0.0,
        run_dir="x",
    )


def test_each_run_is_a_point_of_drift_and_of_quality() -> None:
    section = trend_section([run(0, 0.0, 0.9), run(1, 0.5, 0.85), run(2, 1.0, 0.7)])
    assert section.count('class="trend-point" data-series="drift"') == 3
    assert section.count('class="trend-point" data-series="quality"') == 3
    assert section.count("<polyline") == 2
    assert "3 runs, 2026-03-01 00:00 to 2026-03-01 02:00 UTC" in section


def test_drift_share_is_drawn_on_a_fixed_zero_to_one_axis() -> None:
    section = trend_section([run(0, 0.0, 0.9), run(1, 1.0, 0.9)])
    drift = section.split('data-series="drift"', 1)[1]
    assert ">1</text>" in drift and ">0</text>" in drift


def test_a_run_without_feedback_is_a_gap_in_quality() -> None:
    section = trend_section([run(0, 0.1, None), run(1, 0.2, 0.8)])
    assert section.count('data-series="drift" cx=') == 2
    assert section.count('data-series="quality" cx=') == 1


def test_no_feedback_in_any_run_says_so_instead_of_an_empty_chart() -> None:
    section = trend_section([run(0, 0.1, None)])
    assert 'data-series="quality"' not in section
    assert "No run had enough feedback to compute roc_auc yet." in section


def test_no_history_is_a_sentence() -> None:
    section = trend_section([])
    assert "<svg" not in section and "No monitoring run is recorded" in section


def test_text_from_the_history_file_is_escaped() -> None:
    section = trend_section([run(0, 0.1, 0.5, metric="<img src=x onerror=alert(1)>")])
    assert "<img" not in section and "&lt;img src=x" in section
