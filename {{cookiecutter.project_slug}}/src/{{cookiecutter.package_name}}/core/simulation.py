"""Synthetic traffic for the feedback loop: held-out rows, optionally drifted, and labels with new truth or noise."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..params import Task
from .features import Kind


def drift_features(
    frame: pd.DataFrame, kinds: Mapping[str, Kind], amount: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Shift every numeric feature by `amount` standard deviations and widen its spread by (1 + amount); move
    categorical values to the column's rarest category with probability amount / (1 + amount). 0 changes nothing."""
    if amount <= 0:
        return frame.copy()
    drifted = frame.copy()
    for name, kind in kinds.items():
        column = frame[name]
        if kind == "numeric":
            values = pd.to_numeric(column, errors="coerce").astype("float64")
            mean, std = float(values.mean()), float(values.std()) or 1.0
            drifted[name] = mean + (values - mean) * (1.0 + amount) + amount * std
        else:
            counts = column.dropna().value_counts()
            if counts.empty:
                continue
            moved = rng.random(len(column)) < amount / (1.0 + amount)
            drifted[name] = column.where(~moved, counts.index[-1])
    return drifted


def concept_drift(
    features: pd.DataFrame,
    labels: pd.Series,
    task: Task,
    amount: float,
    kinds: Mapping[str, Kind],
    rng: np.random.Generator,
) -> pd.Series:
    """The truth after the world changed how the outcome depends on the inputs; 0 changes nothing.

    The change hinges on the first numeric feature x, as sent (so after any covariate drift), and reverses its effect:
    - classification: a seeded share amount / (1 + amount) of the rows gets the class that x's other end used to mean
      (classes ranked by their mean x, the highest x now meaning the class of the lowest); past 1 the reversed
      relation dominates, and a refitted model can learn it, since it is a relation of the inputs, not noise;
    - regression: the slope on x changes, by `amount` target standard deviations per standard deviation of x.
    The inputs look as they always did: only feedback can reveal this.
    """
    numeric = [name for name, kind in kinds.items() if kind == "numeric"]
    if amount <= 0 or not numeric or labels.empty:
        return labels.copy()
    x = pd.to_numeric(features[numeric[0]], errors="coerce").astype("float64")
    if task == "regression":
        standardised = ((x - x.mean()) / (float(x.std()) or 1.0)).fillna(0.0)
        return labels + amount * (float(labels.std()) or 1.0) * standardised.to_numpy()
    present = labels.groupby(labels.to_numpy()).size().index.tolist()
    ranked = sorted(present, key=lambda label: float(x[(labels == label).to_numpy()].mean()))
    known = x.notna().to_numpy()
    if len(ranked) < 2 or not known.any():
        return labels.copy()
    # x's quantile picks the class in reverse order of the classes' mean x: the highest x gets the lowest's class.
    quantile = x.rank(pct=True).to_numpy()
    reversed_class = [ranked[min(int((1.0 - q) * len(ranked)), len(ranked) - 1)] for q in np.nan_to_num(quantile)]
    changed = labels.copy()
    hit = known & (rng.random(len(labels)) < amount / (1.0 + amount))
    changed[hit] = pd.Series(reversed_class, index=labels.index)[hit].astype(labels.dtype)
    return changed


def noisy_labels(
    labels: pd.Series, task: Task, rate: float, rng: np.random.Generator, classes: Sequence[Any] | None = None
) -> pd.Series:
    """Flip a share `rate` of class labels to another class, or add one standard deviation of Gaussian noise to a
    share `rate` of numeric targets: feedback is never perfectly clean."""
    noisy = labels.copy()
    hit = rng.random(len(labels)) < rate
    if not hit.any():
        return noisy
    if task == "regression":
        std = float(labels.std()) or 1.0
        noisy[hit] = labels[hit] + rng.normal(0.0, std, int(hit.sum()))
        return noisy
    choices = list(classes if classes is not None else sorted(labels.unique().tolist(), key=str))
    if len(choices) < 2:
        return noisy
    flipped = [rng.choice([c for c in choices if c != label]) for label in labels[hit]]
    noisy[hit] = pd.Series(flipped, index=labels.index[hit], dtype=labels.dtype)
    return noisy


def json_ready(value: Any) -> Any:
    """A pandas/numpy cell as a JSON value: NaN becomes null, numpy scalars plain Python numbers."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as the JSON objects a client sends, keyed by the original column names."""
    return [{str(name): json_ready(value) for name, value in row.items()} for row in frame.to_dict(orient="records")]
