"""Metrics per task, their direction, the promotion rule and the data behind the plots."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.metrics import (
    check_metric,
    classification_metrics,
    is_better,
    predictions_frame,
    regression_metrics,
    roc_frame,
)
from {{ cookiecutter.package_name }}.user_errors import UserError


@pytest.mark.parametrize(
    ("metric", "candidate", "champion", "margin", "better"),
    [
        ("roc_auc", 0.91, 0.90, 0.0, True),
        ("roc_auc", 0.91, 0.90, 0.02, False),
        ("roc_auc", 0.90, 0.90, 0.0, False),
        ("rmse", 9.0, 10.0, 0.5, True),
        ("rmse", 11.0, 10.0, 0.0, False),
        ("r2", 0.5, 0.4, 0.0, True),
    ],
)
def test_is_better_respects_direction_and_margin(
    metric: str, candidate: float, champion: float, margin: float, better: bool
) -> None:
    assert is_better(metric, candidate, champion, margin) is better


def test_a_metric_of_the_other_task_is_refused() -> None:
    check_metric("regression", "mae")
    with pytest.raises(UserError, match="rmse"):
        check_metric("regression", "roc_auc")


def test_classification_metrics_work_with_string_labels() -> None:
    actual = pd.Series(["no", "yes", "yes", "no"])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    result = classification_metrics(actual, np.array(["no", "yes", "no", "no"]), proba, ["no", "yes"])
    assert result == {"accuracy": 0.75, "f1": pytest.approx(0.733333, abs=1e-6), "roc_auc": 1.0}


def test_roc_auc_is_left_out_when_the_test_split_has_one_class() -> None:
    result = classification_metrics(pd.Series([1, 1]), np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]]), [0, 1])
    assert "roc_auc" not in result


def test_regression_metrics() -> None:
    result = regression_metrics(pd.Series([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    assert result["mae"] == pytest.approx(2 / 3)
    assert result["rmse"] == pytest.approx((4 / 3) ** 0.5)


def test_predictions_frame_has_residuals_for_numbers_only() -> None:
    numbers = predictions_frame(pd.Series([1.0, 2.0]), np.array([1.5, 2.0]))
    assert numbers["residual"].tolist() == [-0.5, 0.0]
    labels = predictions_frame(pd.Series(["a", "b"]), np.array(["a", "a"]))
    assert list(labels.columns) == ["actual", "predicted"]


def test_roc_frame_runs_from_origin_to_one_with_finite_thresholds() -> None:
    actual = pd.Series(["a", "b", "c", "a"])
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]])
    roc = roc_frame(actual, proba, ["a", "b", "c"])
    assert roc.iloc[0][["fpr", "tpr"]].tolist() == [0.0, 0.0]
    assert roc.iloc[-1][["fpr", "tpr"]].tolist() == [1.0, 1.0]
    assert np.isfinite(roc["threshold"]).all()
