"""The model pipeline: type coercion, imputation, scaling and one-hot encoding, then a seeded estimator per family."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..params import Task
from .features import Kind, coerce_features, column_kind


class FeatureCoercer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """First pipeline step: tolerate what callers send (ints for floats, None for NaN, numbers in text columns)."""

    def __init__(self, kinds: Mapping[str, Kind] | None = None) -> None:
        self.kinds = kinds

    def fit(self, frame: pd.DataFrame, y: Any = None) -> Self:
        self.kinds_ = dict(self.kinds) if self.kinds is not None else {str(c): column_kind(frame[c]) for c in frame}
        self.feature_names_in_ = np.asarray(list(self.kinds_), dtype=object)
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return coerce_features(frame, self.kinds_)

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        return np.asarray(list(self.kinds_), dtype=object)


def build_preprocessor(kinds: Mapping[str, Kind], dense: bool) -> Pipeline:
    """Coerce, then impute and scale numbers, impute and one-hot encode categories (unknown ones encode as zeros)."""
    numeric = [name for name, kind in kinds.items() if kind == "numeric"]
    categorical = [name for name, kind in kinds.items() if kind == "categorical"]
    columns = ColumnTransformer(
        [
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=not dense)),
                    ]
                ),
                categorical,
            ),
        ],
        # Tree boosting needs a dense matrix; linear models and forests keep one-hot columns sparse.
        sparse_threshold=0.0 if dense else 0.3,
    )
    return Pipeline([("coerce", FeatureCoercer(dict(kinds))), ("columns", columns)])


class Family(NamedTuple):
    make: Callable[[int], Any]  # seed -> an unfitted estimator
    dense: bool  # whether the estimator needs a dense matrix


FAMILIES: dict[Task, dict[str, Family]] = {
    "classification": {
        "logistic_regression": Family(lambda seed: LogisticRegression(random_state=seed), dense=False),
        "random_forest": Family(lambda seed: RandomForestClassifier(random_state=seed), dense=False),
        "gradient_boosting": Family(lambda seed: HistGradientBoostingClassifier(random_state=seed), dense=True),
    },
    "regression": {
        "ridge": Family(lambda seed: Ridge(random_state=seed), dense=False),
        "random_forest": Family(lambda seed: RandomForestRegressor(random_state=seed), dense=False),
        "gradient_boosting": Family(lambda seed: HistGradientBoostingRegressor(random_state=seed), dense=True),
    },
}


def build_model(task: Task, family: str, hyperparameters: Mapping[str, Any], seed: int) -> Any:
    """An unfitted estimator of the family, or a ValueError naming the valid families or hyperparameters."""
    families = FAMILIES[task]
    if family not in families:
        raise ValueError(f"unknown {task} model {family!r}; choose one of: {', '.join(families)}")
    estimator = families[family].make(seed)
    valid = estimator.get_params()
    unknown = [name for name in hyperparameters if name not in valid]
    if unknown:
        raise ValueError(f"{family} has no hyperparameter {', '.join(unknown)}; valid ones: {', '.join(sorted(valid))}")
    return estimator.set_params(**hyperparameters)


def build_pipeline(
    task: Task, family: str, hyperparameters: Mapping[str, Any], seed: int, kinds: Mapping[str, Kind]
) -> Pipeline:
    """Preprocessing and estimator in one object, so that the registered model takes raw feature columns."""
    estimator = build_model(task, family, hyperparameters, seed)
    return Pipeline([("features", build_preprocessor(kinds, dense=FAMILIES[task][family].dense)), ("model", estimator)])
