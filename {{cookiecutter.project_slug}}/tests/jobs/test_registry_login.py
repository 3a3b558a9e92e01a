"""A real `mlflow server --app-name basic-auth`: the jobs and the service log in, fail in one sentence without a
login, and survive the server going away and coming back, leaving no alias move half-made (docs/team-stack.md,
"Registry login", "Outages" and "When the registry goes away")."""

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from mlflow.server import get_app_client

from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.jobs.context import Paths
from {{ cookiecutter.package_name }}.jobs.history import champion_history
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.registry_users import create_user
from {{ cookiecutter.package_name }}.jobs.rollback import rollback
from {{ cookiecutter.package_name }}.jobs.train import train
from {{ cookiecutter.package_name }}.params import Params
from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.service.served_model import load_served_model
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.user_errors import reported

from conftest import free_port, registry_with_champion, split_byod_project

pytestmark = pytest.mark.slow
ADMIN_PASSWORD = "admin-password-for-this-test-only"
LOGIN = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


class AuthServer:
    """`mlflow server --app-name basic-auth` on one port and one SQLite file, stopped and started again at will."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        database = f"sqlite:///{folder / 'mlflow.db'}"
        # The users live beside MLflow's own tables, as in deploy/docker-compose.yml.
        (folder / "basic_auth.ini").write_text(
            "[mlflow]\ndefault_permission = READ\n"
            f"database_uri = {database}\nadmin_username = admin\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            "auth_cache_ttl_seconds = 60\n"
        )
        self.command = [sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth"]
        self.command += ["--host", "127.0.0.1", "--port", str(self.port), "--backend-store-uri", database]
        self.command += ["--artifacts-destination", str(folder / "artifacts"), "--workers", "1"]
        self.env = {key: value for key, value in os.environ.items() if key not in LOGIN} | {
            "MLFLOW_AUTH_CONFIG_PATH": str(folder / "basic_auth.ini"),
            "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-secret-key",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }

    def start(self) -> None:
        log = (self.folder / "server.log").open("ab")
        # A session of its own: `mlflow server` runs uvicorn as a child, and stopping means stopping both.
        self.process = subprocess.Popen(
            self.command, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        deadline = time.monotonic() + 180
        while not self.answers():
            assert self.process.poll() is None, (self.folder / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow server did not answer within 180 s"
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        while self.answers():  # uvicorn's worker may outlive its parent for a moment
            time.sleep(0.2)

    def answers(self) -> bool:
        try:
            return httpx2.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx2.HTTPError:
            return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    running = AuthServer(tmp_path_factory.mktemp("mlflow-auth"))
    running.start()
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        yield running
    finally:
        running.stop()
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


def login(monkeypatch: pytest.MonkeyPatch, user: str | None, password: str | None) -> None:
    for variable, value in zip(LOGIN, (user, password), strict=True):
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)


def one_line_error(capsys: pytest.CaptureFixture[str], step: str, run: object) -> str:
    """Run `run()` as a command runs (user_errors.reported): exit 1 and one line on stderr, which is returned."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped, reported(step):
        run()  # type: ignore[operator]
    err = capsys.readouterr().err
    assert stopped.value.code == 1
    # MLflow's own download progress bars may come before it (a rollback loads both versions to compare them).
    said = [line for line in err.splitlines() if line.startswith(f"[{step}]")]
    assert "Traceback" not in err and len(said) == 1, err
    return said[0]


def split_project(server: AuthServer, tmp_path: Path, name: str) -> tuple[Settings, Paths, Params, Params]:
    """Settings for a model `name` on the server, and a project in tmp_path ingested and split: a weak and a strong
    set of params to train two versions from."""
    settings = Settings(
        mlflow_tracking_uri=server.url,
        mlflow_experiment=name,
        model_name=name,
        model_uri=f"models:/{name}@champion",
    )
    project = Paths(tmp_path)
    weak, strong = split_byod_project(project)
    return settings, project, weak, strong


def champion_and_candidate(
    server: AuthServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> tuple[Settings, Paths, Params]:
    """As the admin: version 1 is @champion, version 2 (stronger) is trained and evaluated, awaiting `promote`."""
    settings, project, weak, strong = split_project(server, tmp_path, name)
    login(monkeypatch, "admin", ADMIN_PASSWORD)
    registry_with_champion(settings, project, weak, strong)
    return settings, project, strong


def test_the_registry_needs_a_login_and_the_lifecycle_works_with_one(
    server: AuthServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert httpx2.get(f"{server.url}/api/2.0/mlflow/experiments/search?max_results=1", timeout=10).status_code == 401
    settings, project, weak, strong = split_project(server, tmp_path, "login_test")

    # Without a login: one sentence naming the variables, for a job that writes and one that reads.
    login(monkeypatch, None, None)
    without = (("train", lambda: train(weak, settings, project)), ("history", lambda: champion_history(settings)))
    for step, run in without:
        assert all(variable in one_line_error(capsys, step, run) for variable in LOGIN)

    # The admin makes the users; an editor runs the pipeline, promotes and rolls back.
    login(monkeypatch, "admin", ADMIN_PASSWORD)
    editor = create_user(settings, "pipeline", "editor")
    reader = create_user(settings, "service", "read-only")
    login(monkeypatch, editor.username, editor.password)
    registry_with_champion(settings, project, weak, strong, promote_strong=True)
    assert str(tracking.version_by_alias(settings.model_name, tracking.CHAMPION).version) == "2"  # type: ignore[union-attr]
    assert rollback(settings, why="login test").to_version == "1"
    assert len(champion_history(settings)) == 3

    # The read-only user serves the champion, and may not move it.
    login(monkeypatch, reader.username, reader.password)
    service_settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'predictions.db'}"})
    with TestClient(create_app(service_settings, model_loader=load_served_model)) as client:
        assert client.get("/model").json().get("version") == "1", client.get("/ready").text
    refused = one_line_error(capsys, "rollback", lambda: rollback(settings, to="2", why="not allowed"))
    assert "EDIT" in refused and "--editor" in refused

    # A wrong password is named as such.
    login(monkeypatch, editor.username, "not-the-password")
    assert "MLFLOW_TRACKING_PASSWORD" in one_line_error(capsys, "history", lambda: champion_history(settings))


def test_a_registry_that_goes_away_stops_each_command_in_a_sentence_and_the_service_serves_on(
    server: AuthServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Version 2 is what the promote below is about.
    settings, project, strong = champion_and_candidate(server, tmp_path, monkeypatch, "outage_test")
    moves_before = len(champion_history(settings))

    service_settings = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'predictions.db'}", "model_poll_seconds": 0.3}
    )
    with TestClient(create_app(service_settings, model_loader=load_served_model)) as client:
        served = client.get("/model").json()["version"]
        caplog.set_level(logging.INFO, logger="service")
        server.stop()
        try:
            for step, run in (
                ("promote", lambda: promote(strong, settings, project)),
                ("rollback", lambda: rollback(settings, why="outage test")),
                ("history", lambda: champion_history(settings)),
            ):
                assert "does not answer" in one_line_error(capsys, step, run)
            # Several polls fail meanwhile; the service keeps answering with the model it has.
            time.sleep(2)
            assert client.get("/model").json()["version"] == served
            assert client.get("/health").status_code == 200
        finally:
            server.start()
        deadline = time.monotonic() + 60
        while "registry poll works again" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.3)
        failures = [r for r in caplog.records if r.getMessage() == "registry poll failed"]
        assert len(failures) == 1, [r.getMessage() for r in caplog.records]
        assert "registry poll works again" in caplog.text

    # Back: the failed commands left no move behind, and the same commands work now.
    assert len(champion_history(settings)) == moves_before
    assert promote(strong, settings, project).candidate == "2"
    assert str(tracking.version_by_alias(settings.model_name, tracking.CHAMPION).version) == "2"  # type: ignore[union-attr]
    assert (rollback(settings, why="after the outage").to_version, len(champion_history(settings))) == ("1", 3)


def moves_of(settings: Settings) -> list[tuple[str | None, str]]:
    return [(move.from_version, move.to_version) for move in champion_history(settings)]


def test_a_move_the_registry_stopped_half_way_is_recorded_when_the_same_command_runs_again(
    server: AuthServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """set_alias's steps one by one, the server stopped after the alias moved and before the move is recorded."""
    settings, project, strong = champion_and_candidate(server, tmp_path, monkeypatch, "half_done_test")
    name = settings.model_name
    move = tracking.begin_move(name, tracking.CHAMPION, "2", "a promotion the registry stopped", {})
    MlflowClient().set_registered_model_alias(name, tracking.CHAMPION, "2")
    server.stop()
    try:
        assert "does not answer" in one_line_error(capsys, "promote", lambda: tracking.finish_move(name, move))
    finally:
        server.start()

    # Back. A read-only login reads the history and is told a move waits for an editor, without an error.
    viewer = create_user(settings, "viewer", "read-only")
    login(monkeypatch, viewer.username, viewer.password)
    capsys.readouterr()
    assert moves_of(settings) == [(None, "1")]
    assert "not settled: this login may only read the registry" in capsys.readouterr().err
    login(monkeypatch, "admin", ADMIN_PASSWORD)

    # The same command finds version 2 already @champion and records the move it had made.
    assert promote(strong, settings, project).reason == "already champion"
    assert "recorded the move of @champion to version 2" in capsys.readouterr().out
    assert moves_of(settings) == [("1", "2"), (None, "1")]
    assert champion_history(settings)[0] == move
    assert not [key for key in MlflowClient().get_registered_model(name).tags if key.endswith(".pending")]


def test_promote_records_the_gates_decision_before_the_registry_may_refuse_the_alias_move(
    server: AuthServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A user who may write on the experiment's runs and only read the registered model: the server refuses the alias
    move in the middle of `promote`, the step a registry that goes away would stop it at. The gate's decision is
    on the candidate's run by then; no alias moved and nothing is pending; the same command works once allowed."""
    settings, project, strong = champion_and_candidate(server, tmp_path, monkeypatch, "gate_first_test")
    experiment_id = tracking.connect(settings)
    gate_only = create_user(settings, "gate-only", "read-only")
    auth = get_app_client("basic-auth", tracking_uri=settings.mlflow_tracking_uri)
    auth.grant_user_permission(gate_only.username, "experiment", experiment_id, "EDIT")
    login(monkeypatch, gate_only.username, gate_only.password)
    assert "EDIT" in one_line_error(capsys, "promote", lambda: promote(strong, settings, project))

    login(monkeypatch, "admin", ADMIN_PASSWORD)
    assert tracking.run_tags(settings.model_name, "2")["gate.decision"] == tracking.CHAMPION
    assert str(tracking.version_by_alias(settings.model_name, tracking.CHAMPION).version) == "1"  # type: ignore[union-attr]
    assert moves_of(settings) == [(None, "1")]
    assert not [key for key in MlflowClient().get_registered_model(settings.model_name).tags if ".pending" in key]
    assert promote(strong, settings, project).alias == tracking.CHAMPION
    assert moves_of(settings) == [("1", "2"), (None, "1")]
