"""Retraining on feedback: hostile rows are quarantined with their reasons, and never reach the next model; a version
whose retrain stopped before its gate is never served."""

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.io.datasets import read_frame
from {{ cookiecutter.package_name }}.jobs import retrain
from {{ cookiecutter.package_name }}.jobs.context import TRAIN, Paths, load_expectations
from {{ cookiecutter.package_name }}.jobs.ingest import ingest
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.rollback import RollbackRefusedError, rollback
from {{ cookiecutter.package_name }}.jobs.split import split
from {{ cookiecutter.package_name }}.jobs.train import train
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.database import create_db_engine, upgrade
from {{ cookiecutter.package_name }}.store.ids import new_ids
from {{ cookiecutter.package_name }}.store.repository import add_feedback, insert_predictions, record_model_version
from {{ cookiecutter.package_name }}.store.tables import utcnow
from {{ cookiecutter.package_name }}.user_errors import UserError

from conftest import CITY, COUNT, NUMBER, byod_frame, make_params

pytestmark = pytest.mark.slow
TASK = "classification"
HOSTILE: list[dict[str, Any]] = [
    {NUMBER: 1e16},
    {COUNT: -1.7e308},
    {NUMBER: 3e250, COUNT: 1e300},
    {CITY: "Atlantis"},
    {COUNT: None},
]


@pytest.fixture
def champion(tmp_path: Path, settings: Settings) -> tuple[Paths, Settings]:
    """A project trained on the bring-your-own CSV, its version promoted, and an empty prediction log."""
    paths = Paths(tmp_path)
    (tmp_path / "data" / "external").mkdir(parents=True)
    byod_frame(TASK).to_csv(paths / "data/external/byod.csv", index=False)
    params = make_params(TASK)
    ingest(params, paths)
    split(params, paths)
    train(params, settings, paths)
    promote(params, settings, paths)
    logged = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'predictions.db'}"})
    engine = create_db_engine(logged.database_url)
    upgrade(engine)
    record_model_version(engine, logged.model_name, "1", None, {})
    engine.dispose()
    return paths, logged


def log_with_feedback(
    settings: Settings, records: list[dict[str, Any]], actual: Any, source: str | None = None
) -> None:
    engine = create_db_engine(settings.database_url)
    ids = new_ids(len(records))
    rows = [
        {
            "id": prediction_id,
            "created_at": utcnow(),
            "model_name": settings.model_name,
            "model_version": "1",
            "request_id": None,
            "features": features,
            "prediction": actual,
            "probabilities": None,
        }
        for prediction_id, features in zip(ids, records, strict=True)
    ]
    insert_predictions(engine, rows)
    for prediction_id in ids:
        add_feedback(engine, prediction_id, actual, source=source)
    engine.dispose()


def fresh_records(paths: Paths, count: int) -> list[dict[str, Any]]:
    """Rows like the training data but not in it (shifted ages), as a client would send them."""
    frame = read_frame(paths / TRAIN, load_expectations(paths)).drop(columns="Target?")
    frame = frame[frame[NUMBER].notna()].head(count)
    frame[NUMBER] = frame[NUMBER] + 0.25
    return [{str(k): (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def versions(settings: Settings) -> int:
    return len(
        MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri).search_model_versions(
            f"name = '{settings.model_name}'"
        )
    )


def test_hostile_feedback_is_quarantined_and_the_rest_is_trained_on(champion: tuple[Paths, Settings]) -> None:
    paths, settings = champion
    good = fresh_records(paths, 20)
    log_with_feedback(settings, good, "churned")
    log_with_feedback(settings, [good[0] | changes for changes in HOSTILE], "stayed")
    result = retrain.retrain(make_params(TASK), settings, paths)
    assert isinstance(result, retrain.Retrained)
    # Of the 20 good rows, promote.recent_share (0.2) of the newest are kept aside for the gate, never trained on.
    assert (result.exported, result.quarantined, result.added, result.recent) == (25, 5, 16, 4)
    assert len(pd.read_csv(paths / retrain.RECENT)) == 4
    quarantine = pd.read_csv(paths / retrain.QUARANTINE)
    assert len(quarantine) == 5
    assert quarantine["reason"].str.contains("outside its allowed range").sum() == 3
    assert quarantine["reason"].str.contains("'home city' = 'Atlantis'").sum() == 1
    assert len(pd.read_csv(paths / retrain.FEEDBACK)) == 20
    trained_on = pd.read_csv(paths / retrain.TRAIN_WITH_FEEDBACK)
    assert trained_on[COUNT].abs().max() < 100
    run = MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri).get_run(
        str(
            MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
            .get_model_version(settings.model_name, result.version)
            .run_id
        )
    )
    assert run.data.tags["retrain.feedback_rows_quarantined"] == "5"
    assert run.data.tags["gate.rule"] == "test"  # 4 recent rows are too few to judge on
    assert run.data.tags["gate.reason"].startswith("only 4 recent feedback rows (promote.min_recent is 30)")


def test_feedback_on_a_test_row_is_trained_on_only_when_it_carries_new_truth() -> None:
    train_split = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    test_split = pd.DataFrame({"x": [3.0, 4.0], "y": ["a", "b"]})
    feedback = pd.DataFrame({"x": [3.0, 4.0, 5.0], "y": ["a", "a", "b"]})
    combined = retrain.with_feedback(train_split, test_split, feedback, "y")
    # (3, a) is a test row as it is: training on it would let the candidate see the exam. (4, a) is new truth.
    assert combined.iloc[2:].to_dict("records") == [{"x": 4.0, "y": "a"}, {"x": 5.0, "y": "b"}]


def test_with_only_hostile_feedback_retrain_stops_before_the_registry(champion: tuple[Paths, Settings]) -> None:
    paths, settings = champion
    record = fresh_records(paths, 1)[0]
    log_with_feedback(settings, [record | changes for changes in HOSTILE], "stayed")
    before = versions(settings)
    result = retrain.retrain(make_params(TASK), settings, paths)
    assert isinstance(result, retrain.AllQuarantined)
    assert "all 5 feedback rows were quarantined" in result.message
    assert len(pd.read_csv(paths / retrain.QUARANTINE)) == 5
    assert not (paths / retrain.FEEDBACK).exists()
    assert versions(settings) == before


def test_recency_weights_let_todays_truth_outvote_yesterdays_rows(champion: tuple[Paths, Settings]) -> None:
    """Concept drift: every feedback label is the other class, from two sources. Weighed like the old rows, the new
    truth is outvoted; weighed by age (retrain.half_life), the candidate learns it and wins on the recent slice, where
    only the waived guard lets it through: it waits for a person's approval (tests/monitoring/test_feedback_sources)."""
    paths, settings = champion
    rows = read_frame(paths / TRAIN, load_expectations(paths))
    rows = rows[rows[NUMBER].notna()].head(80)
    records = fresh_records(paths, 80)
    reversed_truth = rows["Target?"].map({"churned": "stayed", "stayed": "churned"}).tolist()
    for number, (record, actual) in enumerate(zip(records, reversed_truth, strict=True)):
        log_with_feedback(settings, [record], actual, source=("app", "web")[number % 2])
    params = make_params(TASK)
    params = params.model_copy(update={"promote": params.promote.model_copy(update={"min_recent": 10})})

    def retrained(half_life: float) -> retrain.Retrained:
        result = retrain.retrain(
            params.model_copy(update={"retrain": params.retrain.model_copy(update={"half_life": half_life})}),
            settings,
            paths,
        )
        assert isinstance(result, retrain.Retrained)
        return result

    equal = retrained(0.0)
    weighted = retrained(20.0)
    assert weighted.decision.candidate_recent is not None and equal.decision.candidate_recent is not None
    # Equal weights: the candidate still ranks today's rows as yesterday's truth would, so worse than chance.
    assert equal.decision.candidate_recent < 0.5 < weighted.decision.candidate_recent
    assert (weighted.decision.alias, weighted.decision.awaiting_approval) == ("challenger", True)
    assert weighted.decision.rule == "recent"
    assert "the test split no longer describes today" in weighted.decision.reason
    run = MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri).get_run(
        str(
            MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
            .get_model_version(settings.model_name, weighted.version)
            .run_id
        )
    )
    assert run.data.tags["retrain.half_life"] == "20.0"
    # {source: [rows, used]}: the recent slice's draw left one source a little ahead, and the cap evened it out.
    sources = json.loads(run.data.tags["retrain.feedback_sources"])
    assert set(sources) == {"app", "web"} and sum(rows for rows, _ in sources.values()) == 64
    assert max(used for _, used in sources.values()) <= 0.5 * sum(used for _, used in sources.values())


def test_a_retrain_stopped_before_its_gate_leaves_a_version_that_is_never_served(
    champion: tuple[Paths, Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    """The registry went away after retrain registered its version and before the gate judged it: the job stopped
    there (the test runs retrain's first half only). Promote alone and a rollback refuse that version in a sentence;
    the next retrain says what it is and trains and judges a new one."""
    paths, settings = champion
    log_with_feedback(settings, fresh_records(paths, 20), "churned")
    params = make_params(TASK)
    stopped = retrain.register_on_feedback(params, settings, paths)
    assert isinstance(stopped, retrain.Registered) and stopped.version == "2"

    with pytest.raises(UserError, match="version 2 was registered by a `retrain` that stopped before its gate"):
        promote(params, settings, paths)
    with pytest.raises(RollbackRefusedError, match="nobody judged is never served"):
        rollback(settings, to="2")
    assert str(tracking.version_by_alias(settings.model_name, tracking.CHAMPION).version) == "1"  # type: ignore[union-attr]

    capsys.readouterr()
    result = retrain.retrain(params, settings, paths)
    assert "version 2 was registered by a retrain that stopped before its gate" in capsys.readouterr().out
    assert isinstance(result, retrain.Retrained) and result.version == "3"
    assert result.decision.candidate == "3"  # judged, whichever alias it earned
    assert tracking.run_tags(settings.model_name, "3")["gate.decision"] == result.decision.alias
    assert "gate.decision" not in tracking.run_tags(settings.model_name, "2")
