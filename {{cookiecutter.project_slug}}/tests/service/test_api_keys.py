"""Named API keys with scopes (API_KEYS, core/api_keys.py): each route group takes only a key with its scope, the
source of feedback is the key's name, API_KEY keeps working, a root_path cannot open /admin to a predict key, and
feedback without a key is refused where ALLOW_ANONYMOUS_FEEDBACK is false. Every test runs in both serving modes."""

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from .conftest import TASK, make_settings, record, serving_app
from .test_feedback import ACTUALS
from .test_reload import run_in_thread
from conftest import free_port, wait_until_ready

# name -> (scopes, secret), as an operator writes them in API_KEYS.
KEYS = {
    "app": ("predict+feedback", "app-secret-9f2c41"),
    "web": ("predict", "web-secret-41aa07"),
    "ops": ("admin", "ops-secret-77d0e3"),
}
API_KEYS = ",".join(f"{name}:{scopes}:{secret}" for name, (scopes, secret) in KEYS.items())
UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"


def key(name: str | None) -> dict[str, str]:
    return {"X-API-Key": KEYS[name][1]} if name else {}


@pytest.fixture
def keyed(tracking_uri: str, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(serving_app(make_settings(tracking_uri, tmp_path / "keys.db", api_keys=API_KEYS))) as client:
        yield client


def call(client: TestClient, route: str, headers: dict[str, str]) -> httpx2.Response:
    """One request to a route of each group, valid, so that a request let in answers as it would for anyone."""
    if route == "POST /predict":
        return client.post("/predict", json=record(), headers=headers)
    if route == "POST /predict/batch":
        return client.post("/predict/batch", json=[record(), record(colour="blue")], headers=headers)
    if route == "GET /predictions/{id}":
        return client.get(f"/predictions/{UNKNOWN_ID}", headers=headers)
    if route == "POST /feedback":
        return client.post("/feedback", json={"prediction_id": UNKNOWN_ID, "actual": ACTUALS[TASK][0]}, headers=headers)
    if route == "POST /admin/reload":
        return client.post("/admin/reload", headers=headers)
    assert route == "GET /model"
    return client.get("/model", headers=headers)


# route -> (the scope it needs or None for any key, the statuses a let-in request gets).
ROUTES = {
    "POST /predict": ("predict", {200}),
    "POST /predict/batch": ("predict", {200}),
    "GET /predictions/{id}": ("predict", {404}),
    "POST /feedback": ("feedback", {404}),  # an unknown prediction: past the key check, refused by the route
    "POST /admin/reload": ("admin", {200, 202}),  # 202: the registry is read for longer than half a second
    "GET /model": (None, {200}),
}


def expected(route: str, name: str | None) -> set[int]:
    needed, let_in = ROUTES[route]
    if name is None:
        return {401}
    return let_in if needed is None or needed in KEYS[name][0].split("+") else {403}


def test_each_route_group_takes_only_a_key_with_its_scope(keyed: TestClient) -> None:
    """The whole table (route x key with the scope, without it, no key) on one app, so one model load per mode."""
    answers = {(route, name): call(keyed, route, key(name)) for route in ROUTES for name in (*KEYS, None)}
    wrong = {cell: answer.status_code for cell, answer in answers.items() if answer.status_code not in expected(*cell)}
    assert wrong == {}
    for (route, name), response in answers.items():
        if name is None:
            assert response.json()["detail"] == "this route needs an API key: send it as the X-API-Key header"
        elif response.status_code == 403:
            # A sentence naming the key and the scope the route needs; never the secret.
            detail = response.json()["detail"]
            assert f"the key {name} lacks the {ROUTES[route][0]} scope" in detail
            assert KEYS[name][1] not in detail


def test_a_wrong_key_is_401(keyed: TestClient) -> None:
    response = keyed.post("/predict", json=record(), headers={"X-API-Key": "app-secret-9f2c4"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "API-Key"
    assert response.json()["detail"] == "the X-API-Key sent is not one of this service's keys"


def test_feedback_records_the_name_of_the_key_that_sent_it(keyed: TestClient) -> None:
    prediction_id = keyed.post("/predict", json=record(), headers=key("web")).json()["prediction_id"]
    body = {"prediction_id": prediction_id, "actual": ACTUALS[TASK][0]}
    assert keyed.post("/feedback", json=body, headers=key("web")).status_code == 403
    response = keyed.post("/feedback", json=body, headers=key("app"))
    assert response.status_code == 201
    assert response.json()["source"] == "app"
    history = keyed.get(f"/predictions/{prediction_id}", headers=key("web")).json()["feedback"]["history"]
    # The refused request left nothing; the accepted one is recorded under its key's name.
    assert [row["source"] for row in history] == ["app"]


def test_api_key_alone_is_one_key_named_default_with_every_scope(tracking_uri: str, tmp_path: Path) -> None:
    secret = "one-key-for-everything-5e1b"
    settings = make_settings(tracking_uri, tmp_path / "one.db", api_key=secret)
    with TestClient(serving_app(settings)) as client:
        for route, (_, let_in) in ROUTES.items():
            assert call(client, route, {"X-API-Key": secret}).status_code in let_in, route
            assert call(client, route, {}).status_code == 401, route
        prediction_id = client.post("/predict", json=record(), headers={"X-API-Key": secret}).json()["prediction_id"]
        body = {"prediction_id": prediction_id, "actual": ACTUALS[TASK][0]}
        assert client.post("/feedback", json=body, headers={"X-API-Key": secret}).json()["source"] == "default"


def test_under_a_root_path_a_predict_key_still_cannot_reach_admin(tracking_uri: str, tmp_path: Path) -> None:
    """Behind a proxy that strips /predict, uvicorn --root-path /predict puts the prefix back in front of every path:
    POST /admin/reload arrives as /predict/admin/reload, which a rule matching the raw path's prefix would take
    for a predict route."""
    port = free_port()
    app = serving_app(make_settings(tracking_uri, tmp_path / "root.db", api_keys=API_KEYS))
    server, thread = run_in_thread(app, port, root_path="/predict")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/ready")
        with httpx2.Client(base_url=base, timeout=30) as client:
            refused = client.post("/admin/reload", headers=key("web"))
            assert refused.status_code == 403
            assert "lacks the admin scope, which /admin/reload needs" in refused.json()["detail"]
            assert client.post("/admin/reload", headers=key("ops")).status_code in {200, 202}
            assert client.post("/predict", json=record(), headers=key("web")).status_code == 200
            assert client.post("/predict", json=record(), headers=key("ops")).status_code == 403
            assert client.get("/health").status_code == 200  # the probes stay public under the prefix too
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_feedback_without_a_key_is_refused_when_anonymous_feedback_is_off(tracking_uri: str, tmp_path: Path) -> None:
    settings = make_settings(tracking_uri, tmp_path / "closed.db", allow_anonymous_feedback=False)
    with TestClient(serving_app(settings)) as client:
        prediction_id = client.post("/predict", json=record()).json()["prediction_id"]
        response = client.post("/feedback", json={"prediction_id": prediction_id, "actual": ACTUALS[TASK][0]})
        assert response.status_code == 401
        assert "takes no anonymous feedback (ALLOW_ANONYMOUS_FEEDBACK=false)" in response.json()["detail"]
        assert client.get(f"/predictions/{prediction_id}").json()["feedback"]["history"] == []


def test_an_open_service_says_at_start_that_anyone_can_send_feedback(
    tracking_uri: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    open_settings = make_settings(tracking_uri, tmp_path / "open.db", allow_anonymous_feedback=True)
    with caplog.at_level(logging.WARNING, logger="service"), TestClient(serving_app(open_settings)):
        pass
    assert caplog.messages.count("feedback is open to anyone") == 1
    caplog.clear()
    keyed_settings = make_settings(tracking_uri, tmp_path / "keyed.db", api_keys=API_KEYS)
    with caplog.at_level(logging.WARNING, logger="service"), TestClient(serving_app(keyed_settings)):
        pass
    assert "feedback is open to anyone" not in caplog.messages
