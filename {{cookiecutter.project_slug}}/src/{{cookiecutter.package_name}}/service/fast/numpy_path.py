"""A numpy path through a fitted Pipeline(ColumnTransformer, ...): same numbers, without pandas' per-call overhead.

A DataFrame per batch and the ColumnTransformer's checks of it cost several times the model itself on small batches.
The path built here hands each fitted sub-transformer a plain array of its own columns instead, and replaces the
usual numeric steps (a FunctionTransformer, SimpleImputer, StandardScaler) by the arithmetic of their fitted
attributes: each sklearn transform call checks its input (dtype, finiteness, dataframe kind) for longer than it
computes. The path is used only when it reproduces the pipeline's own output on probe records at load time;
otherwise the DataFrame path stays.
"""

from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import scipy.sparse
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ...core.model_inputs import NUMERIC_TYPES, records_frame
from ..served_model import ServedModel

Records = Sequence[dict[str, Any]]
Transform = Callable[[Records], Any]
Step = Callable[[Any], Any]


def without_feature_names(estimator: Any) -> Any:
    """A copy that takes arrays without warning: fitted on a DataFrame, it would warn on every call otherwise."""
    copy = deepcopy(estimator)
    for step in [copy, *(s for _, s in getattr(copy, "steps", []))]:
        vars(step).pop("feature_names_in_", None)
    return copy


def plain_step(transformer: Any) -> Step | None:
    """A fitted transformer's transform as plain numpy, for the simple configurations; None for anything else."""
    # Exact types: a subclass may transform differently.
    if type(transformer) is FunctionTransformer and not transformer.validate:
        func, kwargs = transformer.func, transformer.kw_args or {}
        return (lambda values: values) if func is None else (lambda values: func(values, **kwargs))
    if type(transformer) is SimpleImputer:
        missing = transformer.missing_values
        if not (isinstance(missing, float) and np.isnan(missing)) or transformer.add_indicator:
            return None
        try:
            statistics = np.asarray(transformer.statistics_, dtype=np.float64)  # object dtype for a constant
        except (TypeError, ValueError):
            return None  # text fill values: a categorical group
        # NaN statistics mean columns that sklearn drops or keeps empty: its own transform handles those.
        if np.isnan(statistics).any():
            return None
        return lambda values: np.where(np.isnan(values), statistics, values)
    if type(transformer) is StandardScaler:
        mean = transformer.mean_ if transformer.with_mean else 0.0
        scale = transformer.scale_ if transformer.with_std else 1.0
        return lambda values: (values - mean) / scale
    return None


def group_step(transformer: Any) -> Step:
    """One column group's fitted transformer (often a Pipeline) as a function of its array."""
    steps = [step for _, step in transformer.steps] if isinstance(transformer, Pipeline) else [transformer]
    plain = [step for step in map(plain_step, steps) if step is not None]
    if len(plain) < len(steps):
        return without_feature_names(transformer).transform

    def run(values: Any) -> Any:
        for step in plain:
            values = step(values)
        return values

    return run


def column(records: Records, names: list[str], numeric: bool) -> np.ndarray:
    """A 2-D array of these columns; a missing value is NaN, as in a frame read from CSV, which imputers look for."""
    if numeric:
        return np.array([[r[c] for c in names] for r in records], dtype=np.float64)
    return np.array([[np.nan if r[c] is None else r[c] for c in names] for r in records], dtype=object)


def compile_transform(pipeline: Any, types: dict[str, str]) -> Transform | None:
    """records -> the input of the pipeline's final estimator, without pandas; None for unsupported pipelines."""
    if not isinstance(pipeline, Pipeline) or not isinstance(pipeline.steps[0][1], ColumnTransformer):
        return None
    column_transformer: ColumnTransformer = pipeline.steps[0][1]
    names = list(getattr(column_transformer, "feature_names_in_", []))
    parts: list[tuple[Step | str, list[str], bool]] = []
    for _, transformer, columns in column_transformer.transformers_:
        selected = [names[c] if isinstance(c, int | np.integer) else c for c in np.atleast_1d(columns).tolist()]
        if (isinstance(transformer, str) and transformer == "drop") or not selected:
            # Skipped by the ColumnTransformer too: a dropped group, or a group with no column (no text features).
            continue
        if not all(isinstance(c, str) and c in types for c in selected):
            return None
        fitted = transformer if isinstance(transformer, str) else group_step(transformer)
        parts.append((fitted, selected, all(types[c] in NUMERIC_TYPES for c in selected)))
    middle = [step for _, step in pipeline.steps[1:-1]]

    def transform(records: Records) -> Any:
        blocks = []
        for transformer, columns, numeric in parts:
            block = column(records, columns, numeric)
            out: Any = block if isinstance(transformer, str) else transformer(block)
            blocks.append(out.toarray() if scipy.sparse.issparse(out) else np.asarray(out))
        features = np.hstack(blocks) if len(blocks) > 1 else blocks[0]
        for step in middle:
            features = step.transform(features)
        return features

    return transform


def probe_records(types: dict[str, str]) -> list[dict[str, Any]]:
    """Records with typical, extreme, missing and unseen values, to compare the two paths on."""
    numbers = [0.0, 1.0, -3.5, 1e6, None]
    texts = ["a", "", "unseen category", None, "b"]
    return [
        {name: (numbers[i] if kind in NUMERIC_TYPES else texts[i]) for name, kind in types.items()}
        for i in range(len(numbers))
    ]


def verified_transform(pipeline: Any, types: dict[str, str], method: str) -> Transform | None:
    """The compiled path if `method` (predict or predict_proba) gives the same result through it; else None."""
    try:
        transform = compile_transform(pipeline, types)
        if transform is None:
            return None
        records = probe_records(types)
        expected = getattr(pipeline, method)(records_frame(records, types))
        actual = getattr(pipeline.steps[-1][1], method)(transform(records))
        return transform if np.allclose(np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)) else None
    except Exception:
        # Whatever the fast path cannot handle (a custom step, a column type) falls back to the DataFrame path.
        return None


@dataclass(frozen=True)
class NumpyServedModel(ServedModel):
    """The served model whose estimator input comes from the verified numpy path instead of a DataFrame."""

    transform: Transform | None = None

    def estimator_input(self, records: list[dict[str, Any]]) -> Any:
        if self.transform is None:
            return super().estimator_input(records)
        return self.transform(records)


def with_numpy_path(model: ServedModel) -> ServedModel:
    """The model with its numpy path where it gives the pipeline's own results on probe records; else unchanged."""
    method = "predict_proba" if model.task == "classification" else "predict"
    transform = verified_transform(model.pipeline, {f.name: f.type for f in model.features}, method)
    if transform is None:
        return model
    values = {f.name: getattr(model, f.name) for f in fields(ServedModel)}
    return NumpyServedModel(**values, transform=transform)
