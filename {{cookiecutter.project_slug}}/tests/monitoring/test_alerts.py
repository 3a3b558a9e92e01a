"""A breach reaches a real webhook receiver on 127.0.0.1 in both formats; a failing or hanging one costs nothing."""

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.core.alerts import render_alert
from {{ cookiecutter.package_name }}.core.monitoring import Summary
from {{ cookiecutter.package_name }}.io.webhook import post_alert

from .conftest import Loop
from .test_history import loop_settings
from .test_thresholds import make_summary

# The part of a webhook URL that is its credential (as in Slack's /services/T.../B.../<token>).
SECRET = "tok3n-s3cr3t-d0-not-log"


@dataclass
class Receiver:
    """A webhook receiver in a thread: answers with `status`, or sleeps `delay` seconds first."""

    status: int = 200
    delay: float = 0.0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.bodies.append(json.loads(body))
            time.sleep(state.delay)
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/{SECRET}"
    yield state
    server.shutdown()
    server.server_close()


def test_json_alert_names_the_breach_figures_thresholds_version_and_reports(receiver: Receiver) -> None:
    summary = make_summary(drifted=True)
    links = {"report": "reports/monitoring/latest/report.html"}
    assert post_alert(SecretStr(receiver.url), render_alert(summary, links, "json"))
    [body] = receiver.bodies
    assert body["event"] == "monitoring_breach"
    assert body["model"] == {"name": "m", "version": "3", "task": "classification"}
    [breach] = body["breaches"]
    assert (breach["check"], breach["value"], breach["threshold"]) == ("data_drift", 0.8, 0.5)
    assert body["figures"]["drift_share"] == 0.8
    assert body["links"] == links


def test_slack_alert_has_the_incoming_webhook_shape(receiver: Receiver) -> None:
    summary = make_summary(drifted=True)
    assert post_alert(SecretStr(receiver.url), render_alert(summary, {"report": "r.html"}, "slack"))
    [body] = receiver.bodies
    assert set(body) == {"text", "blocks"}
    assert "m v3" in body["text"]
    assert [block["type"] for block in body["blocks"]] == ["header", "section", "context"]
    assert "80% of the features drifted" in body["blocks"][1]["text"]["text"]


def test_failing_receiver_is_retried_then_given_up_without_logging_the_secret(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.status = 503
    with caplog.at_level(logging.DEBUG):
        delivered = post_alert(SecretStr(receiver.url), {"text": "x"}, timeout=2.0, attempts=3, backoff=0.01)
    assert not delivered
    assert len(receiver.bodies) == 3
    assert "HTTP 503" in caplog.text
    assert SECRET not in caplog.text


def test_client_error_is_not_retried(receiver: Receiver) -> None:
    receiver.status = 404
    assert not post_alert(SecretStr(receiver.url), {"text": "x"}, attempts=3, backoff=0.01)
    assert len(receiver.bodies) == 1


def test_hanging_receiver_costs_at_most_the_timeouts(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.delay = 3.0
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG):
        assert not post_alert(SecretStr(receiver.url), {"text": "x"}, timeout=0.3, attempts=2, backoff=0.01)
    assert time.monotonic() - started < 2.0
    assert "TimeoutError" in caplog.text or "URLError" in caplog.text
    assert SECRET not in caplog.text


def test_unreachable_receiver_is_logged_without_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        assert not post_alert(SecretStr(f"http://127.0.0.1:9/{SECRET}"), {"text": "x"}, timeout=1.0, backoff=0.01)
    assert SECRET not in caplog.text


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["json", "slack"])
def test_monitor_posts_a_drift_breach_to_the_webhook(
    loop: Loop,
    receiver: Receiver,
    shape: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from {{ cookiecutter.package_name }}.jobs import monitor

    settings = loop_settings(
        loop, monitoring_dir=tmp_path / "monitoring", alert_webhook_url=receiver.url, alert_format=shape
    )
    with caplog.at_level(logging.DEBUG):
        summary = monitor.run(settings, loop.params, last=180)
    assert isinstance(summary, Summary)
    assert summary.drift_detected
    [body] = receiver.bodies
    if shape == "json":
        assert "data_drift" in [breach["check"] for breach in body["breaches"]]
        assert body["model"]["version"] == summary.model_version
        assert Path(body["links"]["report"]).is_file()
    else:
        assert f"v{summary.model_version}" in body["text"]
        assert "features drifted" in body["blocks"][1]["text"]["text"]
    assert SECRET not in caplog.text + capsys.readouterr().out


@pytest.mark.slow
def test_a_failed_alert_keeps_the_report_and_the_breach(
    loop: Loop, receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from {{ cookiecutter.package_name }}.jobs import monitor

    receiver.status = 500
    settings = loop_settings(loop, monitoring_dir=tmp_path / "m", alert_webhook_url=receiver.url)
    with caplog.at_level(logging.DEBUG):
        summary = monitor.run(settings, loop.params, last=180)
    assert summary is not None and summary.breached
    assert (tmp_path / "m" / "latest" / "report.html").is_file()
    assert (tmp_path / "m" / "history.jsonl").is_file()
    assert "alert given up" in caplog.text
    assert SECRET not in caplog.text
