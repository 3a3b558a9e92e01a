"""Fixtures of the monitoring tests: a tmp project trained by the pipeline's own jobs, and a prediction log."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, insert

from {{ cookiecutter.package_name }}.core.monitoring import Summary
from {{ cookiecutter.package_name }}.core.schema import infer_expectations
from {{ cookiecutter.package_name }}.io.datasets import write_expectations, write_frame
from {{ cookiecutter.package_name }}.jobs.context import EXPECTATIONS, RAW, TEST, TRAIN, Paths
from {{ cookiecutter.package_name }}.jobs.evaluate import evaluate
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.train import train
from {{ cookiecutter.package_name }}.params import Params, Task, load_params
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.database import create_db_engine, upgrade
from {{ cookiecutter.package_name }}.store.tables import Feedback, ModelVersion, Prediction

TASK: Task = load_params().task


def make_frame(n: int, seed: int) -> pd.DataFrame:
    """Raw data with awkward column names, a categorical feature and missing values, and a target per task."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "mean radius": rng.normal(14.0, 3.0, n),
            "texture (%)": rng.normal(20.0, 4.0, n),
            "area": rng.gamma(4.0, 100.0, n),
            "smoothness": rng.uniform(0.05, 0.15, n),
            "colour": pd.Series(rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]), dtype=object),
        }
    )
    frame.loc[::13, "texture (%)"] = np.nan
    score = (frame["mean radius"] - 14.0) / 3.0 + (frame["colour"] == "red") - 0.5 + rng.normal(0.0, 0.4, n)
    frame["target"] = (score > 0).astype(int) if TASK == "classification" else 10.0 * score + 50.0
    return frame


def make_params(sample_size: int = 5_000) -> Params:
    model = {"classification": "logistic_regression", "regression": "ridge"}[TASK]
    return Params.model_validate(
        {
            "task": TASK,
            "data": {"source": "data/external/data.csv", "target": "target"},
            "split": {"test_size": 0.3, "seed": 0},
            "train": {"model": model, "hyperparameters": {}, "seed": 0},
            "promote": {"metric": "roc_auc" if TASK == "classification" else "rmse", "margin": 0.0},
            "monitor": {
                "drift_share": 0.5,
                "metric_drop": 0.05,
                "sample_size": sample_size,
                "seed": 0,
                "min_labeled": 20,
            },
        }
    )


def project_settings(root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "project_root": root,
        "mlflow_tracking_uri": f"sqlite:///{root / 'mlflow.db'}",
        "mlflow_artifact_root": root / "mlartifacts",
        "database_url": f"sqlite:///{root / 'predictions.db'}",
        "monitoring_dir": root / "reports" / "monitoring",
    }
    return Settings(_env_file=None, **(values | overrides))


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Params, Paths]:
    """A project whose champion was trained, evaluated and promoted by the pipeline's jobs on its own split."""
    root = tmp_path_factory.mktemp("project")
    paths, params, settings = Paths(root), make_params(), project_settings(root)
    frame = make_frame(600, seed=0)
    split = 420
    write_frame(frame, paths / RAW)
    write_frame(frame.iloc[:split], paths / TRAIN)
    write_frame(frame.iloc[split:], paths / TEST)
    write_expectations(infer_expectations(frame, "target", TASK), paths / EXPECTATIONS)
    train(params, settings, paths)
    evaluate(params, settings, paths)
    promote(params, settings, paths)
    return settings, params, paths


@dataclass(frozen=True)
class Loop:
    settings: Settings
    params: Params
    paths: Paths
    normal: Summary
    drifted: Summary
    normal_html: str


@pytest.fixture(scope="session")
def loop(trained_project: tuple[Settings, Params, Paths]) -> Iterator[Loop]:
    """Normal traffic with feedback, monitor; drifted traffic with feedback, monitor the last of it."""
    # Imported here: Evidently is slow to import, and only the tests that use this fixture need it.
    from fastapi.testclient import TestClient

    from {{ cookiecutter.package_name }}.jobs import monitor
    from {{ cookiecutter.package_name }}.jobs.simulate import read_held_out, served_features, simulate
    from {{ cookiecutter.package_name }}.service.app import create_app

    settings, params, paths = trained_project
    with TestClient(create_app(settings)) as client:
        held_out = read_held_out(paths / TEST, served_features(client)[1])
        calm = simulate(client, held_out, "target", n=180, feedback_rate=0.5, seed=1)
        assert (calm.predictions, dict(calm.errors)) == (180, {})
        normal = monitor.run(settings, params)
        assert normal is not None
        normal_html = Path(normal.reports["html"]).read_text(encoding="utf-8")
        shifted = simulate(client, held_out, "target", n=180, drift=1.5, feedback_rate=0.5, label_noise=0.05, seed=2)
        assert (shifted.predictions, dict(shifted.errors)) == (180, {})
        drifted = monitor.run(settings, params, last=180)
        assert drifted is not None
    yield Loop(settings, params, paths, normal, drifted, normal_html)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated prediction log with one served version."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'log.db'}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(insert(ModelVersion), [{"name": "m", "version": "1", "lineage": {}}])
    yield engine
    engine.dispose()


def log_predictions(engine: Engine, count: int, start: datetime | None = None) -> list[uuid.UUID]:
    """count predictions one second apart, the i-th with feature x = i; returns their ids, oldest first."""
    start = start or datetime.now(UTC) - timedelta(days=1)
    ids = [uuid.uuid4() for _ in range(count)]
    rows = [
        {
            "id": ids[i],
            "created_at": start + timedelta(seconds=i),
            "model_name": "m",
            "model_version": "1",
            "features": {"x": i},
            "prediction": i % 2,
            "probabilities": {"0": 0.5, "1": 0.5},
        }
        for i in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Prediction), rows)
    return ids


def add_feedback(engine: Engine, prediction_id: uuid.UUID, revisions: list[Any]) -> None:
    rows = [
        {
            "id": uuid.uuid4(),
            "prediction_id": prediction_id,
            "revision": r + 1,
            "created_at": datetime.now(UTC),
            "actual": a,
        }
        for r, a in enumerate(revisions)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Feedback), rows)
