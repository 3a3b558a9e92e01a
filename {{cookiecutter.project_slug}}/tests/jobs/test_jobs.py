"""The pipeline end to end on a bring-your-own CSV: ingest to a registered model, then promotion both ways."""

import json
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.jobs.context import EXPECTATIONS, METRICS, PREDICTIONS, ROC, TEST, TRAIN, Paths
from {{ cookiecutter.package_name }}.jobs.evaluate import evaluate
from {{ cookiecutter.package_name }}.jobs.ingest import ingest
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.split import split
from {{ cookiecutter.package_name }}.jobs.train import train
from {{ cookiecutter.package_name }}.jobs.validate import validate
from {{ cookiecutter.package_name }}.params import Task
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.user_errors import UserError

from conftest import CITY, CODE, NUMBER, WEAK, byod_frame, make_params

# A model that can barely learn, per task, to produce a version that must not become champion.
WEAK_BY_TASK: dict[str, dict[str, Any]] = {
    "classification": WEAK,
    "regression": {"model": "ridge", "hyperparameters": {"alpha": 1e6}},
}


@pytest.fixture
def project(tmp_path: Path) -> Paths:
    (tmp_path / "data" / "external").mkdir(parents=True)
    return Paths(tmp_path)


def prepare(task: Task, project: Paths) -> None:
    byod_frame(task).to_csv(project / "data/external/byod.csv", index=False)
    params = make_params(task)
    ingest(params, project)
    assert validate(params, project) == []
    split(params, project)


def aliased(settings: Settings, alias: str) -> str | None:
    found = tracking.version_by_alias(settings.model_name, alias)
    return None if found is None else str(found.version)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_byod_csv_becomes_a_champion_that_only_a_better_model_replaces(
    task: Task, project: Paths, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(task, project)
    assert "dropped 2 rows whose target 'Target?' is missing" in capsys.readouterr().out
    weak, strong = make_params(task, WEAK_BY_TASK[task]), make_params(task)

    train(weak, settings, project)
    first = promote(weak, settings, project)
    assert (first.alias, first.candidate, first.champion) == ("champion", "1", None)

    run = train(strong, settings, project)
    mlflow.set_experiment(experiment_id="0")  # another experiment active in the process must not matter
    metrics = evaluate(strong, settings, project)
    better = promote(strong, settings, project)
    assert (better.alias, better.candidate, better.champion) == ("champion", "2", "1")

    train(weak, settings, project)
    worse = promote(weak, settings, project)
    assert (worse.alias, worse.candidate, worse.champion) == ("challenger", "3", "2")
    assert aliased(settings, "champion") == "2"
    assert aliased(settings, "challenger") == "3"

    # The run of the champion holds params, train and test metrics, plots and lineage.
    logged = mlflow.get_run(run["run_id"]).data
    assert logged.params["data.target"] == "Target?"
    assert logged.params["train.model"] == strong.train.model
    assert {f"test_{name}" for name in metrics} | {f"train_{name}" for name in metrics} <= set(logged.metrics)
    assert {"task", "target", "lineage.git_commit", "lineage.git_dirty"} <= set(logged.tags)
    assert {"lineage.data.raw", "lineage.data.train", "lineage.data.test"} <= set(logged.tags)
    artifacts = {item.path for item in mlflow.MlflowClient().list_artifacts(run["run_id"], "plots")}
    assert len(artifacts) == 2
    assert json.loads((project / METRICS).read_text()) == metrics
    assert (project / ROC).exists() == (task == "classification")
    assert len(pd.read_csv(project / PREDICTIONS)) == len(pd.read_csv(project / TEST))

    # The serving contract: raw columns in, original labels out, signature typed from the raw columns.
    champion = mlflow.sklearn.load_model(f"models:/{settings.model_name}@champion")
    rows = pd.read_csv(project / TRAIN, dtype={CODE: str}).drop(columns="Target?").head(3)
    rows[CITY] = None
    assert len(champion.predict(rows)) == 3
    if task == "classification":
        assert set(champion.classes_) == {"churned", "stayed"}
    info = mlflow.models.get_model_info(f"models:/{settings.model_name}@champion")
    inputs = {spec.name: spec.type.name for spec in info.signature.inputs.inputs}
    assert inputs[NUMBER] == "double"
    assert inputs[CITY] == inputs[CODE] == "string"
    assert info.saved_input_example_info is not None


def test_changed_data_fails_validation_with_every_violation(project: Paths) -> None:
    prepare("classification", project)
    changed = byod_frame("classification")
    changed.loc[:10, CITY] = "Tokyo"  # not every row: a constant column is dropped at ingest, saying so
    changed["new column"] = [1.0, 2.0] * (len(changed) // 2)
    changed.to_csv(project / "data/external/byod.csv", index=False)
    params = make_params("classification")
    ingest(params, project)
    violations = validate(params, project)
    assert any("'Tokyo'" in violation for violation in violations)
    assert any("'new column'" in violation for violation in violations)
    assert (project / EXPECTATIONS).exists()


def test_promote_refuses_a_metric_of_the_other_task(project: Paths, settings: Settings) -> None:
    params = make_params("regression").model_copy(update={"promote": make_params("classification").promote})
    with pytest.raises(UserError, match="not a regression metric"):
        promote(params, settings, project)
