"""The one-pass JSON route answers like FastAPI's, and falls back to FastAPI's own route when its internals change."""

import logging
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.service.fast import json_route

from ..conftest import make_settings, record, serving_app


def moved_internals(route: APIRoute) -> Any:
    """What a FastAPI upgrade that renamed `body_field` would look like to the route."""
    raise AttributeError("'APIRoute' object has no attribute 'body_field'")


def test_changed_fastapi_internals_fall_back_to_the_standard_route_and_say_so(
    tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(serving_app(make_settings(tracking_uri, tmp_path / "a.db"))) as client:
        expected = client.post("/predict", json=record()).json()
    monkeypatch.setattr(json_route, "declared_body_type", moved_internals)
    app = serving_app(make_settings(tracking_uri, tmp_path / "b.db"))
    with caplog.at_level(logging.WARNING, logger="service"), TestClient(app) as client:
        answer = client.post("/predict", json=record())
        refused = client.post("/predict", json=record(colour=3))
    assert any("FastAPI's standard route serves" in message for message in caplog.messages)
    assert answer.status_code == 200
    assert {k: v for k, v in answer.json().items() if k != "prediction_id"} == {
        k: v for k, v in expected.items() if k != "prediction_id"
    }
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "colour"]


async def a_dependency() -> int:
    return 1


def test_route_with_a_dependency_is_refused_at_start() -> None:
    async def endpoint(body: dict[str, int], value: Annotated[int, Depends(a_dependency)]) -> None: ...

    route = APIRoute("/x", endpoint, methods=["POST"])
    with pytest.raises(ValueError, match="no dependencies"):
        json_route.declared_body_type(route)
