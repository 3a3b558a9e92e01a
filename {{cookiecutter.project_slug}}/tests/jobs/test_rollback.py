"""promote -> rollback -> history on a real pipeline and registry: both moves recorded, each refusal a sentence."""

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier

from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.io.datasets import read_frame
from {{ cookiecutter.package_name }}.jobs import history
from {{ cookiecutter.package_name }}.jobs.context import TRAIN, Paths, load_expectations
from {{ cookiecutter.package_name }}.jobs.history import champion_history, describe
from {{ cookiecutter.package_name }}.jobs.rollback import RollbackRefusedError, rollback
from {{ cookiecutter.package_name }}.settings import Settings

from conftest import registry_with_champion, split_byod_project


@pytest.fixture
def two_champions(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Version 1 became the first champion, then version 2 beat it: the registry after two promotions."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    project = Paths(tmp_path)
    weak, strong = split_byod_project(project)
    registry_with_champion(settings, project, weak, strong, promote_strong=True)
    assert aliased(settings) == "2"
    return settings


def aliased(settings: Settings) -> str | None:
    found = tracking.version_by_alias(settings.model_name, tracking.CHAMPION)
    return None if found is None else str(found.version)


def test_rollback_goes_to_the_previous_champion_and_history_shows_every_move(
    two_champions: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "hubot")
    move = rollback(two_champions, why="support tickets doubled")
    assert (move.from_version, move.to_version) == ("2", "1")
    assert aliased(two_champions) == "1"

    newest, promoted, first = champion_history(two_champions)
    assert (newest.actor, newest.reason) == ("hubot", "rollback: support tickets doubled")
    assert {"to.test_roc_auc", "from.test_roc_auc"} <= set(newest.scores)
    assert (promoted.from_version, promoted.to_version, promoted.actor) == ("1", "2", "octocat")
    assert "gate.candidate_test_roc_auc" in promoted.scores and "gate.champion_test_roc_auc" in promoted.scores
    assert (first.from_version, first.reason) == (None, "there is no champion yet")
    line = describe(promoted)
    assert "octocat  1 → 2" in line and "gate.candidate_test_roc_auc" in line and promoted.reason in line


def test_history_prints_json_for_tools(
    two_champions: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rollback(two_champions)
    monkeypatch.setattr(history, "get_settings", lambda: two_champions)
    assert history.main(as_json=True) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(m["from_version"], m["to_version"]) for m in printed["moves"]] == [("2", "1"), ("1", "2"), (None, "1")]
    assert printed["moves"][0]["reason"] == "rollback"


def test_rollback_refuses_an_unknown_version_the_champion_itself_and_an_empty_past(two_champions: Settings) -> None:
    with pytest.raises(RollbackRefusedError, match=r"version 99 of .* does not exist \(registered: 1, 2\)"):
        rollback(two_champions, to="99")
    with pytest.raises(RollbackRefusedError, match="version 2 is already @champion"):
        rollback(two_champions, to="2")
    rollback(two_champions)
    with pytest.raises(RollbackRefusedError, match="names no champion before version 1: choose one with --to"):
        rollback(two_champions)  # version 1 was the first champion
    assert rollback(two_champions, to="2").reason == "rollback"
    assert aliased(two_champions) == "2"


def test_rollback_refuses_a_version_the_service_could_not_serve(two_champions: Settings) -> None:
    other = pd.DataFrame({"only column": [1.0, 2.0, 3.0, 4.0]})
    model = DummyClassifier(strategy="most_frequent").fit(other, ["churned", "stayed", "stayed", "churned"])
    version = tracking.log_training(two_champions, model, other, {}, {}, {})["version"]
    with pytest.raises(
        RollbackRefusedError, match=f"version {version} cannot take version 2's requests.*'only column'"
    ):
        rollback(two_champions, to=version)
    assert aliased(two_champions) == "2"


def relabelled_version(settings: Settings, project: Path) -> str:
    """A version trained on the same columns whose classes are named differently ("left"/"loyal"): it reads every
    request the champion reads, but a running service answering "churned"/"stayed" would refuse it (409)."""
    paths = Paths(project)
    train_rows = read_frame(paths / TRAIN, load_expectations(paths))  # typed as training read it
    features = train_rows.drop(columns="Target?")
    labels = train_rows["Target?"].map({"churned": "left", "stayed": "loyal"})
    model = clone(tracking.load_version(settings.model_name, "2")).fit(features, labels)
    return tracking.log_training(settings, model, features, {}, {}, {"task": "classification"})["version"]


def test_rollback_refuses_a_version_with_other_classes_as_the_service_would(
    two_champions: Settings, tmp_path: Path
) -> None:
    version = relabelled_version(two_champions, tmp_path)
    with pytest.raises(RollbackRefusedError, match=f"version {version} predicts the classes .*'left'"):
        rollback(two_champions, to=version)
    assert aliased(two_champions) == "2"


def test_rollback_without_a_champion_says_to_promote_first(settings: Settings) -> None:
    with pytest.raises(RollbackRefusedError, match="has no @champion to roll back: run `make promote` first"):
        rollback(settings)


def test_history_without_recorded_moves_says_which_commands_record_them(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "get_settings", lambda: settings)
    assert history.main() == 0
    assert "no recorded move of @champion" in capsys.readouterr().out
