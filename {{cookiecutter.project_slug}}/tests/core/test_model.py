"""The model pipeline: every family trains on raw columns and predicts on what serving clients send."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.features import Kind
from {{ cookiecutter.package_name }}.core.model import FAMILIES, build_pipeline
from {{ cookiecutter.package_name }}.core.schema import tidy_features, tidy_target
from {{ cookiecutter.package_name }}.params import Task
from {{ cookiecutter.package_name }}.user_errors import UserError

from conftest import CITY, CODE, COUNT, NUMBER, byod_frame

KINDS: dict[str, Kind] = {NUMBER: "numeric", COUNT: "numeric", CITY: "categorical", CODE: "categorical"}
TARGET = "Target?"


def training_data(task: Task) -> tuple[pd.DataFrame, pd.Series]:
    frame, _ = tidy_target(byod_frame(task), TARGET, task)
    frame = tidy_features(frame, TARGET)
    return frame.drop(columns=TARGET), frame[TARGET]


# Ensembles kept small: these tests check the plumbing, not the accuracy.
SMALL: dict[str, dict[str, int]] = {"random_forest": {"n_estimators": 5}, "gradient_boosting": {"max_iter": 5}}

# What a JSON client sends: None for missing, ints for floats, a city never seen, numbers in a text column.
CLIENT_ROWS = pd.DataFrame(
    {NUMBER: [None, 30], COUNT: [2, None], CITY: ["Tokyo", None], CODE: [75001, None], "ignored": [1, 2]}, dtype=object
)


@pytest.mark.parametrize(("task", "family"), [(task, family) for task in FAMILIES for family in FAMILIES[task]])
def test_every_family_fits_raw_columns_and_predicts_client_rows(task: Task, family: str) -> None:
    features, target = training_data(task)
    model = build_pipeline(task, family, SMALL.get(family, {}), seed=1, kinds=KINDS).fit(features, target)
    predictions = model.predict(CLIENT_ROWS)
    assert len(predictions) == 2
    if task == "classification":
        assert list(model.classes_) == ["churned", "stayed"]
        assert np.allclose(model.predict_proba(CLIENT_ROWS).sum(axis=1), 1.0)
    else:
        assert predictions.dtype == "float64"


def test_the_same_seed_gives_the_same_predictions() -> None:
    features, target = training_data("classification")
    first = build_pipeline("classification", "random_forest", {"n_estimators": 10}, 5, KINDS).fit(features, target)
    second = build_pipeline("classification", "random_forest", {"n_estimators": 10}, 5, KINDS).fit(features, target)
    assert np.array_equal(first.predict_proba(features), second.predict_proba(features))


def test_hyperparameters_reach_the_estimator() -> None:
    model = build_pipeline("regression", "ridge", {"alpha": 3.5}, 0, KINDS)
    assert model.named_steps["model"].alpha == 3.5


def test_an_unknown_family_names_the_valid_ones() -> None:
    with pytest.raises(UserError, match="logistic_regression"):
        build_pipeline("classification", "ridge", {}, 0, KINDS)


def test_an_unknown_hyperparameter_names_the_valid_ones() -> None:
    with pytest.raises(UserError, match="max_depth"):
        build_pipeline("regression", "random_forest", {"depth": 3}, 0, KINDS)


def test_an_out_of_range_hyperparameter_is_refused_before_fitting_with_its_range() -> None:
    with pytest.raises(UserError, match=r"train.hyperparameters: The 'n_estimators' parameter .* range \[1, inf\)"):
        build_pipeline("classification", "random_forest", {"n_estimators": -1}, 0, KINDS)
