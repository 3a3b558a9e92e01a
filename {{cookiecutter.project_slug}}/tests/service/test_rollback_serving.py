"""A rollback reaches the running service: @champion moves back, POST /admin/reload, predictions come from it."""

from pathlib import Path

from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.jobs.rollback import rollback

from .conftest import TASK, make_settings, record, serving_app, train_and_register
from conftest import reload_outcome

KEY = "rollback-test-key"


def test_the_running_service_serves_the_rolled_back_version(
    tracking_uri: str, tmp_path: Path, serving_mode: str
) -> None:
    name = f"rollback_{serving_mode}_{TASK}"  # a model of its own: the session's champions stay where they are
    settings = make_settings(
        tracking_uri,
        tmp_path / "predictions.db",
        model_name=name,
        model_uri=f"models:/{name}@champion",
        mlflow_artifact_root=tmp_path / "mlartifacts",
        api_key=KEY,
    )
    tracking.connect(settings)
    for _ in range(2):
        train_and_register(TASK, name)
    # The timeline that promote would have written: version 1 first, then version 2 over it.
    tracking.set_alias(name, tracking.CHAMPION, "1", "there is no champion yet")
    tracking.set_alias(name, tracking.CHAMPION, "2", "beats the champion")
    headers = {"X-API-Key": KEY}

    with TestClient(serving_app(settings)) as client:
        assert client.get("/model", headers=headers).json()["version"] == "2"
        move = rollback(settings, why="test of the undo")
        assert (move.from_version, move.to_version) == ("2", "1")
        answer = reload_outcome(client, headers)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "status": "reloaded",
            "previous_version": "2",
            "version": "1",
            "model_uri": f"models:/{name}@champion",
        }
        prediction = client.post("/predict", json=record(), headers=headers)
        assert prediction.status_code == 200, prediction.text
        assert prediction.json()["model_version"] == "1"
        assert client.get("/model", headers=headers).json()["version"] == "1"
