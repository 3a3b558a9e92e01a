"""Shared fixtures (tiny bring-your-own-data frames, an MLflow store in a temporary folder, a registry with a
champion and a stronger candidate) and the Windows skip."""

import contextlib
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import httpx2
import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.jobs.context import Paths
from {{ cookiecutter.package_name }}.params import Params
from {{ cookiecutter.package_name }}.settings import Settings

# Column names with spaces and punctuation, on purpose: they must survive every step unchanged.
NUMBER, COUNT, CITY, CODE = "Age (years)", "visits/month", "home city", "zip-code"


def byod_frame(task: str, rows: int = 120, seed: int = 0) -> pd.DataFrame:
    """Every trait of real CSVs: numbers and text, missing values in features, rows without a target, odd names."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, rows).round(1)
    visits = rng.integers(0, 10, rows).astype(float)
    city = rng.choice(["Lyon", "Paris", "Nantes"], rows).astype(object)
    code = rng.choice(["01000", "75001", "44000"], rows).astype(object)  # text that looks like numbers
    signal = (age - 40) / 12 + (city == "Paris") - (visits - 5) / 5 + rng.normal(0, 0.3, rows)
    age[rng.random(rows) < 0.1] = np.nan
    city[rng.random(rows) < 0.1] = None
    target: np.ndarray = (
        np.where(signal > 0, "churned", "stayed").astype(object) if task == "classification" else signal * 10
    )
    frame = pd.DataFrame({NUMBER: age, COUNT: visits, CITY: city, CODE: code, "Target?": target})
    frame.loc[[3, 17], "Target?"] = None  # two rows without a target: dropped by ingest
    return frame


def make_params(task: str, train: Mapping[str, Any] | None = None, source: str = "data/external/byod.csv") -> Params:
    """Params for the test CSV; `train` replaces the default model section keys."""
    defaults = (
        {"model": "logistic_regression", "hyperparameters": {"max_iter": 500}}
        if task == "classification"
        else {"model": "ridge", "hyperparameters": {"alpha": 1.0}}
    )
    return Params.model_validate(
        {
            "task": task,
            "data": {"source": source, "target": "Target?"},
            "split": {"test_size": 0.25, "seed": 7},
            "train": {**defaults, "seed": 7, **(train or {})},
            "promote": {"metric": "roc_auc" if task == "classification" else "rmse", "margin": 0.0},
            "monitor": {"drift_share": 0.5, "metric_drop": 0.05, "sample_size": 1000, "seed": 7},
        }
    )


# A model that can barely learn: the version it trains loses to the default params' model on the test CSV.
WEAK: dict[str, Any] = {"model": "random_forest", "hyperparameters": {"n_estimators": 1, "max_depth": 1}}


def split_byod_project(project: Paths) -> tuple[Params, Params]:
    """The classification test CSV written into `project`, ingested and split; the weak params (WEAK) and the
    default, stronger ones, which both train on that split."""
    # The jobs are imported inside these two functions, not at the top: they bring MLflow and scikit-learn, seconds
    # that every test run would pay, the fast ones included.
    from {{ cookiecutter.package_name }}.jobs.ingest import ingest
    from {{ cookiecutter.package_name }}.jobs.split import split

    (project / "data/external").mkdir(parents=True)
    byod_frame("classification").to_csv(project / "data/external/byod.csv", index=False)
    weak, strong = make_params("classification", WEAK), make_params("classification")
    ingest(weak, project)
    split(weak, project)
    return weak, strong


def registry_with_champion(
    settings: Settings, project: Paths, weak: Params, strong: Params, promote_strong: bool = False
) -> None:
    """On a project split by split_byod_project: version 1 (weak) trained, evaluated and promoted to @champion;
    version 2 (strong) trained and evaluated, and promoted too (it beats version 1) if `promote_strong`, else left
    for `promote` to judge. Evaluated, because the gate and a rollback compare the versions' test metrics."""
    from {{ cookiecutter.package_name }}.jobs.evaluate import evaluate
    from {{ cookiecutter.package_name }}.jobs.promote import promote
    from {{ cookiecutter.package_name }}.jobs.train import train

    for params in (weak, strong):
        train(params, settings, project)
        evaluate(params, settings, project)
        if params is weak or promote_strong:
            promote(params, settings, project)


# A team bake refuses feedback sent without a key (ALLOW_ANONYMOUS_FEEDBACK); the tests that are not about who may
# send feedback send it without one on every bake, the services they start included. tests/service/test_api_keys.py
# checks each bake's own default with this variable removed.
ANONYMOUS_FEEDBACK = "ALLOW_ANONYMOUS_FEEDBACK"


@pytest.fixture(scope="session", autouse=True)
def anonymous_feedback_allowed() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ANONYMOUS_FEEDBACK, "true")
        yield


@pytest.fixture(scope="session")
def mlflow_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tracking database for the session: creating its tables takes seconds, so tests share it."""
    return tmp_path_factory.mktemp("mlflow")


@pytest.fixture
def settings(mlflow_dir: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings pointing at the temporary store, with a model name of its own per test."""
    name = "".join(ch if ch.isalnum() else "_" for ch in request.node.name)
    return Settings(
        mlflow_tracking_uri=f"sqlite:///{mlflow_dir / 'mlflow.db'}",
        mlflow_artifact_root=mlflow_dir / "mlartifacts",
        mlflow_experiment=name,
        model_name=name,
    )


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now: the OS picks it, and the socket is closed again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 300, log: Path | None = None
) -> None:
    """Poll `url` (a service's /ready, an MLflow server's /health) until it answers 200; fail at once if `process`
    has exited, else after `timeout` seconds (generous: two workers loading a model take minutes on a busy machine),
    with the end of its `log`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process behind {url} exited with {process.returncode}" + _tail(log))
        try:
            if httpx2.get(url, timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer 200 within {timeout:.0f} s" + _tail(log))


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a service started as a process: SIGINT, uvicorn's graceful shutdown, then SIGKILL after 30 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _tail(log: Path | None) -> str:
    return f":\n{log.read_text(errors='replace')[-3000:]}" if log is not None and log.is_file() else ""


@contextlib.contextmanager
def serving_in_thread(
    app: Any, port: int | None = None, lifespan: Literal["auto", "on", "off"] = "auto"
) -> Iterator[str]:
    """The app on a real socket on 127.0.0.1, in a thread of this process; its base URL, stopped on exit."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, lifespan=lifespan, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the service did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the `posix` tests on Windows, saying why, rather than failing there on what Windows does not have."""
    if sys.platform != "win32":
        return
    reason = "needs POSIX (signals, SIGKILL or headless Chromium), which Windows lacks; CI runs it on Linux"
    for item in items:
        if item.get_closest_marker("posix"):
            item.add_marker(pytest.mark.skip(reason=reason))


def reload_outcome(client: TestClient, headers: dict[str, str] | None = None) -> httpx2.Response:
    """POST /admin/reload and, while it answers 202 (still loading after half a second), GET the `location` it names:
    the answer that carries the outcome, as `request_reload` follows it."""
    answer = client.post("/admin/reload", headers=headers)
    deadline = time.monotonic() + 300
    while answer.status_code == 202 and time.monotonic() < deadline:
        answer = client.get(answer.json()["location"], headers=headers)
    return answer
