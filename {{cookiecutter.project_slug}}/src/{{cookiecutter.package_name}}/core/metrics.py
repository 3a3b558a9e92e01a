"""Test metrics per task, which direction is better, the promotion decision, and the data behind the plots."""

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.preprocessing import label_binarize

from ..params import Task
from ..user_errors import UserError

# Metric name -> True when higher is better. f1 is macro-averaged so that it means the same for any labels.
HIGHER_IS_BETTER = {"accuracy": True, "f1": True, "roc_auc": True, "r2": True, "rmse": False, "mae": False}
METRICS: dict[Task, tuple[str, ...]] = {
    "classification": ("accuracy", "f1", "roc_auc"),
    "regression": ("rmse", "mae", "r2"),
}
DIGITS = 6  # metrics files keep this many decimals: readable, and stable from run to run


def check_metric(task: Task, metric: str) -> None:
    """Refuse a promotion metric that the task does not compute."""
    if metric not in METRICS[task]:
        raise UserError(
            f"params.yaml: promote.metric is {metric!r}, which is not a {task} metric; "
            f"it must be one of {', '.join(METRICS[task])}"
        )


def score(task: Task, model: Any, features: pd.DataFrame, target: pd.Series) -> dict[str, float]:
    """Every metric of the task for a fitted model on labelled rows."""
    predicted = model.predict(features)
    if task == "regression":
        return regression_metrics(target, predicted)
    return classification_metrics(target, predicted, model.predict_proba(features), list(model.classes_))


def classification_metrics(
    actual: pd.Series, predicted: np.ndarray, proba: np.ndarray, classes: list[Any]
) -> dict[str, float]:
    """Accuracy, macro F1 and ROC AUC (one-vs-rest for more than two classes; left out if the test has one class)."""
    result = {
        "accuracy": float(metrics.accuracy_score(actual, predicted)),
        "f1": float(metrics.f1_score(actual, predicted, average="macro")),
    }
    if actual.nunique() > 1:
        if len(classes) == 2:
            result["roc_auc"] = float(metrics.roc_auc_score(actual == classes[1], proba[:, 1]))
        elif actual.nunique() == len(classes):
            result["roc_auc"] = float(metrics.roc_auc_score(actual, proba, multi_class="ovr", labels=classes))
    return result


def regression_metrics(actual: pd.Series, predicted: np.ndarray) -> dict[str, float]:
    """Root mean squared error, mean absolute error and R squared."""
    return {
        "rmse": float(metrics.root_mean_squared_error(actual, predicted)),
        "mae": float(metrics.mean_absolute_error(actual, predicted)),
        "r2": float(metrics.r2_score(actual, predicted)),
    }


def rounded(values: dict[str, float]) -> dict[str, float]:
    return {name: round(value, DIGITS) for name, value in values.items()}


def is_better(metric: str, candidate: float, champion: float, margin: float) -> bool:
    """True when the candidate beats the champion by more than the margin, in the metric's direction."""
    gain = candidate - champion if HIGHER_IS_BETTER[metric] else champion - candidate
    return gain > margin


def predictions_frame(actual: pd.Series, predicted: np.ndarray) -> pd.DataFrame:
    """One row per test row: the actual value, the prediction and, for numbers, the residual."""
    frame = pd.DataFrame({"actual": actual.to_numpy(), "predicted": predicted})
    if pd.api.types.is_float_dtype(frame["predicted"]):
        frame = frame.assign(residual=frame["actual"] - frame["predicted"]).round(DIGITS)
    return frame


def roc_frame(actual: pd.Series, proba: np.ndarray, classes: list[Any]) -> pd.DataFrame:
    """ROC curve points: of the second class for two classes, micro-averaged over classes otherwise."""
    if len(classes) == 2:
        truth, scores = (actual == classes[1]).to_numpy(), proba[:, 1]
    else:
        truth, scores = label_binarize(actual, classes=classes).ravel(), proba.ravel()
    fpr, tpr, threshold = metrics.roc_curve(truth, scores)
    # The first threshold is +inf by convention; JSON and Vega want a number.
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": np.minimum(threshold, 1.0)}).round(DIGITS)
