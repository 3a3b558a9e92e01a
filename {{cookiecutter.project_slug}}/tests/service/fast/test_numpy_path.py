"""The numpy path through the pipeline gives the DataFrame path's results, and is refused where it would not."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from {{ cookiecutter.package_name }}.core.features import Kind
from {{ cookiecutter.package_name }}.core.model import build_preprocessor
from {{ cookiecutter.package_name }}.core.model_inputs import records_frame
from {{ cookiecutter.package_name }}.service.fast.numpy_path import (
    NumpyServedModel,
    plain_step,
    verified_transform,
    with_numpy_path,
)
from {{ cookiecutter.package_name }}.service.served_model import load_served_model

from ..conftest import TASK, make_data, make_settings

TYPES = {"mean radius": "double", "texture (%)": "double", "colour": "string"}


def test_served_contract_pipeline_takes_the_fast_path_with_the_same_results(tracking_uri: str, tmp_path: Path) -> None:
    model = with_numpy_path(load_served_model(make_settings(tracking_uri, tmp_path / "f.db")))
    assert isinstance(model, NumpyServedModel)
    assert model.transform is not None
    frame, _ = make_data(n=40, seed=3)
    records: list[dict[str, Any]] = [
        {str(key): (None if isinstance(value, float) and np.isnan(value) else value) for key, value in row.items()}
        for row in frame.to_dict("records")
    ]
    records[0]["colour"] = "never seen"
    method = "predict_proba" if TASK == "classification" else "predict"
    expected = getattr(model.pipeline, method)(records_frame(records, TYPES))
    assert np.allclose(getattr(model.pipeline.steps[-1][1], method)(model.transform(records)), expected)
    outputs = model.predict(records)
    assert len(outputs) == len(records)


def test_pipeline_without_column_transformer_keeps_the_dataframe_path() -> None:
    frame, targets = make_data()
    pipeline = Pipeline([("model", LogisticRegression())]).fit(frame[["texture (%)"]], targets["classification"])
    assert verified_transform(pipeline, {"texture (%)": "double"}, "predict_proba") is None


def test_project_pipeline_without_text_features_takes_the_fast_path() -> None:
    # The default data set has numbers only: the pipeline's text group has no column, which sklearn skips too.
    frame, targets = make_data()
    kinds: dict[str, Kind] = {"mean radius": "numeric", "texture (%)": "numeric"}
    pipeline = Pipeline([("features", build_preprocessor(kinds, dense=False)), ("model", LogisticRegression())])
    pipeline.fit(frame[list(kinds)], targets["classification"])
    types = {name: "double" for name in kinds}
    transform = verified_transform(pipeline, types, "predict_proba")
    assert transform is not None
    records: list[dict[str, Any]] = [
        {"mean radius": 12.5, "texture (%)": None},
        {"mean radius": None, "texture (%)": 3},
    ]
    expected = pipeline.predict_proba(records_frame(records, types))
    assert np.allclose(pipeline.steps[-1][1].predict_proba(transform(records)), expected)


def numbers_with_gaps() -> np.ndarray:
    values = np.random.default_rng(0).normal(5.0, 2.0, (50, 3))
    values[::7, 1] = np.nan
    return values


@pytest.mark.parametrize(
    "transformer",
    [
        SimpleImputer(strategy="median"),
        SimpleImputer(strategy="constant", fill_value=-1.0),
        StandardScaler(),
        StandardScaler(with_mean=False),
        FunctionTransformer(np.log1p),
    ],
    ids=["impute-median", "impute-constant", "scale", "scale-without-mean", "function"],
)
def test_plain_numpy_steps_compute_what_sklearn_does(transformer: Any) -> None:
    values = numbers_with_gaps()
    fitted = transformer.fit(values)
    step = plain_step(fitted)
    assert step is not None
    assert np.allclose(step(values), fitted.transform(values), equal_nan=True)


def test_steps_without_a_plain_form_keep_their_sklearn_transform() -> None:
    values = numbers_with_gaps()
    assert plain_step(SimpleImputer(add_indicator=True).fit(values)) is None
    # An all-missing column is dropped by the imputer: its NaN statistic sends it to sklearn's own transform.
    values[:, 2] = np.nan
    assert plain_step(SimpleImputer().fit(values)) is None
