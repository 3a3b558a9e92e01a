"""Records the model cannot score (their numbers overflow once scaled), found in a batch without failing the others.

JSON allows numbers up to about 1.8e308, and the model's scaling can turn a finite one into infinity; the final
estimator then refuses the whole matrix, and every request batched with that record would fail. So the batch's
transformed matrix is checked first (one vectorised pass), only the rows without an infinity are scored, and each
refused record is answered with the feature at fault and the range the model expects. An output that is not a finite
number (a linear model's sum of huge values) refuses its record the same way.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from ..core.model_inputs import Range


@dataclass(frozen=True)
class Unscorable:
    """Why the model cannot score one record: the feature at fault (None when unknown), its value, a sentence."""

    feature: str | None
    value: Any
    message: str


def infinite_rows(matrix: Any) -> np.ndarray:
    """Per row of the final estimator's input (dense, sparse or a DataFrame), whether it holds an infinity.

    Only infinities: overflow makes them, while a NaN may be legitimate input (some estimators handle it).
    """
    if scipy.sparse.issparse(matrix):
        coo = matrix.tocoo()
        bad = np.zeros(coo.shape[0], dtype=bool)
        bad[coo.row[np.isinf(coo.data)]] = True
        return bad
    if isinstance(matrix, pd.DataFrame):
        matrix = matrix.select_dtypes("number")  # a pipeline without preprocessing gets the frame, text and all
    values = np.asarray(matrix)
    if values.dtype.kind not in "fiub":
        # Text passed through with numbers (object dtype): only its floats can be infinite.
        values = np.frompyfunc(lambda value: isinstance(value, float) and np.isinf(value), 1, 1)(values)
        return np.asarray(values.astype(bool).any(axis=1))
    return np.asarray(np.isinf(values).any(axis=1))


def take(matrix: Any, rows: Any) -> Any:
    """These rows of the estimator's input, whatever its kind (an array, a sparse matrix, a DataFrame)."""
    return matrix.iloc[rows] if isinstance(matrix, pd.DataFrame) else matrix[rows]


def non_finite_outputs(outputs: Any) -> np.ndarray:
    """Per row of predict's or predict_proba's result, whether it is not a finite number."""
    values = np.asarray(outputs, dtype=np.float64)
    finite = np.isfinite(values) if values.ndim == 1 else np.isfinite(values).all(axis=1)
    return np.asarray(~finite)


def estimator_columns(pipeline: Any) -> tuple[str | None, ...]:
    """For each column of the final estimator's input, the raw feature it comes from (None when several or unknown).

    Known for Pipeline(ColumnTransformer, estimator): a group with as many outputs as inputs (numbers) maps one to
    one, a group with a single input (a one-hot encoded text column) maps all its outputs to it.
    """
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        return ()
    transformer = pipeline.steps[0][1]
    if not isinstance(transformer, ColumnTransformer) or not hasattr(transformer, "output_indices_"):
        return ()
    names = list(getattr(transformer, "feature_names_in_", []))
    width = max((part.stop for part in transformer.output_indices_.values()), default=0)
    columns: list[str | None] = [None] * width
    for group, _, selected in transformer.transformers_:
        part = transformer.output_indices_.get(group, slice(0, 0))
        inputs = [names[c] if isinstance(c, int | np.integer) else str(c) for c in np.atleast_1d(selected).tolist()]
        count = part.stop - part.start
        if count == len(inputs):
            columns[part] = inputs
        elif len(inputs) == 1:
            columns[part] = inputs * count
    return tuple(columns)


def culprit(row: np.ndarray, columns: Sequence[str | None]) -> str | None:
    """The feature behind the row's first non-finite column, or else behind its largest value (what overflowed)."""
    if len(columns) != len(row):
        return None
    magnitude = np.where(np.isfinite(row), np.abs(row), np.inf)
    return columns[int(np.argmax(magnitude))]


def explain(
    record: Mapping[str, Any], row: Any, columns: Sequence[str | None], ranges: Mapping[str, Range], stage: str
) -> Unscorable:
    """The refusal of one record, naming the feature and the range it was expected in, when known."""
    feature = None
    if columns:  # known only for a Pipeline(ColumnTransformer, estimator), whose output is numbers
        dense = row.toarray() if scipy.sparse.issparse(row) else row
        feature = culprit(np.asarray(dense, dtype=np.float64).ravel(), columns)
    if feature is None:
        return Unscorable(None, None, f"the model cannot score this record: its {stage} is not a finite number")
    value = record.get(feature)
    message = f"{feature!r} = {value!r} cannot be scored: the model's {stage} of it is not a finite number"
    if feature in ranges:
        low, high = ranges[feature]
        message += f"; the model expects values in [{low:.6g}, {high:.6g}]"
    return Unscorable(feature, value, message)
