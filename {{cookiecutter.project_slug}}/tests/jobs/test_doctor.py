"""`doctor` on real folders: a fresh project, a trained and served one, and broken ones (a taken port, a bad log)."""

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.core.monitoring import HistoryEntry
from {{ cookiecutter.package_name }}.io.monitoring_history import append_history
from {{ cookiecutter.package_name }}.io.ports import port_holder
from {{ cookiecutter.package_name }}.jobs.context import Paths
from {{ cookiecutter.package_name }}.jobs.doctor import (
    probe_champion,
    probe_monitoring,
    probe_pipeline,
    probe_port,
    probe_prediction_log,
    probe_service,
)
from {{ cookiecutter.package_name }}.jobs.evaluate import evaluate
from {{ cookiecutter.package_name }}.jobs.ingest import ingest
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.split import split
from {{ cookiecutter.package_name }}.jobs.train import train
from {{ cookiecutter.package_name }}.jobs.validate import validate
from {{ cookiecutter.package_name }}.params import load_params
from {{ cookiecutter.package_name }}.settings import Settings, get_settings

from conftest import CITY, CODE, COUNT, NUMBER, byod_frame, free_port, make_params

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE = "{{ cookiecutter.package_name }}"
# What a project in which no step was taken yet must say: a place to start, nothing broken.
STEPS = ("installed", "pipeline", "champion", "service", "predictions", "feedback", "monitoring")


def dvc(root: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, check=True, capture_output=True, timeout=120)


@pytest.fixture
def fresh_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A DVC project with this project's pipeline and nothing run, as the working directory, on free ports."""
    shutil.copy(PROJECT / "dvc.yaml", tmp_path)
    shutil.copy(PROJECT / "params.yaml", tmp_path)
    dvc(tmp_path, "init", "--no-scm")
    monkeypatch.chdir(tmp_path)
    for variable in ("DVC_ROOT", "MLFLOW_TRACKING_URI", "DATABASE_URL", "MODEL_URI", "MODEL_NAME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("API_PORT", str(free_port()))
    monkeypatch.setenv("MLFLOW_PORT", str(free_port()))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run_doctor(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["doctor", *args])
    return result.exit_code, result.output


@pytest.mark.slow
def test_a_fresh_project_is_a_list_of_steps_to_take_and_exits_0(fresh_project: Path) -> None:
    code, output = run_doctor("--json")
    report = json.loads(output)
    assert code == 0
    assert report["broken"] == 0
    statuses = {check["check"]: check["status"] for check in report["checks"]}
    assert len(statuses) == len(report["checks"]), "a check is reported twice"
    assert [statuses[step] for step in STEPS] == ["todo"] * len(STEPS)
    assert {"python", "git-identity", "disk", "port:API_PORT", "port:MLFLOW_PORT"} <= set(statuses)
    for check in report["checks"]:
        assert set(check) == {"check", "status", "detail", "next"}
        assert (check["next"] is None) == (check["status"] == "ok")
    # The service is down while API_PORT names a port: doctor says to start it on that very port.
    service = next(check for check in report["checks"] if check["check"] == "service")
    assert service["next"] == f"make serve API_PORT={os.environ['API_PORT']}"
    code, text = run_doctor()
    assert code == 0
    assert "· pipeline: never run (no dvc.lock) -> next: make pipeline" in text.splitlines()


@pytest.mark.slow
def test_a_prediction_log_that_cannot_be_opened_is_broken_and_fails_doctor(fresh_project: Path) -> None:
    (fresh_project / "predictions.db").write_bytes(b"not a database, just bytes " * 100)
    code, output = run_doctor("--json")
    report = json.loads(output)
    broken = [check for check in report["checks"] if check["status"] == "broken"]
    assert code == 1
    assert report["broken"] == 1
    assert [check["check"] for check in broken] == ["predictions"]
    assert "file is not a database" in broken[0]["detail"]


@pytest.mark.slow
def test_settings_that_refuse_the_env_file_break_the_checks_that_need_them(fresh_project: Path) -> None:
    # A learner's classic: a port written into .env, which the settings refuse (ports are make's, not the app's).
    (fresh_project / ".env").write_text("API_PORT=8010\n")
    code, output = run_doctor("--json")
    checks = {check["check"]: check for check in json.loads(output)["checks"]}
    assert code == 1
    assert [name for name, check in checks.items() if check["status"] == "broken"] == [
        "champion",
        "predictions",
        "monitoring",
    ]
    assert "api_port: Extra inputs are not permitted" in checks["champion"]["detail"]
    assert checks["champion"]["next"] == "fix .env (see .env.example)"
    assert checks["feedback"]["status"] == "todo"


def test_a_port_held_by_another_program_is_broken_and_names_its_pid(tmp_path: Path) -> None:
    port = free_port()
    ready = tmp_path / "listening"
    listener = (
        "import socket, sys, time, pathlib\n"
        "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
        "pathlib.Path(sys.argv[2]).touch(); time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", listener, str(port), str(ready)])
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        check = probe_port("API_PORT", port, "make serve API_PORT=")
        assert check.status == "broken"
        assert check.next is not None and check.next.endswith(f"use another port: make serve API_PORT={port + 10}")
        if sys.platform == "linux":  # macOS tells who listens only to root
            assert f"pid {holder.pid}" in check.detail
            assert f"kill {holder.pid}" in check.next
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert port_holder("API_PORT", port) is None


@pytest.mark.slow
def test_the_pipeline_is_ok_once_reproduced_and_names_the_stages_a_change_invalidates(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("scale: 2\n")
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  double:\n    cmd: python -c \"open('out.txt', 'w').write('2')\"\n"
        "    params: [scale]\n    outs: [out.txt]\n"
    )
    dvc(tmp_path, "init", "--no-scm")
    assert probe_pipeline(tmp_path).detail == "never run (no dvc.lock)"
    dvc(tmp_path, "repro")
    assert probe_pipeline(tmp_path).status == "ok"
    (tmp_path / "params.yaml").write_text("scale: 3\n")
    changed = probe_pipeline(tmp_path)
    assert (changed.status, changed.detail) == ("todo", "stages changed: double")


def test_the_latest_monitoring_run_is_reported(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, monitoring_dir=tmp_path)
    entry: dict[str, Any] = {
        "created_at": datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
        "model_version": "2",
        "window": "last 200",
        "drift_share": 0.8,
        "drift_detected": True,
        "quality_metric": "rmse",
        "quality_value": 1.5,
        "n_current": 200,
        "n_labeled": 60,
        "breaches": ["drift_share"],
        "out_of_range_share": 0.0,
        "run_dir": "reports/monitoring/x",
    }
    append_history(tmp_path, HistoryEntry(**entry | {"breaches": [], "drift_share": 0.1}))
    assert probe_monitoring(settings).status == "ok"
    append_history(tmp_path, HistoryEntry(**entry))
    latest = probe_monitoring(settings)
    assert (latest.status, latest.next) == ("todo", "make retrain")
    assert "breached drift_share" in latest.detail


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A project trained, evaluated and promoted by the pipeline's own jobs, on the test CSV."""
    root = tmp_path_factory.mktemp("doctor-project")
    (root / "data" / "external").mkdir(parents=True)
    task = load_params().task
    byod_frame(task).to_csv(root / "data/external/byod.csv", index=False)
    paths, params = Paths(root), make_params(task)
    settings = Settings(
        _env_file=None,
        mlflow_tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        mlflow_artifact_root=root / "mlartifacts",
        mlflow_experiment="doctor",
        model_name="doctor_model",
        model_uri="models:/doctor_model@champion",
        database_url=f"sqlite:///{root / 'predictions.db'}",
        monitoring_dir=root / "reports" / "monitoring",
    )
    ingest(params, paths)
    assert validate(params, paths) == []
    split(params, paths)
    train(params, settings, paths)
    evaluate(params, settings, paths)
    promote(params, settings, paths)
    return settings


@pytest.mark.slow
def test_a_trained_project_served_with_traffic_is_all_ok(trained: Settings) -> None:
    champion, version = probe_champion(trained)
    assert (champion.status, version) == ("ok", "1")
    port = free_port()
    env = os.environ | {
        "MLFLOW_TRACKING_URI": trained.mlflow_tracking_uri,
        "MODEL_NAME": trained.model_name,
        "MODEL_URI": trained.model_uri,
        "DATABASE_URL": trained.database_url,
        "ENVIRONMENT": "test",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", f"{PACKAGE}.service.app:create_app", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while probe_service(port)[2] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        answer = httpx2.post(f"{base}/predict", json={NUMBER: 41.0, COUNT: 3.0, CITY: "Paris", CODE: "75001"})
        assert answer.status_code == 200, answer.text
        label = answer.json()["prediction"]
        feedback = {"prediction_id": answer.json()["prediction_id"], "actual": label}
        assert httpx2.post(f"{base}/feedback", json=feedback).status_code == 201
        holder = port_holder("API_PORT", port)
        assert holder is not None and holder.ours
        _, body, http_status = probe_service(port)
        assert (http_status, body and body["model_version"]) == (200, "1")
        predictions, feedback_line = probe_prediction_log(trained)
        assert (predictions.status, predictions.detail) == ("ok", "1 logged")
        assert (feedback_line.status, feedback_line.detail) == ("ok", "on 1 of 1 predictions")
    finally:
        server.kill()
        server.wait(timeout=30)
    assert probe_service(port)[2] is None


@pytest.mark.slow
def test_a_champion_whose_model_files_are_gone_is_broken(trained: Settings, tmp_path: Path) -> None:
    moved = shutil.move(trained.mlflow_artifact_root, tmp_path / "elsewhere")
    try:
        champion, _ = probe_champion(trained)
    finally:
        shutil.move(moved, trained.mlflow_artifact_root)
    assert champion.status == "broken"
    assert "its files are missing" in champion.detail
    assert probe_champion(trained)[0].status == "ok"
