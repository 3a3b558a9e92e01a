"""The model swapped without a restart: POST /admin/reload, the registry poll, traffic through a swap, N workers."""

import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import mlflow
import mlflow.sklearn
import pytest
import skops.io
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sqlalchemy import create_engine, select

from {{ cookiecutter.package_name }}.io.registry_lookup import registry_version
from {{ cookiecutter.package_name }}.io.service_admin import ReloadRefused, ServiceUnreachable, request_reload
from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.service.fast.numpy_path import NumpyServedModel
from {{ cookiecutter.package_name }}.service.served_model import ServedModel, load_served_model
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.repository import record_reload
from {{ cookiecutter.package_name }}.store.tables import ModelReload, Prediction

from .conftest import (
    DOSE,
    EXPERIMENT,
    TASK,
    fragile_data,
    make_pipeline_for,
    make_settings,
    record,
    serving_app,
    train_and_register,
)
from .test_process import PACKAGE, service_env
from conftest import free_port, reload_outcome, stop_server, wait_until_ready

# The loopback address a local client has: without API_KEY, admin routes answer only those.
LOCAL = ("127.0.0.1", 50000)
KEY = "reload-test-key"


def champion_version(tracking_uri: str, name: str) -> str:
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    return str(client.get_model_version_by_alias(name, "champion").version)


def register_version(tracking_uri: str, name: str) -> str:
    """Another version with the same features, made the champion; returns its number."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    train_and_register(TASK, name)
    return champion_version(tracking_uri, name)


def register_other_features(tracking_uri: str, name: str) -> str:
    """A version trained on other columns (a dose instead of the texture), made the champion."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    frame, target = fragile_data()
    pipeline = make_pipeline_for(TASK)
    pipeline.steps[0][1].transformers[0] = ("numeric", pipeline.steps[0][1].transformers[0][1], ["mean radius", DOSE])
    pipeline.fit(frame, target)
    with mlflow.start_run():
        mlflow.set_tag("task", TASK)
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(frame, pipeline.predict(frame)),
            # Given, not inferred: inferring them imports every package in the environment, for seconds.
            pip_requirements=["scikit-learn", "pandas", "numpy", "skops"],
            registered_model_name=name,
            serialization_format="skops",
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)),
        )
    version = str(info.registered_model_version)
    MlflowClient(tracking_uri, registry_uri=tracking_uri).set_registered_model_alias(name, "champion", version)
    return version


@pytest.fixture
def model_name(tracking_uri: str) -> str:
    """A registered model of this test's own, at version 1: moving its alias cannot disturb another test."""
    name = f"reload_{uuid.uuid4().hex[:8]}"
    register_version(tracking_uri, name)
    return name


def settings_for(tracking_uri: str, tmp_path: Path, name: str, **overrides: Any) -> Settings:
    values = {"model_name": name, "model_uri": f"models:/{name}@champion"} | overrides
    return make_settings(tracking_uri, tmp_path / "predictions.db", **values)


@pytest.fixture
def local(tracking_uri: str, tmp_path: Path, model_name: str) -> Iterator[TestClient]:
    """The real app without API_KEY, asked from this machine's loopback address."""
    with TestClient(serving_app(settings_for(tracking_uri, tmp_path, model_name)), client=LOCAL) as test_client:
        yield test_client


def logged_versions(settings_url: str) -> dict[str, str]:
    """prediction id -> the model version its log row names."""
    engine = create_engine(settings_url)
    with engine.connect() as connection:
        rows = connection.execute(select(Prediction.id, Prediction.model_version)).all()
    engine.dispose()
    return {str(row.id): row.model_version for row in rows}


def test_reload_serves_the_moved_champion(local: TestClient, tracking_uri: str, model_name: str) -> None:
    assert local.get("/model").json()["version"] == "1"
    register_version(tracking_uri, model_name)
    answer = reload_outcome(local)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "status": "reloaded",
        "previous_version": "1",
        "version": "2",
        "model_uri": f"models:/{model_name}@champion",
    }
    served = local.get("/model").json()
    assert (served["version"], served["alias"]) == ("2", "champion")
    prediction = local.post("/predict", json=record())
    assert prediction.json()["model_version"] == "2"
    state = local.app.state.service  # type: ignore[attr-defined]
    if state.settings.serving_mode == "fast":
        # What fast mode derives from the model at start is derived for the new version too.
        assert isinstance(state.model, NumpyServedModel)


def test_reload_without_a_moved_alias_is_unchanged(local: TestClient) -> None:
    answer = reload_outcome(local)
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["previous_version"], answer.json()["version"]) == (
        "unchanged",
        "1",
        "1",
    )


def test_a_model_with_other_features_is_refused_and_the_old_one_serves(
    local: TestClient, tracking_uri: str, model_name: str
) -> None:
    register_other_features(tracking_uri, model_name)
    answer = reload_outcome(local)
    assert answer.status_code == 409
    assert "texture (%)" in answer.json()["detail"] and DOSE in answer.json()["detail"]
    assert local.get("/model").json()["version"] == "1"
    assert local.post("/predict", json=record()).json()["model_version"] == "1"


def test_an_unreadable_registry_is_503_and_the_old_one_serves(
    local: TestClient, tracking_uri: str, model_name: str
) -> None:
    MlflowClient(tracking_uri, registry_uri=tracking_uri).delete_registered_model_alias(model_name, "champion")
    answer = reload_outcome(local)
    assert answer.status_code == 503
    assert f"models:/{model_name}@champion" in answer.json()["detail"]
    assert local.post("/predict", json=record()).status_code == 200


def test_reload_needs_the_api_key_when_one_is_set(tracking_uri: str, tmp_path: Path, model_name: str) -> None:
    settings = settings_for(tracking_uri, tmp_path, model_name, api_key=KEY)
    # Any address: the key, not the address, decides once API_KEY is set.
    with TestClient(serving_app(settings)) as guarded:
        assert guarded.post("/admin/reload").status_code == 401
        assert reload_outcome(guarded, {"X-API-Key": KEY}).status_code == 200


def test_without_api_key_only_a_local_client_may_reload(tracking_uri: str, tmp_path: Path, model_name: str) -> None:
    app = serving_app(settings_for(tracking_uri, tmp_path, model_name))
    with TestClient(app, client=("192.0.2.10", 50000)) as remote:
        answer = remote.post("/admin/reload")
        assert answer.status_code == 403
        assert "API_KEY" in answer.json()["detail"]


def test_the_poll_picks_up_a_moved_alias(tracking_uri: str, tmp_path: Path, model_name: str) -> None:
    settings = settings_for(tracking_uri, tmp_path, model_name, model_poll_seconds=0.2)
    with TestClient(serving_app(settings), client=LOCAL) as polled:
        register_version(tracking_uri, model_name)
        deadline = time.monotonic() + 30
        while polled.get("/model").json()["version"] != "2" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert polled.get("/model").json()["version"] == "2"


def test_traffic_through_a_reload_loses_nothing(local: TestClient, tracking_uri: str, model_name: str) -> None:
    register_version(tracking_uri, model_name)
    reloaded = threading.Event()
    sent: list[list[tuple[int, str, str]]] = [[] for _ in range(6)]

    def client_loop(mine: list[tuple[int, str, str]]) -> None:
        # Until a few requests after the swap: each client crosses it. Bounded in count whatever happens.
        after = 0
        for i in range(400):
            answer = local.post("/predict", json=record(**{"mean radius": 10.0 + i / 100}))
            body = answer.json()
            mine.append((answer.status_code, body.get("prediction_id", ""), body.get("model_version", "")))
            after += reloaded.is_set()
            if after >= 5:
                return

    threads = [threading.Thread(target=client_loop, args=(mine,)) for mine in sent]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    assert reload_outcome(local).json()["status"] == "reloaded"
    reloaded.set()
    for thread in threads:
        thread.join(timeout=60)
    answers = [answer for mine in sent for answer in mine]
    assert {status for status, _, _ in answers} == {200}
    logged = logged_versions(local.app.state.settings.database_url)  # type: ignore[attr-defined]
    # Exactly the rows answered, each under the version that answered it.
    assert logged == {prediction_id: version for _, prediction_id, version in answers}
    for mine in sent:
        versions = [version for _, _, version in mine]
        # Old, then new, never back: a request started on the old model finishes on it.
        assert versions == sorted(versions) and versions[-1] == "2"
    assert "1" in {version for _, _, version in answers}


def run_in_thread(app: FastAPI, port: int, root_path: str = "") -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, root_path=root_path))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, thread


def test_request_reload_reports_refusals_and_absence(tracking_uri: str, tmp_path: Path, model_name: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(ServiceUnreachable):
        request_reload(base, None, timeout=5)
    server, thread = run_in_thread(serving_app(settings_for(tracking_uri, tmp_path, model_name, api_key=KEY)), port)
    try:
        wait_until_ready(f"{base}/ready")
        assert request_reload(base, KEY)["status"] == "unchanged"
        register_version(tracking_uri, model_name)
        assert request_reload(base, KEY) == {
            "status": "reloaded",
            "previous_version": "1",
            "version": "2",
            "model_uri": f"models:/{model_name}@champion",
        }
        register_other_features(tracking_uri, model_name)
        with pytest.raises(ReloadRefused, match=r"cannot take version \d+'s requests: it lacks"):
            request_reload(base, KEY)
        with pytest.raises(httpx2.HTTPStatusError):
            request_reload(base, "wrong-key")
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_a_reload_recorded_while_this_worker_loads_is_followed(
    tracking_uri: str, tmp_path: Path, model_name: str
) -> None:
    """The race of a slow start: worker B still loads version 1 when worker A swaps to 2 and records it.

    B must follow that record once it is up, or the workers disagree until the next restart.
    """
    settings = settings_for(tracking_uri, tmp_path, model_name)

    def load_slowly_while_another_worker_reloads(load_settings: Settings) -> ServedModel:
        served = load_served_model(load_settings)
        # What worker A does meanwhile: moves the champion, swaps, and records the reload in the shared database.
        version = register_version(tracking_uri, model_name)
        engine = create_engine(settings.database_url)
        record_reload(engine, model_name, version, "worker A")
        engine.dispose()
        return served

    app = create_app(settings, model_loader=load_slowly_while_another_worker_reloads)
    with TestClient(app, client=LOCAL) as worker_b:
        assert worker_b.get("/model").json()["version"] == "1"
        deadline = time.monotonic() + 30
        while worker_b.get("/model").json()["version"] != "2" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker_b.get("/model").json()["version"] == "2"


@pytest.mark.slow
@pytest.mark.posix
def test_every_worker_swaps_after_one_reload(tracking_uri: str, tmp_path: Path, model_name: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database = tmp_path / "workers.db"
    env = service_env(tracking_uri, database) | {
        "MODEL_NAME": model_name,
        "MODEL_URI": f"models:/{model_name}@champion",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "service.log"
    command = [sys.executable, "-m", PACKAGE, "serve", "--port", str(port), "--workers", "2"]
    with log.open("w") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(f"{base}/ready", server, log=log)
        register_version(tracking_uri, model_name)
        # Generous: in fast mode the worker loads the new version in a child process, slow on a busy machine.
        assert request_reload(base, None, timeout=300)["version"] == "2"
        # Fresh connections, so that the kernel hands them to both workers; the last 40 answers must all be new.
        # The other worker loads the version too (in a child process in fast mode): minutes on a busy machine.
        deadline, streak = time.monotonic() + 240, 0
        while streak < 40 and time.monotonic() < deadline:
            streak = streak + 1 if httpx2.get(f"{base}/model", timeout=10).json()["version"] == "2" else 0
            time.sleep(0.05 if streak else 0.5)
        assert streak == 40
        # Each worker logs its own swap: the one that received the request, and the one that followed it.
        deadline = time.monotonic() + 30
        while len(re.findall(r'"model swapped"', log.read_text())) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(re.findall(r'"model swapped"', log.read_text())) == 2
    finally:
        stop_server(server)
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        reloads = connection.execute(select(ModelReload.version, ModelReload.requested_by)).all()
    engine.dispose()
    assert [(row.version, row.requested_by) for row in reloads] == [("2", "127.0.0.1")]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` on 127.0.0.1, with its own store: the registry a team's service asks over HTTP."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    store, artifacts = f"sqlite:///{folder / 'mlflow.db'}", str(folder / "artifacts")
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--backend-store-uri", store, "--artifacts-destination", artifacts, "--workers", "1"]
    url = f"http://127.0.0.1:{port}"
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_ready(f"{url}/health", process, timeout=120, log=folder / "server.log")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.slow
def test_with_an_mlflow_server_a_reload_loads_only_a_moved_alias(
    mlflow_server: str, tracking_uri: str, tmp_path: Path
) -> None:
    # The poll looks often and almost always finds the alias where it was: one REST call says so, and nothing is
    # loaded (in fast mode a load is a fresh Python importing MLflow, docs/performance.md "Model reloads").
    # tracking_uri: the session's store is set up first, so that it is the one restored at the end.
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    name = f"served_{uuid.uuid4().hex[:8]}"
    loads: list[str] = []

    def counting_loader(settings: Settings) -> ServedModel:
        loads.append(settings.model_uri)
        return load_served_model(settings)

    try:
        mlflow.set_tracking_uri(mlflow_server)
        mlflow.set_experiment("reload-tests")  # the session's active experiment lives in the other store
        register_version(mlflow_server, name)
        settings = settings_for(mlflow_server, tmp_path, name)
        with TestClient(create_app(settings, model_loader=counting_loader), client=LOCAL) as served:
            assert len(loads) == 1  # at start
            assert registry_version(mlflow_server, settings.model_uri) == "1"
            assert reload_outcome(served).json()["status"] == "unchanged"
            assert len(loads) == 1
            register_version(mlflow_server, name)
            assert registry_version(mlflow_server, settings.model_uri) == "2"
            assert reload_outcome(served).json() == {
                "status": "reloaded",
                "previous_version": "1",
                "version": "2",
                "model_uri": settings.model_uri,
            }
            assert len(loads) == 2
            assert served.post("/predict", json=record()).json()["model_version"] == "2"
        # An alias the server does not know: no shortcut, so the load says what is wrong.
        assert registry_version(mlflow_server, f"models:/{name}@nobody") is None
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
        mlflow.set_experiment(EXPERIMENT)  # the session's, as conftest's tracking_uri left it
