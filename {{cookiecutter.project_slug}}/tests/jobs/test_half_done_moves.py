"""An alias move that a command began and did not finish (its registry went away, the job was killed) is finished or
dropped by the next command that reads or moves the alias, on a real MLflow registry (docs/team-stack.md, "When the
registry goes away"). A stop between two of set_alias's steps is the test stopping after the first of them."""

from pathlib import Path

import pytest
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.jobs import approve
from {{ cookiecutter.package_name }}.jobs.context import Paths
from {{ cookiecutter.package_name }}.jobs.history import champion_history
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.rollback import rollback
from {{ cookiecutter.package_name }}.params import Params
from {{ cookiecutter.package_name }}.settings import Settings

from conftest import registry_with_champion, split_byod_project

pytestmark = pytest.mark.slow
HALF_DONE = "a promotion whose command stopped half-way"


@pytest.fixture
def candidate(tmp_path: Path, settings: Settings) -> tuple[Settings, Paths, Params]:
    """Version 1 is @champion; version 2, stronger, is trained and evaluated: what `promote` is about to move."""
    project = Paths(tmp_path)
    weak, strong = split_byod_project(project)
    registry_with_champion(settings, project, weak, strong)
    return settings, project, strong


def history_pairs(settings: Settings) -> list[tuple[str | None, str]]:
    return [(move.from_version, move.to_version) for move in champion_history(settings)]


def pending(settings: Settings) -> list[str]:
    return [key for key in MlflowClient().get_registered_model(settings.model_name).tags if key.endswith(".pending")]


def test_a_move_stopped_after_the_alias_moved_is_recorded_by_the_next_command(
    candidate: tuple[Settings, Paths, Params], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _, _ = candidate
    name = settings.model_name
    move = tracking.begin_move(name, tracking.CHAMPION, "2", HALF_DONE, {"gate.candidate_test_roc_auc": 0.9})
    MlflowClient().set_registered_model_alias(name, tracking.CHAMPION, "2")
    # Stopped here: @champion points at 2 and no history says so; the registry holds the intended move.
    assert pending(settings) == ["champion.pending"]
    capsys.readouterr()

    moves = champion_history(settings)
    assert "recorded the move of @champion to version 2" in capsys.readouterr().err
    assert [(m.from_version, m.to_version) for m in moves] == [("1", "2"), (None, "1")]
    assert moves[0] == move  # who, when, why and the scores, as the stopped command meant them
    version_tags = MlflowClient().get_model_version(name, "2").tags
    assert (version_tags["champion.from_version"], version_tags["champion.reason"]) == ("1", HALF_DONE)
    assert pending(settings) == []

    # Finishing again records nothing twice; a rollback reads the whole timeline and goes back to version 1.
    tracking.finish_move(name, move)
    assert history_pairs(settings) == [("1", "2"), (None, "1")]
    assert rollback(settings, why="after the half-done promotion").to_version == "1"
    assert history_pairs(settings) == [("2", "1"), ("1", "2"), (None, "1")]


def test_a_move_stopped_before_the_alias_moved_is_dropped_and_promote_then_decides_anew(
    candidate: tuple[Settings, Paths, Params], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, project, strong = candidate
    tracking.begin_move(settings.model_name, tracking.CHAMPION, "2", HALF_DONE)
    # Stopped here: the alias never moved.
    capsys.readouterr()

    decision = promote(strong, settings, project)
    assert "dropped the move of @champion to version 2" in capsys.readouterr().out
    assert (decision.candidate, decision.alias) == ("2", tracking.CHAMPION)
    moves = champion_history(settings)
    assert [(m.from_version, m.to_version) for m in moves] == [("1", "2"), (None, "1")]
    assert moves[0].reason == decision.reason != HALF_DONE
    assert pending(settings) == []


def test_an_approve_stopped_after_champion_moved_is_finished_by_the_same_command_again(
    candidate: tuple[Settings, Paths, Params],
) -> None:
    settings, _, _ = candidate
    name = settings.model_name
    # Version 2 waits for a person, as promote leaves a candidate that won only with the guard waived.
    approve.mark_waiting(settings, "2", {"reason": "won on recent feedback only"})
    tracking.set_alias(name, tracking.CHALLENGER, "2", "won on recent feedback only")
    # approve's first step, then a stop: @champion and @challenger both name version 2, still "waiting".
    first = tracking.set_alias(name, tracking.CHAMPION, "2", approve.APPROVED_PREFIX + "the world changed")

    move = approve.approve(settings, "2", "the world changed")
    assert move == first  # the move it recorded, not a second one
    assert history_pairs(settings) == [("1", "2"), (None, "1")]
    assert tracking.version_by_alias(name, tracking.CHALLENGER) is None
    assert MlflowClient().get_model_version(name, "2").tags[approve.STATUS] == approve.APPROVED
