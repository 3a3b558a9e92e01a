"""The model pipeline: a ColumnTransformer (coerce, impute, scale or one-hot encode), then a seeded estimator."""

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

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
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..params import Task
from ..user_errors import UserError, first_line
from .features import Kind, to_numbers, to_text


def build_preprocessor(kinds: Mapping[str, Kind], dense: bool) -> ColumnTransformer:
    """Per column kind: coerce, then impute and scale numbers, impute and one-hot encode text (unknown -> zeros).

    The coercion steps make the model tolerant of what callers send (ints or numeric strings for floats, None for
    NaN, numbers in text columns) whether they pass a DataFrame or, column group by column group, plain arrays.
    """
    numeric = [name for name, kind in kinds.items() if kind == "numeric"]
    categorical = [name for name, kind in kinds.items() if kind == "categorical"]
    numbers = Pipeline(
        [
            ("coerce", FunctionTransformer(to_numbers, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
        ]
    )
    text = Pipeline(
        [
            ("coerce", FunctionTransformer(to_text, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=not dense)),
        ]
    )
    return ColumnTransformer(
        [("numeric", numbers, numeric), ("categorical", text, categorical)],
        # Tree boosting needs a dense matrix; linear models and forests keep one-hot columns sparse.
        sparse_threshold=0.0 if dense else 0.3,
    )


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
    """An unfitted estimator of the family, or a UserError naming the valid families, hyperparameters or range."""
    families = FAMILIES[task]
    if family not in families:
        raise UserError(f"params.yaml: train.model is {family!r}; for {task} it must be one of {', '.join(families)}")
    estimator = families[family].make(seed)
    valid = estimator.get_params()
    unknown = [name for name in hyperparameters if name not in valid]
    if unknown:
        raise UserError(
            f"params.yaml: train.hyperparameters has {', '.join(map(repr, unknown))}, which {family} does not take; "
            f"it takes {', '.join(sorted(valid))}"
        )
    estimator.set_params(**hyperparameters)
    try:
        # scikit-learn checks types and ranges (n_estimators >= 1, ...) only when fitting; asking now stops train
        # before it reads any data. Its sentence names the parameter, the allowed range and the value given.
        estimator._validate_params()
    except (ValueError, TypeError) as error:
        raise UserError(f"params.yaml: train.hyperparameters: {first_line(error)}") from None
    return estimator


def build_pipeline(
    task: Task, family: str, hyperparameters: Mapping[str, Any], seed: int, kinds: Mapping[str, Kind]
) -> Pipeline:
    """Preprocessing and estimator in one object, so that the registered model takes raw feature columns."""
    estimator = build_model(task, family, hyperparameters, seed)
    return Pipeline(
        [("preprocess", build_preprocessor(kinds, dense=FAMILIES[task][family].dense)), ("model", estimator)]
    )
