"""Batch scoring on a real champion: lineage on every row, rejected rows beside the output, and the stops."""

import re
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.core.batch_rows import MISSING_COLUMN, NOT_A_NUMBER, NOT_FINITE
from {{ cookiecutter.package_name }}.io.scoring_runs import scoring_experiment
from {{ cookiecutter.package_name }}.jobs.context import Paths
from {{ cookiecutter.package_name }}.jobs.feedback_import import import_outcomes
from {{ cookiecutter.package_name }}.jobs.ingest import ingest
from {{ cookiecutter.package_name }}.jobs.monitor import run_scored
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.retrain import read_feedback
from {{ cookiecutter.package_name }}.jobs.score import Outputs, run
from {{ cookiecutter.package_name }}.jobs.split import split
from {{ cookiecutter.package_name }}.jobs.train import train
from {{ cookiecutter.package_name }}.params import Params, load_params
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.user_errors import UserError

from conftest import CITY, CODE, COUNT, NUMBER, byod_frame, make_params

TASK = load_params().task
TARGET = "Target?"
LINEAGE = [
    "prediction_id",
    "model_name",
    "model_version",
    "model_run_id",
    "git_commit",
    "training_data_hash",
    "scored_at",
    "source_file",
    "source_row",
]


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A champion trained and promoted by the pipeline's own jobs on the bring-your-own test CSV."""
    root = tmp_path_factory.mktemp("score-project")
    (root / "data" / "external").mkdir(parents=True)
    byod_frame(TASK).to_csv(root / "data/external/byod.csv", index=False)
    paths, params = Paths(root), make_params(TASK)
    settings = Settings(
        _env_file=None,
        mlflow_tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        mlflow_artifact_root=root / "mlartifacts",
        mlflow_experiment="score",
        model_name="score_model",
        model_uri="models:/score_model@champion",
    )
    ingest(params, paths)
    split(params, paths)
    train(params, settings, paths)
    promote(params, settings, paths)
    return settings


def batch(rows: int = 60, seed: int = 1) -> pd.DataFrame:
    """New rows to score, as a client would have them: the features and an id of their own, no target."""
    frame = byod_frame(TASK, rows=rows, seed=seed).drop(columns=[TARGET])
    return frame.assign(customer=[f"c{i}" for i in range(rows)])


def with_share(share: float) -> Params:
    return make_params(TASK).model_copy(
        update={"score": make_params(TASK).score.model_copy(update={"max_rejected_share": share})}
    )


def written(output: Path) -> list[Path]:
    outputs = Outputs(output)
    return [path for path in (outputs.scored, outputs.rejected, outputs.summary) if path.exists()]


def test_every_row_keeps_its_columns_and_gets_the_champions_prediction_and_lineage(
    champion: Settings, tmp_path: Path
) -> None:
    frame = batch()
    frame.to_csv(tmp_path / "batch.csv", index=False)
    summary, run_id = run(champion, make_params(TASK), str(tmp_path / "batch.csv"), tmp_path / "scored")

    scored = pd.read_parquet(tmp_path / "scored")
    assert (summary.rows_in, summary.scored, summary.rejected) == (60, 60, 0)
    assert list(scored.columns[: len(frame.columns)]) == list(frame.columns)
    assert set(LINEAGE) <= set(scored.columns)
    assert scored["source_row"].tolist() == list(range(60))
    assert scored["customer"].tolist() == frame["customer"].tolist()
    assert scored["prediction_id"].is_unique
    version = MlflowClient().get_model_version_by_alias("score_model", "champion")
    assert set(scored["model_version"]) == {str(version.version)}
    assert set(scored["model_run_id"]) == {version.run_id}
    assert version.run_id is not None
    tags = mlflow.get_run(version.run_id).data.tags
    assert set(scored["git_commit"]) == {tags["lineage.git_commit"]}
    assert set(scored["training_data_hash"]) == {tags["lineage.data.train"]}
    # The same predictions as the registered pipeline itself makes on the same rows, read the same way.
    pipeline = mlflow.sklearn.load_model(f"models:/score_model/{version.version}")
    expected = pipeline.predict(scored[[NUMBER, COUNT, CITY, CODE]].astype({CITY: object, CODE: object}))
    assert scored["prediction"].tolist() == list(expected)
    if TASK == "classification":
        probabilities = scored[[f"probability_{label}" for label in pipeline.classes_]].to_numpy()
        assert np.allclose(probabilities.sum(axis=1), 1.0)
    # The batch is a run of the scoring experiment, tagged with the version it used.
    logged = mlflow.get_run(run_id)
    experiment = mlflow.get_experiment_by_name(scoring_experiment("score_model"))
    assert experiment is not None and logged.info.experiment_id == experiment.experiment_id
    assert logged.data.tags["model_version"] == str(version.version)
    assert logged.data.metrics["scored"] == 60


def test_rows_the_model_cannot_take_are_rejected_with_file_row_column_and_reason(
    champion: Settings, tmp_path: Path
) -> None:
    frame = batch().astype({NUMBER: object})
    frame.loc[5, NUMBER] = "forty"
    frame.loc[7, NUMBER] = "1e400"  # a number too large for a float: infinity, which no estimator takes
    frame.to_csv(tmp_path / "batch.csv", index=False)
    summary, _ = run(champion, with_share(0.1), str(tmp_path / "batch.csv"), tmp_path / "scored")

    assert (summary.rows_in, summary.scored, summary.rejected) == (60, 58, 2)
    rejected = pd.read_parquet(tmp_path / "scored-rejected").sort_values("source_row")
    assert rejected["source_row"].tolist() == [5, 7]
    assert set(rejected["source_file"]) == {str(tmp_path / "batch.csv")}
    assert rejected["column"].tolist() == [NUMBER, NUMBER]
    assert rejected["reason"].iloc[0] == NOT_A_NUMBER
    assert rejected["value"].iloc[0] == "forty"
    assert rejected["reason"].iloc[1] == NOT_FINITE
    assert 5 not in pd.read_parquet(tmp_path / "scored")["source_row"].tolist()


def test_a_folder_of_csv_and_parquet_files_is_one_batch_and_a_missing_column_rejects_its_rows(
    champion: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    (folder / "b").mkdir(parents=True)
    batch(40, seed=2).to_csv(folder / "a.csv", index=False)
    batch(30, seed=3).to_parquet(folder / "b" / "part.parquet")
    batch(20, seed=4).drop(columns=[COUNT]).to_csv(folder / "c.csv", index=False)
    summary, _ = run(champion, with_share(0.25), str(folder), tmp_path / "scored")

    assert (summary.rows_in, summary.scored, summary.rejected) == (90, 70, 20)
    scored = pd.read_parquet(tmp_path / "scored")
    assert scored.groupby("source_file").size().to_dict() == {f"{folder}/a.csv": 40, f"{folder}/b/part.parquet": 30}
    rejected = pd.read_parquet(tmp_path / "scored-rejected")
    assert set(rejected["source_file"]) == {f"{folder}/c.csv"}
    assert (set(rejected["column"]), set(rejected["reason"])) == ({COUNT}, {MISSING_COLUMN})


def test_past_the_allowed_share_of_rejected_rows_nothing_is_written_and_the_reasons_are_named(
    champion: Settings, tmp_path: Path
) -> None:
    frame = batch().astype({NUMBER: object})
    frame.loc[:9, NUMBER] = "n/a?"
    frame.to_csv(tmp_path / "batch.csv", index=False)
    with pytest.raises(UserError, match=re.escape("10 of 60 rows (16.7%)")) as raised:
        run(champion, with_share(0.05), str(tmp_path / "batch.csv"), tmp_path / "scored")
    assert f"the commonest reasons: {NUMBER!r}: not a number (10 rows)" in str(raised.value)
    assert written(tmp_path / "scored") == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["batch.csv"]


def test_a_file_that_shares_no_column_with_the_model_stops_at_once_in_one_sentence(
    champion: Settings, tmp_path: Path
) -> None:
    pd.DataFrame({"invoice": [1, 2], "amount": [3.0, 4.0]}).to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(UserError, match="has none of the columns the model takes") as raised:
        run(champion, make_params(TASK), str(tmp_path / "other.csv"), tmp_path / "scored")
    assert "\n" not in str(raised.value)
    assert written(tmp_path / "scored") == []


def test_an_existing_output_is_kept_unless_overwrite_is_asked(champion: Settings, tmp_path: Path) -> None:
    batch().to_csv(tmp_path / "batch.csv", index=False)
    run(champion, make_params(TASK), str(tmp_path / "batch.csv"), tmp_path / "scored")
    with pytest.raises(UserError, match="--overwrite"):
        run(champion, make_params(TASK), str(tmp_path / "batch.csv"), tmp_path / "scored")
    summary, _ = run(champion, make_params(TASK), str(tmp_path / "batch.csv"), tmp_path / "scored", overwrite=True)
    assert len(pd.read_parquet(tmp_path / "scored")) == summary.scored == 60


def test_the_spark_engine_without_pyspark_says_how_to_install_it_and_master_needs_spark(
    champion: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch().to_csv(tmp_path / "batch.csv", index=False)
    # As on a project installed with `make install` (pyspark is the optional `spark` group): importing it fails.
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(UserError, match=re.escape("run `make install-spark`")) as raised:
        run(champion, make_params(TASK), str(tmp_path / "batch.csv"), tmp_path / "scored", engine="spark")
    assert "\n" not in str(raised.value)
    with pytest.raises(UserError, match="--master is for --engine spark"):
        run(champion, make_params(TASK), str(tmp_path / "batch.csv"), tmp_path / "scored", master="local[2]")
    assert written(tmp_path / "scored") == []


def test_monitor_scored_compares_a_batch_with_the_training_data_in_a_report_of_its_own(
    champion: Settings, tmp_path: Path
) -> None:
    # The champion fixture's project (its data/processed/train.csv is the drift reference), reports under tmp_path.
    root = champion.mlflow_artifact_root.parent
    settings = champion.model_copy(update={"project_root": root, "monitoring_dir": tmp_path / "monitoring"})
    params = make_params(TASK)
    batch(seed=5).to_csv(tmp_path / "alike.csv", index=False)
    shifted = batch(seed=6)
    shifted[NUMBER] = shifted[NUMBER] + 60  # customers 60 years older than any the model was trained on
    shifted.to_csv(tmp_path / "older.csv", index=False)
    for name in ("alike", "older"):
        run(settings, params, str(tmp_path / f"{name}.csv"), tmp_path / name)

    alike, _ = run_scored(settings, params, tmp_path / "alike")
    older, older_dir = run_scored(settings, params, tmp_path / "older")

    assert older_dir.parent == settings.monitoring_dir / "batch-older"
    assert (older_dir / "report.html").is_file() and (older_dir / "summary.json").is_file()
    assert (alike.n_current, older.n_current, older.n_labeled) == (60, 60, 0)
    assert NUMBER in older.drifted_columns and NUMBER not in alike.drifted_columns
    assert older.drift_share > alike.drift_share
    assert older.window["description"] == "batch older (60 scored rows)"
    # The service's report (latest/) and trend (history.jsonl) are the logged predictions' alone.
    assert sorted(path.name for path in settings.monitoring_dir.iterdir()) == ["batch-alike", "batch-older"]
    with pytest.raises(UserError, match="is not a dataset written by `score`"):
        run_scored(settings, params, tmp_path / "older-rejected")


def test_feedback_import_stores_batch_outcomes_as_feedback_does_and_they_reach_retrain(
    champion: Settings, tmp_path: Path
) -> None:
    settings = champion.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'predictions.db'}"})
    batch().to_csv(tmp_path / "batch.csv", index=False)
    run(settings, make_params(TASK), str(tmp_path / "batch.csv"), tmp_path / "scored")
    scored = pd.read_parquet(tmp_path / "scored")
    labelled = scored.head(5)
    actual = labelled["prediction"].tolist()
    if TASK == "classification":
        actual = [str(label) for label in actual]  # as a CSV gives them: "churned" for the model's "churned"
    bad_label = "maybe" if TASK == "classification" else "a lot"
    outcomes = pd.DataFrame(
        {
            "prediction_id": [*labelled["prediction_id"], "0190a5e2-0000-7000-8000-000000000000", "not-an-id"],
            # Row 1's label is bad; a mixed list keeps the column as text (pandas refuses text in a float column).
            "actual": [actual[0], bad_label, *actual[2:], actual[0], actual[0]],
        }
    )
    outcomes.to_csv(tmp_path / "labels-2026-12.csv", index=False)

    first = import_outcomes(settings, tmp_path / "labels-2026-12.csv", tmp_path / "scored")
    again = import_outcomes(settings, tmp_path / "labels-2026-12.csv", tmp_path / "scored")

    assert (first.stored, first.repeated, [row for row, _ in first.refused]) == (4, 0, [1, 5, 6])
    reasons = dict(first.refused)
    assert reasons[5] == f"no prediction with this id in {tmp_path / 'scored'}"
    assert reasons[6] == "prediction_id is not a prediction id"
    assert "maybe" in reasons[1] or "number" in reasons[1]  # POST /feedback's 422 sentence for a bad label
    assert (again.stored, again.repeated) == (0, 4)  # a repeat is stored once, as a retried POST /feedback
    # retrain reads these outcomes with the batch row's features, under the file's own source.
    rows = {row["prediction_id"]: row for row in read_feedback(settings)}
    stored = [labelled.iloc[i] for i in (0, 2, 3, 4)]
    assert sorted(rows) == sorted(row["prediction_id"] for row in stored)
    for row in stored:
        found = rows[row["prediction_id"]]
        assert found["source"] == "file:labels-2026-12.csv"
        assert found["features"][NUMBER] == (None if pd.isna(row[NUMBER]) else row[NUMBER])
        assert found["features"][CITY] == (None if pd.isna(row[CITY]) else row[CITY])
    with pytest.raises(UserError, match="needs prediction_id and actual"):
        outcomes[["prediction_id"]].to_csv(tmp_path / "ids.csv", index=False)
        import_outcomes(settings, tmp_path / "ids.csv", tmp_path / "scored")
