"""Fixtures of the service tests: a tmp MLflow registry with a tiny champion per task, and the real app on it."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
import skops.io
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from {{ cookiecutter.package_name }}.params import load_params
from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.service.served_model import load_served_model
from {{ cookiecutter.package_name }}.settings import Settings

# Column names with spaces and punctuation, as a bring-your-own CSV may have.
NUMERIC = ["mean radius", "texture (%)"]
CATEGORICAL = ["colour"]
MODEL_NAMES = {"classification": "tiny_classifier", "regression": "tiny_regressor"}
TASK = load_params().task


def make_data(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Raw features (NaN and None included) and the targets of both tasks."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "mean radius": rng.normal(14.0, 3.0, n),
            "texture (%)": rng.normal(20.0, 4.0, n),
            "colour": pd.Series(rng.choice(["red", "green", "blue"], n), dtype="str"),
        }
    )
    # Missing values as a CSV read by pandas gives them: NaN in numeric and text columns alike.
    frame.loc[::11, "mean radius"] = np.nan
    frame.loc[::7, "colour"] = np.nan
    score = frame["mean radius"].fillna(14.0) - 14.0 + 2.0 * (frame["colour"] == "red")
    targets = {"classification": (score > 0).astype(int), "regression": 3.0 * score + rng.normal(0.0, 0.5, n)}
    return frame, targets


def make_pipeline_for(task: str) -> Pipeline:
    """The contract's pipeline: numeric impute+scale, categorical impute+one-hot (unknown categories ignored)."""
    features = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="missing"), OneHotEncoder(handle_unknown="ignore")
                ),
                CATEGORICAL,
            ),
        ]
    )
    estimator = LogisticRegression() if task == "classification" else Ridge()
    return Pipeline([("features", features), ("model", estimator)])


def train_and_register(task: str, name: str) -> None:
    """Log and register a tiny model the way the training job does, and make it the champion."""
    frame, targets = make_data()
    pipeline = make_pipeline_for(task).fit(frame, targets[task])
    with mlflow.start_run() as run:
        mlflow.set_tags(
            {
                "task": task,
                "target": "target",
                "lineage.git_commit": "0123456789abcdef0123456789abcdef01234567",
                "lineage.git_dirty": "false",
                "lineage.data.raw": "d41d8cd98f00b204e9800998ecf8427e",
                "lineage.data.train": "0cc175b9c0f1b6a831c399e269772661",
                "lineage.data.test": "92eb5ffee6ae2fec3ad71c777531578f",
            }
        )
        mlflow.log_metric("test_roc_auc" if task == "classification" else "test_rmse", 0.9)
        mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(frame, pipeline.predict(frame)),
            input_example=frame.head(3),
            pip_requirements=["scikit-learn", "pandas", "numpy", "skops"],
            registered_model_name=name,
            serialization_format="skops",
            # Our own just-fitted pipeline: its types are vouched for, as the training job does.
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)),
        )
    client = MlflowClient()
    version = client.search_model_versions(f"name='{name}' and run_id='{run.info.run_id}'")[0].version
    client.set_registered_model_alias(name, "champion", version)


# The MLflow experiment the session's throwaway store holds, made active by `tracking_uri`.
EXPERIMENT = "service-tests"


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A throwaway MLflow store holding a champion of each task."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment_id = MlflowClient().create_experiment(EXPERIMENT, artifact_location=(root / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)
    for task, name in MODEL_NAMES.items():
        train_and_register(task, name)
    return uri


def make_settings(tracking_uri: str, database: Path, task: str = TASK, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "mlflow_tracking_uri": tracking_uri,
        "model_name": MODEL_NAMES[task],
        "model_uri": f"models:/{MODEL_NAMES[task]}@champion",
        "database_url": f"sqlite:///{database}",
        "microbatch_wait_ms": 1.0,
        "max_batch_size": 50,
        "max_body_bytes": 20_000,
    }
    return Settings(_env_file=None, **(values | overrides))


@pytest.fixture(autouse=True, params=["fast", "plain"])
def serving_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every service test runs in both modes: the settings (and the processes tests start) read SERVING_MODE."""
    mode: str = request.param
    monkeypatch.setenv("SERVING_MODE", mode)
    return mode


@pytest.fixture
def settings(tracking_uri: str, tmp_path: Path) -> Settings:
    return make_settings(tracking_uri, tmp_path / "predictions.db")


def serving_app(settings: Settings) -> FastAPI:
    """The real app, fetching the model in this process, where MLflow is imported already: the child process that fast
    mode uses instead costs seconds per start (test_process.py runs the service with it)."""
    return create_app(settings, model_loader=load_served_model)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app, lifespan included (migrations, model loading, micro-batcher)."""
    with TestClient(serving_app(settings)) as test_client:
        yield test_client


def record(**changes: Any) -> dict[str, Any]:
    """A valid request record, with some values changed."""
    return {"mean radius": 15.2, "texture (%)": 18.0, "colour": "red"} | changes


# A model that hostile numbers can break (test_unscorable.py, test_fuzzing.py).
FRAGILE = f"fragile_{TASK}"
# A dose measured in grams with milligram spread: scaling divides by a tiny standard deviation, so a huge but finite
# JSON number becomes infinity after the model's StandardScaler.
DOSE = "dose (g)"
RANGE = [0.0, 0.002]
HUGE = sys.float_info.max


def fragile_data(n: int = 120) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "mean radius": rng.normal(14.0, 3.0, n),
            DOSE: rng.normal(0.001, 0.0002, n),
            "colour": pd.Series(rng.choice(["red", "green", "blue"], n), dtype="str"),
        }
    )
    score = (frame[DOSE] - 0.001) / 0.0002 + (frame["colour"] == "red")
    target = (score > 0.5).astype(int) if TASK == "classification" else 3.0 * score
    return frame, target


@pytest.fixture(scope="session")
def fragile_uri(tracking_uri: str) -> str:
    """A champion with a tiny-scale feature, and the ranges training logs into the model's metadata."""
    frame, target = fragile_data()
    pipeline = make_pipeline_for(TASK)
    pipeline.steps[0][1].transformers[0] = ("numeric", pipeline.steps[0][1].transformers[0][1], ["mean radius", DOSE])
    pipeline.fit(frame, target)
    mlflow.set_tracking_uri(tracking_uri)
    with mlflow.start_run() as run:
        mlflow.set_tag("task", TASK)
        mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(frame, pipeline.predict(frame)),
            registered_model_name=FRAGILE,
            serialization_format="skops",
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)),
            metadata={"feature_ranges": {DOSE: RANGE, "mean radius": [0.0, 30.0]}},
        )
    client = MlflowClient()
    version = client.search_model_versions(f"name='{FRAGILE}' and run_id='{run.info.run_id}'")[0].version
    client.set_registered_model_alias(FRAGILE, "champion", version)
    return tracking_uri


def fragile_settings(tracking_uri: str, database: Path) -> Settings:
    return make_settings(tracking_uri, database, model_name=FRAGILE, model_uri=f"models:/{FRAGILE}@champion")
