"""Synthetic traffic for the feedback loop: held-out rows, optionally drifted, and labels with optional noise."""

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
