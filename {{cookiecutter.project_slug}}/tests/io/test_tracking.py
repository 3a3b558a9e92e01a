"""Alias moves in a real (temporary) MLflow registry: each one leaves version tags and a timeline entry behind."""

import json

import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.dummy import DummyClassifier

from {{ cookiecutter.package_name }}.core.alias_history import MAX_TAG_VALUE
from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.settings import Settings


def register(settings: Settings, columns: tuple[str, ...] = ("age", "city")) -> str:
    """A tiny registered version (a constant classifier), enough to move aliases around."""
    features = pd.DataFrame({column: [1.0, 2.0, 3.0, 4.0] for column in columns})
    model = DummyClassifier(strategy="most_frequent").fit(features, ["a", "b", "b", "a"])
    return tracking.log_training(settings, model, features, {}, {}, {})["version"]


def client(settings: Settings) -> MlflowClient:
    return MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)


def test_a_move_tags_the_version_and_the_registered_model(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    first, second = register(settings), register(settings)
    tracking.set_alias(settings.model_name, "champion", first, "there is no champion yet", {"gate.score": 0.5})
    move = tracking.set_alias(settings.model_name, "champion", second, "beats the champion", {"gate.score": 0.9})

    assert (move.from_version, move.to_version, move.actor) == (first, second, "octocat")
    assert tracking.version_by_alias(settings.model_name, "champion").version == int(second)  # type: ignore[union-attr]
    tags = client(settings).get_model_version(settings.model_name, second).tags
    assert tags["champion.moved_by"] == "octocat"
    assert tags["champion.from_version"] == first
    assert tags["champion.reason"] == "beats the champion"
    assert json.loads(tags["champion.scores"]) == {"gate.score": 0.9}
    model_tags = client(settings).get_registered_model(settings.model_name).tags
    assert json.loads(model_tags["champion.move.00002"])["from"] == first
    assert [m.to_version for m in tracking.alias_timeline(settings.model_name, "champion")] == [first, second]


def test_every_move_survives_mlflows_tag_length_limit(settings: Settings) -> None:
    versions = [register(settings) for _ in range(2)]
    reason = "the champion cannot score the current test split: " + "é" * 8000  # two bytes each
    for n in range(12):
        tracking.set_alias(settings.model_name, "champion", versions[n % 2], f"{n} {reason}", {"gate.score": n / 12})
    moves = tracking.alias_timeline(settings.model_name, "champion")
    assert [move.reason.split()[0] for move in moves] == [str(n) for n in range(12)]
    tags = client(settings).get_registered_model(settings.model_name).tags
    assert all(len(value.encode("utf-8")) <= MAX_TAG_VALUE for value in tags.values())
    version_tags = client(settings).get_model_version(settings.model_name, versions[0]).tags
    assert all(len(value.encode("utf-8")) <= MAX_TAG_VALUE for value in version_tags.values())


def test_the_actor_outside_ci_is_gits_user_name(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("CI", "GITHUB_ACTOR", "GITLAB_USER_LOGIN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.name")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "Ada Lovelace")
    assert tracking.current_actor() == "Ada Lovelace"


def test_a_registered_version_is_listed(settings: Settings) -> None:
    version = register(settings, ("age", "height"))
    assert version in tracking.registered_versions(settings.model_name)
