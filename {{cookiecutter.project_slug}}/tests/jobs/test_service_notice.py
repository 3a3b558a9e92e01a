"""After @champion moved, a service running on API_PORT reloads it without a restart, and retrain says so."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.jobs.context import Paths
from {{ cookiecutter.package_name }}.jobs.ingest import ingest
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.service_notice import tell_running_service
from {{ cookiecutter.package_name }}.jobs.split import split
from {{ cookiecutter.package_name }}.jobs.train import train
from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from conftest import byod_frame, free_port, make_params, serving_in_thread

KEY = "notice-test-key"


def test_with_no_service_listening_it_says_how_a_running_one_picks_the_champion_up(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # bound then released: nothing listens there now
    monkeypatch.setenv("API_PORT", str(port))
    line = tell_running_service(settings)
    assert f"no service answers on http://127.0.0.1:{port}" in line
    assert "POST /admin/reload" in line
    assert "MODEL_POLL_SECONDS" in line


@pytest.fixture
def served(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Paths]]:
    """Version 1 as @champion, served by the real app on a real socket at API_PORT, with an API key."""
    paths = Paths(tmp_path)
    (tmp_path / "data" / "external").mkdir(parents=True)
    byod_frame("classification").to_csv(paths / "data/external/byod.csv", index=False)
    params = make_params("classification")
    ingest(params, paths)
    split(params, paths)
    train(params, settings, paths)
    promote(params, settings, paths)
    keyed = settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'predictions.db'}",
            "model_uri": f"models:/{settings.model_name}@champion",
            "api_key": SecretStr(KEY),
            "serving_mode": "plain",
        }
    )
    port = free_port()
    monkeypatch.setenv("API_PORT", str(port))
    with serving_in_thread(create_app(keyed), port=port):
        yield keyed, paths


@pytest.mark.slow
def test_a_running_service_reloads_the_moved_champion_and_the_line_says_so(served: tuple[Settings, Paths]) -> None:
    settings, paths = served
    train(make_params("classification", {"hyperparameters": {"max_iter": 500, "C": 0.5}}), settings, paths)
    client = MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
    client.set_registered_model_alias(settings.model_name, "champion", "2")
    line = tell_running_service(settings)
    assert "reloaded without a restart: it now serves version 2 (was 1)" in line
    assert "already serves version 2" in tell_running_service(settings)


@pytest.mark.slow
def test_a_service_expecting_another_key_keeps_its_model_and_the_line_says_why(
    served: tuple[Settings, Paths],
) -> None:
    settings, _ = served
    line = tell_running_service(settings.model_copy(update={"api_key": SecretStr("another-key")}))
    assert "answered 401 to POST /admin/reload and keeps serving its model: it expects another key" in line
