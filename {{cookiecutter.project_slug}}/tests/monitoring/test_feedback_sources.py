"""No single client chooses what the model learns: a flood of labels from one source is flagged by monitoring and
capped by retrain. Real service, store, registry and retrain."""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.core.monitoring import render_summary
from {{ cookiecutter.package_name }}.core.schema import infer_expectations
from {{ cookiecutter.package_name }}.core.simulation import records
from {{ cookiecutter.package_name }}.io import card_store
from {{ cookiecutter.package_name }}.io.datasets import write_expectations, write_frame
from {{ cookiecutter.package_name }}.jobs import monitor, retrain
from {{ cookiecutter.package_name }}.jobs.context import EXPECTATIONS, RAW, TEST, TRAIN, Paths
from {{ cookiecutter.package_name }}.jobs.evaluate import evaluate
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.train import train
from {{ cookiecutter.package_name }}.params import Params
from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.database import create_db_engine
from {{ cookiecutter.package_name }}.store.repository import add_feedback

from .conftest import TASK, make_frame, make_params, project_settings

pytestmark = pytest.mark.slow
TARGET = "target"


def opposite(truth: pd.Series) -> list[Any]:
    """The other class, or the target reflected around its centre (make_frame's is 50): the opposite of the truth."""
    return (1 - truth).tolist() if TASK == "classification" else (100.0 - truth).tolist()


@dataclass(frozen=True)
class Project:
    params: Params
    settings: Settings
    paths: Paths
    client: TestClient

    def feedback(self, rows: pd.DataFrame, actuals: list[Any], source: str) -> None:
        """Predict the rows through the running service, then report `actuals` on them as `source` would."""
        answer = self.client.post("/predict/batch", json=records(rows.drop(columns=TARGET)))
        assert answer.status_code == 200, answer.text
        engine = create_db_engine(self.settings.database_url)
        for served, actual in zip(answer.json()["predictions"], actuals, strict=True):
            add_feedback(engine, uuid.UUID(served["prediction_id"]), actual, source=source)
        engine.dispose()


@pytest.fixture
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """A trained champion served by the real app."""
    root = tmp_path_factory.mktemp("sources")
    params = make_params()
    params = params.model_copy(update={"promote": params.promote.model_copy(update={"margin": 0.01})})
    settings = project_settings(root)
    paths = Paths(root)
    frame = make_frame(800, seed=3)
    write_frame(frame, paths / RAW)
    write_frame(frame.iloc[:560], paths / TRAIN)
    write_frame(frame.iloc[560:], paths / TEST)
    write_expectations(infer_expectations(frame, TARGET, params.task), paths / EXPECTATIONS)
    train(params, settings, paths)
    evaluate(params, settings, paths)
    promote(params, settings, paths)
    with TestClient(create_app(settings)) as client:
        yield Project(params, settings, paths, client)


def fresh(count: int, seed: int) -> pd.DataFrame:
    """Rows from the same world as the training data, never seen by the model."""
    return make_frame(count, seed=seed)


def test_a_flood_of_wrong_labels_from_one_key_is_flagged_and_capped(project: Project) -> None:
    honest, flood = fresh(200, seed=10), fresh(400, seed=11)
    project.feedback(honest, honest[TARGET].tolist(), "app")
    project.feedback(flood, opposite(flood[TARGET]), "mallory")
    # Monitoring shows who contradicts the model: the flood's key, far above the honest one.
    summary = monitor.run(project.settings, project.params)
    assert summary is not None
    sources = {found.source: found for found in summary.sources}
    assert (sources["mallory"].rows, sources["app"].rows) == (400, 200)
    assert sources["mallory"].flagged and not sources["app"].flagged
    # Most of the flood contradicts the model (for regression, a label reflected around the centre stays close to the
    # truth near the centre, so fewer than for classification do); honest labels rarely do.
    assert sources["mallory"].contradiction_share > 0.5 > 0.2 > sources["app"].contradiction_share
    assert "mallory 400 rows" in render_summary(summary) and "(FLAGGED)" in render_summary(summary)
    page = project.client.get("/monitoring")
    assert page.status_code == 200
    assert '<section id="feedback-sources"' in page.text and "flagged" in page.text
    result = retrain.retrain(project.params, project.settings, project.paths)
    assert isinstance(result, retrain.Retrained)
    trained = {use.source: (use.rows, use.used) for use in result.trained_sources}
    rows, used = trained["mallory"]
    assert used == trained["app"][1] < rows  # cut to the honest source's size: half of what is trained on
    # The candidate's run keeps {source: [rows, used]}, and its model card lists them.
    mlflow = MlflowClient()
    run = mlflow.get_run(str(mlflow.get_model_version(project.settings.model_name, result.version).run_id))
    assert json.loads(run.data.tags["retrain.feedback_sources"]) == {name: list(pair) for name, pair in trained.items()}
    card = card_store.fetch_card(project.settings, run.info.run_id)
    assert card is not None and "**Feedback trained on**, per source (at most 0.5 of it from one" in card
    assert all(f"{use.source} {use.used} of {use.rows} rows" in card for use in result.trained_sources)
