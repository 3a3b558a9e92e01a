"""The served model: a registry version loaded with MLflow as its scikit-learn pipeline, scored on a DataFrame.

MLflow is imported inside `fetch_served_model` only, so that a process which gets the model another way never
imports it.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..core.model_inputs import Feature, Range, records_frame, types_of
from ..core.model_uri import parse_model_uri
from ..core.quarantine import out_of_range
from ..settings import Settings
from .unscorable import Unscorable, estimator_columns, explain, infinite_rows, non_finite_outputs, take

Label = str | int | float
LINEAGE_TAGS = {
    "git_commit": "lineage.git_commit",
    "git_dirty": "lineage.git_dirty",
    "data_raw": "lineage.data.raw",
    "data_train": "lineage.data.train",
    "data_test": "lineage.data.test",
}


@dataclass(frozen=True)
class Output:
    """What the model says about one record."""

    prediction: Label
    probabilities: dict[str, float] | None


@dataclass(frozen=True)
class Scored:
    """What one model call made of a batch: the row positions scored, their raw outputs, why each other row was not."""

    rows: np.ndarray
    outputs: Any
    refused: dict[int, Unscorable]


@dataclass(frozen=True)
class ServedModel:
    """A registered model version loaded as its scikit-learn pipeline, with what the API reports about it."""

    name: str
    version: str
    alias: str | None
    run_id: str | None
    task: Literal["classification", "regression"]
    features: tuple[Feature, ...]
    classes: tuple[Label, ...]
    pipeline: Any
    signature: dict[str, Any]
    metrics: dict[str, float]
    lineage: dict[str, Any]
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Numeric feature -> [low, high] from the model's metadata (see io.tracking); empty for models logged without.
    ranges: dict[str, Range] = field(default_factory=dict)
    # The raw feature behind each column of the final estimator's input, to name it when a record overflows.
    columns: tuple[str | None, ...] = ()
    # MODEL_CARD.md as logged with the version's run, fetched with the model (GET /model/card); None without one.
    card: str | None = None

    def frame(self, records: list[dict[str, Any]]) -> pd.DataFrame:
        """One DataFrame for the batch, as the pipeline was fitted on: numbers as float64, a missing value NaN."""
        return records_frame(records, types_of(self.features))

    def estimator_input(self, records: list[dict[str, Any]]) -> Any:
        """What the final estimator takes: the pipeline's preprocessing steps applied to the batch's DataFrame."""
        return self.preprocess(self.frame(records))

    def preprocess(self, frame: pd.DataFrame) -> Any:
        """The pipeline's preprocessing steps applied to a frame typed like `frame` makes it (batch scoring's entry)."""
        # What Pipeline.predict does before its last step; a bare estimator takes the frame itself.
        return self.pipeline[:-1].transform(frame) if len(getattr(self.pipeline, "steps", [])) > 1 else frame

    def _outputs(self, inputs: Any) -> Any:
        steps = getattr(self.pipeline, "steps", None)
        estimator = steps[-1][1] if steps else self.pipeline
        # The pipeline's last step, called as pipeline.predict_proba / pipeline.predict would call it.
        return estimator.predict(inputs) if self.task == "regression" else estimator.predict_proba(inputs)

    def _answer(self, outputs: Any) -> list[Output]:
        if self.task == "regression":
            return [Output(prediction=float(value), probabilities=None) for value in outputs]
        keys = [str(label) for label in self.classes]
        # argmax of predict_proba is what predict returns for these estimators; one call instead of two.
        best = outputs.argmax(axis=1).tolist()
        # One tolist() for the matrix: iterating numpy rows makes a view object per row.
        return [
            Output(prediction=self.classes[i], probabilities=dict(zip(keys, row, strict=True)))
            for i, row in zip(best, outputs.tolist(), strict=True)
        ]

    def output_columns(self, outputs: Any) -> dict[str, Any]:
        """The same answers as `_answer`, as columns (batch scoring): prediction, then probability_<label> each."""
        if self.task == "regression":
            return {"prediction": np.asarray(outputs, dtype=np.float64)}
        columns: dict[str, Any] = {"prediction": np.asarray(self.classes, dtype=object)[outputs.argmax(axis=1)]}
        for position, label in enumerate(self.classes):
            columns[f"probability_{label}"] = outputs[:, position]
        return columns

    def score_inputs(self, inputs: Any, record_at: Callable[[int], Mapping[str, Any]]) -> Scored:
        """One model call on the estimator's input (see `estimator_input`), leaving out the rows it cannot score.

        A row whose scaled values overflow is left out of the model call, one whose output is not finite is refused
        after it; `record_at(i)` gives row i's features, asked only for a refused row, to name the value at fault.
        """
        # Overflow is expected from hostile input and handled row by row below: numpy need not warn about it.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            bad = infinite_rows(inputs)
            good = np.flatnonzero(~bad)
            # The usual case, every row finite, stays one call on the matrix as it is.
            outputs = self._outputs(inputs if len(good) == len(bad) else take(inputs, good)) if len(good) else None
        refused = {
            i: explain(record_at(i), take(inputs, i), self.columns, self.ranges, "scaling")
            for i in np.flatnonzero(bad).tolist()
        }
        if outputs is None:
            return Scored(good, None, refused)
        non_finite = non_finite_outputs(outputs)
        if non_finite.any():
            for position in np.flatnonzero(non_finite).tolist():
                i = int(good[position])
                refused[i] = explain(record_at(i), take(inputs, i), self.columns, self.ranges, "output")
            good, outputs = good[~non_finite], outputs[~non_finite]
        return Scored(good, outputs, refused)

    def predict(self, records: list[dict[str, Any]]) -> list[Output | Unscorable]:
        """One model call for the whole batch; records are validated dicts keyed by the original feature names.

        A record the model cannot score gets an Unscorable instead of failing its batch (see `score_inputs`).
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            inputs = self.estimator_input(records)
        scored = self.score_inputs(inputs, records.__getitem__)
        answers = iter(self._answer(scored.outputs) if scored.outputs is not None else [])
        if not scored.refused:
            return list(answers)
        # Back in request order: each refused record where it was, the answers of the others in between.
        return [scored.refused[i] if i in scored.refused else next(answers) for i in range(len(records))]

    def out_of_range(self, records: list[dict[str, Any]]) -> list[list[str] | None]:
        """For each record, its numeric features outside the model's expected ranges, or None when all are inside."""
        return [names or None for names in out_of_range(records, self.ranges)]

    def coerce_label(self, actual: Label) -> Label:
        """The model's own value for a reported outcome, accepting "1" for 1; ValueError saying why otherwise."""
        if self.task == "regression":
            try:
                number = float(actual)
            except (TypeError, ValueError):
                raise ValueError(f"actual must be a number for a regression model, got {actual!r}") from None
            if not math.isfinite(number):
                raise ValueError(f"actual must be a finite number, got {actual!r}")
            return number
        key = str(int(actual)) if isinstance(actual, float) and actual.is_integer() else str(actual).strip()
        for label in self.classes:
            if str(label) == key:
                return label
        raise ValueError(f"actual {actual!r} is not one of the model's classes {list(self.classes)}")


def fetch_served_model(tracking_uri: str, model_uri: str) -> ServedModel:
    """Resolve MODEL_URI to one version, then load that exact version (the alias may move meanwhile)."""
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    from ..io.card_store import read_run_card

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = MlflowClient()
    name, alias, version = parse_model_uri(model_uri)
    if alias is not None:
        registered = client.get_model_version_by_alias(name, alias)
    else:
        registered = client.get_model_version(name, str(version))
    uri = f"models:/{name}/{registered.version}"
    info = mlflow.models.get_model_info(uri)
    if info.signature is None:
        raise ValueError(f"{uri} has no signature: log it with signature=infer_signature(X, y_pred)")
    pipeline = mlflow.sklearn.load_model(uri)
    run = client.get_run(registered.run_id) if registered.run_id else None
    tags = run.data.tags if run else {}
    classes = tuple(np.asarray(getattr(pipeline, "classes_", [])).tolist())
    task = tags.get("task") or ("classification" if hasattr(pipeline, "predict_proba") and classes else "regression")
    features = tuple(Feature(name=str(c.name), type=c.type.name) for c in info.signature.inputs.inputs)
    ranges = (info.metadata or {}).get("feature_ranges") or {}
    return ServedModel(
        name=name,
        version=str(registered.version),
        alias=alias,
        run_id=registered.run_id,
        task="classification" if task == "classification" else "regression",
        features=features,
        classes=classes,
        pipeline=pipeline,
        signature=info.signature.to_dict(),
        metrics=dict(run.data.metrics) if run else {},
        lineage={key: tags.get(tag) for key, tag in LINEAGE_TAGS.items()},
        ranges={str(name): (float(low), float(high)) for name, (low, high) in ranges.items()},
        columns=estimator_columns(pipeline),
        card=read_run_card(registered.run_id) if registered.run_id else None,
    )


# How the service gets MODEL_URI's model: `load_served_model` below in plain mode, a child process in fast mode.
ModelLoader = Callable[[Settings], ServedModel]


def load_served_model(settings: Settings) -> ServedModel:
    """Fetch MODEL_URI in this process, with MLflow (plain mode; fast mode fetches it in a child process)."""
    return fetch_served_model(settings.mlflow_tracking_uri, settings.model_uri)
