"""Evidently reports on the window (drift, data summary, prediction drift; quality on feedback) and what they found."""

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from evidently import BinaryClassification, DataDefinition, Dataset, MulticlassClassification, Regression, Report
from evidently.core.report import Snapshot
from evidently.metrics import ValueDrift
from evidently.presets import ClassificationPreset, DataDriftPreset, DataSummaryPreset, RegressionPreset
from evidently.presets.dataset_stats import ValueStatsTests

from ..params import Task
from .features import Kind

# Columns the monitor adds beside the features; a feature with one of these names would be ambiguous.
PREDICTION, ACTUAL, PROBABILITY = "prediction", "actual", "probability"
SUMMARY_TEST_ARGS = (
    "row_count_tests",
    "column_count_tests",
    "duplicated_row_count_tests",
    "duplicated_column_count_tests",
    "almost_duplicated_column_count_tests",
    "almost_constant_column_count_tests",
    "empty_row_count_tests",
    "empty_column_count_tests",
    "constant_columns_count_tests",
    "dataset_missing_value_count_tests",
)
FAILED = "FAIL"


def check_column_names(kinds: Mapping[str, Kind]) -> None:
    taken = sorted({PREDICTION, ACTUAL, PROBABILITY} & set(kinds))
    if taken:
        raise ValueError(f"a feature is named {', '.join(taken)}, which the monitoring report needs: rename it")


def data_summary(columns: list[str]) -> DataSummaryPreset:
    """Statistics of every column without tests: Evidently's default summary tests expect the current window to
    match the reference's row count and moments within 10%, which only adds noise next to the drift tests."""
    # Explicit empty lists, not include_tests=False: that flag makes 0.7's renderer look up metrics it never ran.
    silent = ValueStatsTests(**{field.name: [] for field in dataclasses.fields(ValueStatsTests)})
    no_tests: dict[str, Any] = {name: [] for name in SUMMARY_TEST_ARGS}
    return DataSummaryPreset(columns=columns, column_tests=dict.fromkeys(columns, silent), **no_tests)


def drift_report(
    reference: pd.DataFrame, current: pd.DataFrame, kinds: Mapping[str, Kind], task: Task, drift_share: float
) -> Snapshot:
    """Data drift and summary of the features, and drift of the prediction against the champion's on its training
    data; Evidently picks each column's test (K-S or Wasserstein for numbers, chi-square or Jensen-Shannon for
    categories) by type and size, and the drifted-columns test fails when the share reaches drift_share."""
    check_column_names(kinds)
    features = list(kinds)
    numeric = [name for name, kind in kinds.items() if kind == "numeric"]
    categorical = [name for name, kind in kinds.items() if kind == "categorical"]
    definition = DataDefinition(
        numerical_columns=numeric + ([PREDICTION] if task == "regression" else []),
        categorical_columns=categorical + ([PREDICTION] if task == "classification" else []),
    )
    columns = [*features, PREDICTION]
    report = Report(
        [
            DataDriftPreset(columns=features, drift_share=drift_share),
            ValueDrift(column=PREDICTION),
            data_summary(columns),
        ],
        include_tests=True,
    )
    return report.run(
        Dataset.from_pandas(labels_as_text(current[columns], task), data_definition=definition),
        Dataset.from_pandas(labels_as_text(reference[columns], task), data_definition=definition),
    )


def quality_report(reference: pd.DataFrame, current: pd.DataFrame, task: Task, classes: Sequence[Any]) -> Snapshot:
    """Quality of the labelled predictions (actual vs prediction), next to the champion's on its test split."""
    if task == "regression":
        definition = DataDefinition(
            numerical_columns=[ACTUAL, PREDICTION], regression=[Regression(target=ACTUAL, prediction=PREDICTION)]
        )
        report = Report([RegressionPreset()], include_tests=True)
        columns = [ACTUAL, PREDICTION]
    else:
        binary = len(classes) == 2
        columns = [ACTUAL, PREDICTION, PROBABILITY] if binary else [ACTUAL, PREDICTION]
        task_definition: BinaryClassification | MulticlassClassification = (
            BinaryClassification(
                target=ACTUAL, prediction_labels=PREDICTION, prediction_probas=PROBABILITY, pos_label=str(classes[1])
            )
            if binary
            else MulticlassClassification(target=ACTUAL, prediction_labels=PREDICTION)
        )
        definition = DataDefinition(
            categorical_columns=[ACTUAL, PREDICTION],
            numerical_columns=[PROBABILITY] if binary else [],
            classification=[task_definition],
        )
        report = Report([ClassificationPreset()], include_tests=True)
    return report.run(
        Dataset.from_pandas(labels_as_text(current[columns], task), data_definition=definition),
        Dataset.from_pandas(labels_as_text(reference[columns], task), data_definition=definition),
    )


def labels_as_text(frame: pd.DataFrame, task: Task) -> pd.DataFrame:
    """Class labels as text on both sides, so that 1 (from the model) and 1 (from JSON) are one category."""
    if task == "regression":
        return frame
    labels = [name for name in (PREDICTION, ACTUAL) if name in frame.columns]
    return frame.assign(**{name: frame[name].map(str) for name in labels})


@dataclass(frozen=True)
class DriftFindings:
    detected: bool
    share: float
    drifted_columns: list[str]
    n_columns: int
    prediction: dict[str, Any]


def results(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's metrics and tests as plain JSON values."""
    loaded: dict[str, Any] = json.loads(snapshot.json())
    return loaded


def read_drift(found: Mapping[str, Any]) -> DriftFindings:
    """Drift as Evidently's tests judge it: the drifted-columns share test and each column's drift test."""
    failed = {test["metric_config"]["metric_id"] for test in found["tests"] if test["status"] == FAILED}
    count = next(m for m in found["metrics"] if m["config"]["type"].endswith(":DriftedColumnsCount"))
    columns: list[str] = count["config"]["columns"]
    drifts = {m["config"]["column"]: m for m in found["metrics"] if m["config"]["type"].endswith(":ValueDrift")}
    prediction = drifts.get(PREDICTION, {})
    return DriftFindings(
        detected=count["id"] in failed,
        share=float(count["value"]["share"]),
        drifted_columns=[name for name in columns if name in drifts and drifts[name]["id"] in failed],
        n_columns=len(columns),
        prediction={
            "method": prediction.get("config", {}).get("method"),
            "threshold": prediction.get("config", {}).get("threshold"),
            "score": prediction.get("value"),
            "detected": prediction.get("id") in failed,
        },
    )


def titled(html: str, title: str) -> str:
    """Evidently's page has no <title>; give it one, so a browser tab (and a test) can tell the reports apart."""
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return html.replace("<head>", f"<head>\n    <title>{escaped}</title>", 1)
