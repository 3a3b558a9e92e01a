"""Plain and fast mode are one contract: the same requests get the same status codes, JSON and HTTP metrics."""

import gc
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package_name }}.service.fast.json_route import JsonBodyRoute
from {{ cookiecutter.package_name }}.service.fast.serving import GC_FIRST_GENERATION_THRESHOLD

from .conftest import DOSE, HUGE, fragile_settings, serving_app

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def serving_mode() -> str:
    """This module starts both modes itself (it overrides the folder's switch, which would run it twice)."""
    return "both"


def good(**changes: Any) -> dict[str, Any]:
    return {"mean radius": 14.0, DOSE: 0.001, "colour": "red"} | changes


# (method, path, keyword arguments of the request): valid, invalid and unscorable requests alike.
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/predict", {"json": good()}),
    ("POST", "/predict", {"json": good(colour=None, **{"mean radius": None})}),
    ("POST", "/predict", {"json": good(colour="never seen")}),
    ("POST", "/predict/batch", {"json": [good(), good(**{DOSE: 0.0012})]}),
    ("POST", "/predict", {"json": {"mean radius": 14.0}}),
    ("POST", "/predict", {"json": good(colour=3)}),
    ("POST", "/predict", {"json": good(shoe_size=44)}),
    ("POST", "/predict", {"json": [good()]}),
    ("POST", "/predict", {"content": b'{"mean radius": 1.0,', "headers": JSON}),
    ("POST", "/predict", {"content": b"mean radius=1", "headers": {"Content-Type": "text/plain"}}),
    ("POST", "/predict", {"content": b"NaN", "headers": JSON}),
    ("POST", "/predict", {"json": good(**{DOSE: HUGE})}),
    ("POST", "/predict/batch", {"json": []}),
    ("POST", "/predict/batch", {"json": [good(), good(**{DOSE: HUGE}), good(**{DOSE: -HUGE})]}),
    ("POST", "/predict/batch", {"json": [good()] * 51}),
    ("POST", "/predict/batch", {"json": good()}),
    ("GET", "/predict", {}),
    ("GET", "/model", {}),
    ("GET", "/ready", {}),
]


def answers(mode: str, fragile_uri: str, database: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Any]]:
    monkeypatch.setenv("SERVING_MODE", mode)
    settings = fragile_settings(fragile_uri, database)
    assert settings.serving_mode == mode
    results: list[tuple[int, Any]] = []
    with TestClient(serving_app(settings)) as client:
        for method, path, arguments in REQUESTS:
            response = client.request(method, path, **arguments)
            body = response.json()
            if isinstance(body, dict):
                # Ids and load times differ between two runs of the same service.
                body.pop("prediction_id", None)
                body.pop("loaded_at", None)
                for prediction in body.get("predictions", []):
                    prediction.pop("prediction_id", None)
            results.append((response.status_code, body))
    return results


def test_plain_and_fast_mode_answer_every_request_alike(
    fragile_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = answers("plain", fragile_uri, tmp_path / "plain.db", monkeypatch)
    fast = answers("fast", fragile_uri, tmp_path / "fast.db", monkeypatch)
    for (method, path, arguments), expected, actual in zip(REQUESTS, plain, fast, strict=True):
        assert actual == expected, f"{method} {path} {arguments}"
    assert [status for status, _ in plain].count(200) > 5


def test_fast_mode_routes_first_and_collects_less_while_it_serves(
    fragile_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVING_MODE", "fast")
    before = gc.get_threshold()
    app = serving_app(fragile_settings(fragile_uri, tmp_path / "fast.db"))
    with TestClient(app) as client:
        # The app's own routes, not an included router's: matched first, through no extra layer.
        first = [(type(route), getattr(route, "path", None)) for route in app.router.routes[:2]]
        assert first == [(JsonBodyRoute, "/predict"), (JsonBodyRoute, "/predict/batch")]
        assert gc.get_threshold()[0] == GC_FIRST_GENERATION_THRESHOLD
        assert client.post("/predict", json=good()).status_code == 200
    assert gc.get_threshold() == before


def http_series(text: str) -> dict[str, set[tuple[tuple[str, str], ...]]]:
    """Each http_* family's samples as sets of (label, value) pairs: names, labels and buckets, not the counts."""
    series: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith("http_"):
            for sample in family.samples:
                series.setdefault(sample.name, set()).add(tuple(sorted(sample.labels.items())))
    return series


def test_both_modes_emit_the_instrumentator_default_http_metrics(
    fragile_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scraped = {}
    for mode in ("plain", "fast"):
        monkeypatch.setenv("SERVING_MODE", mode)
        with TestClient(serving_app(fragile_settings(fragile_uri, tmp_path / f"{mode}.db"))) as client:
            client.post("/predict", json=good())
            client.post("/predict", json={})
            client.get("/nowhere")
            client.get("/health")
            scraped[mode] = http_series(client.get("/metrics").text)
    assert scraped["fast"] == scraped["plain"]
    assert (("handler", "/predict"), ("method", "POST"), ("status", "2xx")) in scraped["plain"]["http_requests_total"]
    assert (("handler", "none"), ("method", "GET"), ("status", "4xx")) in scraped["plain"]["http_requests_total"]
    assert {"http_request_size_bytes_sum", "http_response_size_bytes_sum"} <= set(scraped["plain"])
    handlers = {dict(labels).get("handler") for labels in scraped["plain"]["http_request_duration_seconds_bucket"]}
    assert handlers == {"/predict", "none"}, "probes and scrapes stay out of the HTTP metrics"
