"""The service as a real process: the metrics of two workers add up, no acknowledged row is lost to SIGKILL, and a
body is framed by its Content-Length."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import create_engine, select

from {{ cookiecutter.package_name }}.store.tables import Feedback, Prediction

from .conftest import MODEL_NAMES, TASK, record
from conftest import free_port, stop_server, wait_until_ready

PACKAGE = "{{ cookiecutter.package_name }}"


def service_env(tracking_uri: str, database: Path) -> dict[str, str]:
    return os.environ | {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MODEL_NAME": MODEL_NAMES[TASK],
        "MODEL_URI": f"models:/{MODEL_NAMES[TASK]}@champion",
        "DATABASE_URL": f"sqlite:///{database}",
        "ENVIRONMENT": "test",
    }


@pytest.mark.slow
@pytest.mark.posix
def test_metrics_of_two_workers_add_up(tracking_uri: str, tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", PACKAGE, "serve", "--port", str(port), "--workers", "2"]
    env = service_env(tracking_uri, tmp_path / "workers.db")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/ready", server)
        answered: list[int] = []

        def load() -> None:
            # Concurrent connections, so that both workers accept some (an idle one takes them all otherwise).
            with httpx2.Client(base_url=base, timeout=10) as http:
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline:
                    answered.append(http.post("/predict", json=record()).status_code)

        threads = [threading.Thread(target=load) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert set(answered) == {200}
        for _ in range(6):
            text = httpx2.get(f"{base}/metrics", timeout=10).text
            counts = re.findall(r'^model_predictions_total\{endpoint="single"[^}]*\} ([\d.]+)$', text, re.MULTILINE)
            assert sum(float(count) for count in counts) == len(answered)
    finally:
        stop_server(server)


@pytest.mark.slow
@pytest.mark.posix
def test_sigkill_under_load_loses_no_acknowledged_prediction_or_feedback(tracking_uri: str, tmp_path: Path) -> None:
    database, port = tmp_path / "killed.db", free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", f"{PACKAGE}.service.app:create_app", "--port", str(port)]
    server = subprocess.Popen(command, env=service_env(tracking_uri, database), stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/ready", server)
        predictions: list[str] = []
        feedback: list[str] = []
        stop = threading.Event()
        actual = 0 if TASK == "classification" else 1.5

        def load() -> None:
            with httpx2.Client(base_url=base, timeout=5) as http:
                while not stop.is_set():
                    try:
                        answer = http.post("/predict", json=record())
                        predictions.append(answer.json()["prediction_id"])
                        sent = http.post("/feedback", json={"prediction_id": predictions[-1], "actual": actual})
                        feedback.append(sent.json()["feedback_id"])
                    except (httpx2.TransportError, ValueError, KeyError):
                        return

        threads = [threading.Thread(target=load) for _ in range(8)]
        for thread in threads:
            thread.start()
        # Kill mid-load once enough has been acknowledged (a time cap keeps a very slow machine from hanging here).
        deadline = time.monotonic() + 30
        while (len(predictions) < 30 or len(feedback) < 20) and time.monotonic() < deadline:
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    assert len(predictions) >= 30 and len(feedback) >= 20
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        stored_predictions = {str(i) for i in connection.scalars(select(Prediction.id))}
        stored_feedback = {str(i) for i in connection.scalars(select(Feedback.id))}
    engine.dispose()
    assert set(predictions) <= stored_predictions
    assert set(feedback) <= stored_feedback
    assert all(uuid.UUID(p) for p in predictions)


@pytest.mark.slow
@pytest.mark.posix
def test_bytes_past_a_declared_content_length_are_the_next_request_not_more_body(
    tracking_uri: str, tmp_path: Path
) -> None:
    # BodySizeLimitMiddleware counts no bytes when the length is declared: it relies on the server (uvicorn) reading
    # exactly that many as the body. Two pipelined requests on one connection, both answered under a limit that the
    # two bodies together exceed.
    body = json.dumps(record()).encode()
    limit = len(body) * 3 // 2
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", f"{PACKAGE}.service.app:create_app", "--port", str(port)]
    env = service_env(tracking_uri, tmp_path / "framed.db") | {"MAX_BODY_BYTES": str(limit)}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/ready", server)

        def post(content: bytes, last: bool) -> bytes:
            close = "Connection: close\r\n" if last else ""
            head = f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{close}"
            return f"{head}Content-Length: {len(content)}\r\n\r\n".encode() + content

        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(post(body, last=False) + post(body, last=True))
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        # Each response is a status line, headers, then a JSON body with no line end: the next one follows it directly.
        assert re.findall(rb"HTTP/1.1 (\d{3}) ", answer) == [b"200", b"200"]
        over = httpx2.post(f"http://127.0.0.1:{port}/predict", content=b" " * (limit + 1), timeout=10)
        assert over.status_code == 413
    finally:
        stop_server(server)
