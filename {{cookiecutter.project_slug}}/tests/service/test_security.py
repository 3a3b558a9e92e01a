"""API key on every non-public endpoint, public probes and docs, CORS closed unless configured."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .conftest import make_settings, record, serving_app

KEY = "s3cr3t-key-for-tests"


@pytest.fixture
def guarded(tracking_uri: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tracking_uri, tmp_path / "g.db", api_key=KEY, cors_origins=["https://app.example"])
    with TestClient(serving_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/predict"),
        ("POST", "/predict/batch"),
        ("POST", "/feedback"),
        ("GET", "/predictions/00000000-0000-0000-0000-000000000000"),
        ("GET", "/model"),
        ("GET", "/metrics"),
    ],
)
def test_non_public_endpoints_need_the_key(guarded: TestClient, method: str, path: str) -> None:
    assert guarded.request(method, path).status_code == 401
    assert guarded.request(method, path, headers={"X-API-Key": "wrong"}).status_code == 401


def test_right_key_is_let_in(guarded: TestClient) -> None:
    response = guarded.post("/predict", json=record(), headers={"X-API-Key": KEY})
    assert response.status_code == 200
    assert guarded.get("/model", headers={"X-API-Key": KEY}).status_code == 200


@pytest.mark.parametrize("path", ["/health", "/ready", "/docs", "/openapi.json"])
def test_probes_and_docs_are_public(guarded: TestClient, path: str) -> None:
    assert guarded.get(path).status_code == 200


def test_cors_allows_only_the_configured_origins(guarded: TestClient, client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = guarded.options("/predict", headers={"Origin": "https://app.example", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    refused = guarded.options("/predict", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers
    closed = client.options("/predict", headers={"Origin": "https://app.example", **preflight})
    assert "access-control-allow-origin" not in closed.headers
